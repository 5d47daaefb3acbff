package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

// TestCommands runs migrate, expire and verify against a real SQLite
// store: points earned long ago expire, verify passes, and verify fails
// with a report once a balance is tampered with.
func TestCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "TREUE_DATA_DIR" {
			return dir
		}
		return ""
	}
	ctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, getenv, &out)
		return out.String(), err
	}

	if out, err := ctl("migrate"); err != nil || !strings.Contains(out, "schema up to date") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	// Points earned three months ago under a one-month expiry are due now.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().AddDate(0, -3, 0)
	svc := loyalty.NewService(st, loyalty.WithClock(func() time.Time { return past }))
	seed := storetest.DemoSeed("cafe")
	seed.Program.Expiry = loyalty.ExpiryPolicy{MonthsAfterMonthEnd: 1}
	if err := svc.ApplySeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, storetest.TillKey("cafe"))
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe", UID: "u"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 4200, Currency: "EUR", IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if _, err := ctl("expire"); err == nil {
		t.Fatal("expire without --now ran")
	}
	if out, err := ctl("expire", "--now"); err != nil || !strings.Contains(out, "expired 42 points of 1 members") {
		t.Fatalf("expire --now: %v\n%s", err, out)
	}
	if out, err := ctl("expire", "--now"); err != nil || !strings.Contains(out, "expired 0 points of 0 members") {
		t.Fatalf("second expire --now: %v\n%s", err, out)
	}
	if out, err := ctl("verify"); err != nil || !strings.Contains(out, "every invariant holds") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	// Tamper with a balance behind the ledger's back.
	db, err := sql.Open("sqlite", filepath.Join(dir, "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE accounts SET balance = balance + 7"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err := ctl("verify")
	if err == nil || !strings.Contains(out, "INVARIANTS BROKEN") || !strings.Contains(out, "balance 7") {
		t.Fatalf("verify after tampering: %v\n%s", err, out)
	}

	for _, bad := range [][]string{nil, {"frobnicate"}, {"verify", "extra"}, {"-nope"}} {
		if _, err := ctl(bad...); err == nil {
			t.Errorf("treuectl %q succeeded", bad)
		}
	}
}
