package postgres

import (
	"strings"
	"testing"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/storetest"
)

// TestCheckInvariantsFindsViolations corrupts a ledger behind the Store's
// back and expects CheckInvariants to say what is wrong.
func TestCheckInvariantsFindsViolations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	svc := loyalty.NewService(s)
	if err := svc.ApplySeed(ctx, storetest.DemoSeed("cafe-a")); err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, storetest.TillKey("cafe-a"))
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k1", "k2", "k3"} {
		if _, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.RedeemReward(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, "keks", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("CheckInvariants on a consistent ledger: %v", err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	m := card.Member.ID
	cases := []struct {
		name, corrupt, repair, want string
	}{
		{"balance", "UPDATE accounts SET balance = balance + 5", "UPDATE accounts SET balance = balance - 5",
			"balance == sum(entries): account cafe-a/" + m + ": balance 25, entries sum to 20"},
		{"negative", "ALTER TABLE accounts DROP CONSTRAINT accounts_balance_check; UPDATE accounts SET balance = -1",
			"UPDATE accounts SET balance = 20; ALTER TABLE accounts ADD CHECK (balance BETWEEN 0 AND 4611686018427387904)",
			"balance >= 0: account cafe-a/" + m + ": balance -1"},
		{"chain", "UPDATE entries SET balance_after = balance_after + 1 WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET balance_after = balance_after - 1 WHERE id = (SELECT min(id) FROM entries)", "balance_after chain"},
		{"points", "UPDATE entries SET points = 11 WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET points = 10 WHERE id = (SELECT min(id) FROM entries)", "balance == sum(entries)"},
		{"lots", "UPDATE lots SET remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)",
			"balance == sum(lots remaining): account cafe-a/" + m + ": balance 20, lots hold 19"},
		{"lot", "UPDATE lots SET remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)", "lot remaining == points - sum(uses): lot"},
		{"use", "UPDATE lot_uses SET points = points - 1", "UPDATE lot_uses SET points = points + 1", "entry uses == -points: entry"},
		{"credit", "UPDATE lots SET points = points + 1, remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET points = points - 1, remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)", "credit has one lot: entry"},
		{"purchase", "UPDATE entries SET kind = 'bonus' WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET kind = 'earn' WHERE id = (SELECT min(id) FROM entries)", "purchase has one earn entry: purchase cafe-a/"},
		{"key", "UPDATE idempotency SET entry_id = entry_id - 1 WHERE key = 'k2'",
			"UPDATE idempotency SET entry_id = entry_id + 1 WHERE key = 'k2'", "2 idempotency records name it"},
		{"key entry", "UPDATE idempotency SET entry_id = entry_id + 1000000 WHERE key = 'k2'",
			"UPDATE idempotency SET entry_id = entry_id - 1000000 WHERE key = 'k2'", "1 idempotency records name it, and it does not exist"},
		{"hold", `INSERT INTO holds (program_id, id, member_id, till_id, points, status, captured, created_at, expires_at)
			VALUES ('cafe-a', 'h1', '` + m + `', 'till-cafe-a', 21, 'active', 0, now(), '3000-01-01Z')`,
			"DELETE FROM holds", "holds covered by lots: member cafe-a/" + m + ": active holds reserve 21 points, lots hold 20"},
	}
	for _, c := range cases {
		exec(c.corrupt)
		err := s.CheckInvariants(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s corrupted: CheckInvariants = %v, want an error containing %q", c.name, err, c.want)
		}
		exec(c.repair)
		if err := s.CheckInvariants(ctx); err != nil {
			t.Fatalf("after repairing %s: %v", c.name, err)
		}
	}
	// A hold within what the lots hold, and one that expired, are fine.
	exec(`INSERT INTO holds (program_id, id, member_id, till_id, points, status, captured, created_at, expires_at) VALUES
		('cafe-a', 'h1', '` + m + `', 'till-cafe-a', 20, 'active', 0, '2000-01-01Z', '3000-01-01Z'),
		('cafe-a', 'h2', '` + m + `', 'till-cafe-a', 1000, 'active', 0, '2000-01-01Z', '2000-01-01Z')`)
	if err := s.CheckInvariants(ctx); err != nil {
		t.Errorf("holds the lots cover: %v", err)
	}
}
