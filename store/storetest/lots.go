package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// lotTests check that spends take points from lots, soonest expiry first.
var lotTests = []test{
	{"SpendOldestExpiryFirst", testSpendOldestExpiryFirst},
	{"PendingPoints", testPendingPoints},
	{"ReverseTakesOwnLotFirst", testReverseTakesOwnLotFirst},
}

// seedExpiring applies DemoSeed(programID) with points expiring one month
// after the end of the month they were earned in, Berlin time, and pending
// for pendingDays; it returns the till.
func (e *env) seedExpiring(programID string, pendingDays int) loyalty.Till {
	e.t.Helper()
	s := DemoSeed(programID)
	s.Program.TimeZone = "Europe/Berlin"
	s.Program.Expiry = loyalty.ExpiryPolicy{MonthsAfterMonthEnd: 1}
	s.Program.PendingDays = pendingDays
	e.must(e.svc.ApplySeed(e.ctx, s))
	till, err := e.svc.AuthenticateTill(e.ctx, TillKey(programID))
	e.must(err)
	return till
}

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// openLots returns the member's open lots as (remaining, expiry) pairs.
func (e *env) openLots(card loyalty.Card) []lotView {
	e.t.Helper()
	var out []lotView
	e.view(func(tx loyalty.Tx) error {
		lots, err := tx.OpenLots(e.ctx, card.Member.ProgramID, card.Member.ID)
		for _, l := range lots {
			out = append(out, lotView{l.Remaining, l.ExpiresAt})
		}
		return err
	})
	return out
}

type lotView struct {
	Remaining int64
	Expires   time.Time
}

func testSpendOldestExpiryFirst(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 3000, "june") // earned 1 June 2025: expires 1 August
	e.clock.Advance(35 * 24 * time.Hour)
	e.earn(till, card, 2000, "july") // 6 July: expires 1 September
	e.redeem(card, "keks", "r1")     // 10 from the June lot

	aug := time.Date(2025, 8, 1, 0, 0, 0, 0, berlin).UTC()
	sep := time.Date(2025, 9, 1, 0, 0, 0, 0, berlin).UTC()
	if diff := cmp.Diff([]lotView{{20, aug}, {20, sep}}, e.openLots(card)); diff != "" {
		t.Fatalf("open lots (-want +got):\n%s", diff)
	}
	got, err := e.svc.Card(e.ctx, customer(card))
	e.must(err)
	want := loyalty.Standing{Balance: 40, Available: 40, Spendable: 40, NextExpiry: aug, NextExpiryPoints: 20, ChangesAt: aug}
	if diff := cmp.Diff(want, got.Standing); diff != "" {
		t.Errorf("standing (-want +got):\n%s", diff)
	}
	// 30 more: the 20 left of June, then 10 of July.
	e.redeem(card, "keks", "r2")
	e.redeem(card, "keks", "r3")
	e.redeem(card, "keks", "r4")
	if diff := cmp.Diff([]lotView{{10, sep}}, e.openLots(card)); diff != "" {
		t.Fatalf("open lots after spending 30 more (-want +got):\n%s", diff)
	}
}

func testPendingPoints(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 14)
	card := e.enroll("cafe-a", "u1")
	first := e.earn(till, card, 5000, "e1")
	got, err := e.svc.Card(e.ctx, customer(card))
	e.must(err)
	if st := got.Standing; st.Balance != 50 || st.Pending != 50 || st.Available != 0 {
		t.Fatalf("standing right after the purchase = %+v, want 50 pending, 0 available", st)
	}
	_, err = e.svc.RedeemReward(e.ctx, customer(card), "keks", "too-early")
	wantErr(t, err, loyalty.ErrInsufficientPoints)

	// A return within the window takes the pending points back in full.
	e.clock.Advance(7 * 24 * time.Hour)
	rev, err := e.svc.Reverse(e.ctx, till, loyalty.ReverseRequest{PurchaseID: first.PurchaseID, IdempotencyKey: "ret"})
	e.must(err)
	if rev.Points != 50 || rev.Unrecovered != 0 || rev.Balance != 0 {
		t.Fatalf("Reverse within the pending window = %+v, want all 50 back", rev)
	}

	e.earn(till, card, 2000, "e2")
	e.clock.Advance(14*24*time.Hour - time.Second)
	_, err = e.svc.RedeemReward(e.ctx, customer(card), "keks", "one-second-early")
	wantErr(t, err, loyalty.ErrInsufficientPoints)
	e.clock.Advance(time.Second)
	if red := e.redeem(card, "keks", "on-time"); red.Balance != 10 {
		t.Fatalf("redeem after the pending days: balance %d, want 10", red.Balance)
	}
}

func testReverseTakesOwnLotFirst(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u1")
	a := e.earn(till, card, 10_000, "a") // 100 points
	e.redeem(card, "kuchen", "cake")     // 80 of them spent
	e.clock.Advance(time.Hour)
	e.earn(till, card, 5000, "b") // 50 more, in their own lot
	rev, err := e.svc.Reverse(e.ctx, till, loyalty.ReverseRequest{PurchaseID: a.PurchaseID, IdempotencyKey: "ret"})
	e.must(err)
	// 100 due: the 20 left of a's lot, then 50 of b's; 30 were spent.
	if rev.Points != 70 || rev.Unrecovered != 30 || rev.Balance != 0 {
		t.Fatalf("Reverse = %+v, want 70 taken, 30 unrecovered, balance 0", rev)
	}
	if lots := e.openLots(card); len(lots) != 0 {
		t.Fatalf("open lots after the return: %v, want none", lots)
	}
	s := e.state(card)
	if r := s.Entries[0].Reason(loyalty.LocaleDE); r != "Rückgabe über 100,00 € (30 Punkte waren schon eingelöst)" {
		t.Errorf("reason = %q", r)
	}
}
