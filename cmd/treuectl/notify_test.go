package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

// TestNotifyDryRun lists the reminder a member's expiring points call for
// and writes nothing: the queue stays empty, and a second run says the
// same.
func TestNotifyDryRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := loyalty.NewService(st)
	seed := storetest.DemoSeed("cafe")
	seed.Program.Expiry = loyalty.ExpiryPolicy{MonthsAfterMonthEnd: 1}
	if err := svc.ApplySeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, storetest.TillKey("cafe"))
	if err != nil {
		t.Fatal(err)
	}
	c := loyalty.Customer{ProgramID: "cafe", UID: "u"}
	card, _, err := svc.Enroll(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 5000, Currency: "EUR", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	card, err = svc.Card(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if card.Standing.NextExpiry.IsZero() {
		t.Fatal("the earned points do not expire")
	}
	st.Close()

	at := card.Standing.NextExpiry.Add(-10 * 24 * time.Hour).Format(time.RFC3339)
	getenv := func(k string) string {
		if k == "TREUE_DATA_DIR" {
			return dir
		}
		return ""
	}
	dryRun := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"notify", "--dry-run", "-program", "cafe", "-at", at}, getenv, &out); err != nil {
			t.Fatalf("notify --dry-run: %v\n%s", err, out.String())
		}
		return out.String()
	}
	first := dryRun()
	if !strings.Contains(first, "would queue at "+at+": 1") || !strings.Contains(first, "points_expiring") || !strings.Contains(first, "verfallen am") {
		t.Fatalf("dry run does not list the expiring points:\n%s", first)
	}
	if second := dryRun(); second != first {
		t.Fatalf("a second dry run differs, so the first wrote something:\n%s\n---\n%s", first, second)
	}
	st, err = sqlite.Open(ctx, filepath.Join(dir, "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if msgs, err := st.Messages(ctx, "cafe", card.Member.ID, 10); err != nil || len(msgs) != 0 {
		t.Fatalf("queue after dry runs: %v, %v; want empty", msgs, err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"notify"}, getenv, &out); err == nil || !strings.Contains(err.Error(), "--dry-run") {
		t.Fatalf("notify without --dry-run: %v, want a refusal naming --dry-run", err)
	}
}
