package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
	"github.com/treue/treue/wallet/applepass"
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

// TestDevCerts runs dev-certs twice in the data directory and once with
// -dir: it creates the development identity, then shows the same one, and
// always says that no real iPhone accepts it.
func TestDevCerts(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	getenv := func(k string) string {
		if k == "TREUE_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	ctl := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), args, getenv, &out); err != nil {
			t.Fatalf("treuectl %q: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	dir := filepath.Join(dataDir, "dev-certs")
	first := ctl("dev-certs")
	for _, want := range []string{
		"(created)",
		filepath.Join(dir, applepass.DevRootFile),
		filepath.Join(dir, applepass.DevWWDRFile),
		filepath.Join(dir, applepass.DevPassCertFile),
		filepath.Join(dir, applepass.DevPassKeyFile),
		applepass.DevPassTypeID,
		"no real iPhone accepts",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first dev-certs output lacks %q:\n%s", want, first)
		}
	}
	cert, err := os.ReadFile(filepath.Join(dir, applepass.DevPassCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(first, "PRIVATE KEY") || strings.Contains(first, "BEGIN") {
		t.Errorf("dev-certs prints key or certificate material:\n%s", first)
	}

	second := ctl("dev-certs")
	if !strings.Contains(second, "(existing, still valid)") || !strings.Contains(second, "no real iPhone accepts") {
		t.Errorf("second dev-certs output:\n%s", second)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, applepass.DevPassCertFile)); !bytes.Equal(again, cert) {
		t.Error("second dev-certs replaced the certificate")
	}

	other := filepath.Join(t.TempDir(), "elsewhere")
	if out := ctl("dev-certs", "-dir", other); !strings.Contains(out, filepath.Join(other, applepass.DevPassKeyFile)) {
		t.Errorf("dev-certs -dir output:\n%s", out)
	}
	if _, err := applepass.LoadIdentity(filepath.Join(other, applepass.DevPassCertFile), filepath.Join(other, applepass.DevPassKeyFile), "", filepath.Join(other, applepass.DevWWDRFile)); err != nil {
		t.Errorf("the files dev-certs wrote do not load: %v", err)
	}

	for _, bad := range [][]string{{"dev-certs", "extra"}, {"dev-certs", "-nope"}} {
		if err := run(context.Background(), bad, getenv, io.Discard); err == nil {
			t.Errorf("treuectl %q succeeded", bad)
		}
	}
}
