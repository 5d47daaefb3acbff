package storetest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// purchase returns the stored purchase.
func (e *env) purchase(programID, id string) loyalty.Purchase {
	e.t.Helper()
	var p loyalty.Purchase
	e.view(func(tx loyalty.Tx) (err error) { p, err = tx.Purchase(e.ctx, programID, id); return err })
	return p
}

func testReverseFull(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	earned := e.earn(till, card, 1299, "earn-1")
	res, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, IdempotencyKey: "rev-1"})
	e.must(err)
	want := loyalty.ReverseResult{PurchaseID: earned.PurchaseID, MemberID: card.Member.ID, Points: 12, Balance: 0, ReturnedMinor: 1299, EntryID: res.EntryID}
	if diff := cmp.Diff(want, res); diff != "" || res.EntryID <= earned.EntryID {
		t.Errorf("Reverse in full (-want +got):\n%s", diff)
	}
	s := e.state(card)
	wantEntry := loyalty.Entry{
		ID: res.EntryID, ProgramID: "cafe-a", MemberID: card.Member.ID, Kind: loyalty.EntryReverse, Points: -12, BalanceAfter: 0, Version: 2,
		CreatedAt: e.now(), PurchaseID: earned.PurchaseID, Detail: loyalty.EntryDetail{AmountMinor: 1299, Currency: "EUR"},
	}
	if diff := cmp.Diff(wantEntry, s.Entries[0]); diff != "" {
		t.Errorf("reverse entry (-want +got):\n%s", diff)
	}
	if got, want := s.Entries[0].Reason(loyalty.LocaleEN), "Return of €12.99"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if p := e.purchase("cafe-a", earned.PurchaseID); p.ReturnedMinor != 1299 || p.ReversedPoints != 12 {
		t.Errorf("purchase after a full return: returned %d, reversed %d; want 1299, 12", p.ReturnedMinor, p.ReversedPoints)
	}
	_, err = e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, IdempotencyKey: "rev-2"})
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	_, err = e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 1, IdempotencyKey: "rev-3"})
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	e.unchanged(card, s)
}

func testReversePartial(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 5000, "earn-0") // 50 points that stay
	earned := e.earn(till, card, 1000, "earn-1")
	if earned.Points != 10 {
		t.Fatalf("Earn(10.00 EUR) = %d points, want 10", earned.Points)
	}
	// 333 + 333 + 334 cents take back 3 + 3 + 4 points: exactly the 10 earned.
	steps := []struct{ amount, points, returned, balance int64 }{
		{333, 3, 333, 57},
		{333, 3, 666, 54},
		{334, 4, 1000, 50},
	}
	var total int64
	for i, st := range steps {
		res, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{
			PurchaseID: earned.PurchaseID, AmountMinor: st.amount, Currency: "EUR", IdempotencyKey: fmt.Sprint("rev-", i),
		})
		e.must(err)
		if res.Points != st.points || res.ReturnedMinor != st.returned || res.Balance != st.balance || res.Unrecovered != 0 {
			t.Errorf("return %d of %d cents = %+v; want %d points, %d returned, balance %d",
				i+1, st.amount, res, st.points, st.returned, st.balance)
		}
		total += res.Points
	}
	if total != earned.Points {
		t.Errorf("the parts took back %d points, want the %d earned", total, earned.Points)
	}
	if p := e.purchase("cafe-a", earned.PurchaseID); p.ReturnedMinor != 1000 || p.ReversedPoints != 10 {
		t.Errorf("purchase: returned %d, reversed %d; want 1000, 10", p.ReturnedMinor, p.ReversedPoints)
	}

	// Uneven parts add up exactly too: nine returns of 100 cents and the
	// rest (amount 0) of a 9.97 EUR purchase take back its 9 points.
	odd := e.earn(till, card, 997, "earn-2")
	before := e.balance(card)
	for i := range 10 {
		amount := int64(100)
		if i == 9 {
			amount = 0
		}
		_, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: odd.PurchaseID, AmountMinor: amount, IdempotencyKey: fmt.Sprint("part-", i)})
		e.must(err)
	}
	if got := before - e.balance(card); got != odd.Points || odd.Points != 9 {
		t.Errorf("ten returns of a 997-cent purchase took back %d points, want its %d (9)", got, odd.Points)
	}
}

func testReverseBeyondLeft(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	earned := e.earn(till, card, 1000, "earn-1")
	_, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 600, IdempotencyKey: "rev-1"})
	e.must(err)
	s := e.state(card)
	purchase := e.purchase("cafe-a", earned.PurchaseID)
	cases := []struct {
		name string
		req  loyalty.ReverseRequest
		want error
	}{
		{"beyond what is left", loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 401}, loyalty.ErrFailedPrecondition},
		{"beyond the purchase", loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 1001}, loyalty.ErrFailedPrecondition},
		{"other currency", loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 100, Currency: "USD"}, loyalty.ErrInvalid},
		{"negative amount", loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: -1}, loyalty.ErrInvalid},
		{"no purchase named", loyalty.ReverseRequest{AmountMinor: 100}, loyalty.ErrInvalid},
		{"two purchases named", loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, ReceiptID: "R-1"}, loyalty.ErrInvalid},
		{"unknown purchase", loyalty.ReverseRequest{PurchaseID: "pur_nope"}, loyalty.ErrNotFound},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.IdempotencyKey = fmt.Sprint("bad-", i)
			_, err := e.svc.Reverse(ctx, till, c.req)
			wantErr(t, err, c.want)
			e.unchanged(card, s)
			if diff := cmp.Diff(purchase, e.purchase("cafe-a", earned.PurchaseID)); diff != "" {
				t.Errorf("a refused return changed the purchase (-before +after):\n%s", diff)
			}
		})
	}
	// Another program's till cannot see the purchase.
	tillB := e.seed("cafe-b")
	_, err = e.svc.Reverse(ctx, tillB, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, IdempotencyKey: "rev-b"})
	wantErr(t, err, loyalty.ErrNotFound)
	e.unchanged(card, s)

	// What is left can be returned.
	res, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 400, IdempotencyKey: "rev-2"})
	e.must(err)
	if res.ReturnedMinor != 1000 || res.Balance != 0 {
		t.Errorf("return of the rest = %+v, want returned 1000, balance 0", res)
	}
}

func testReverseSpentPoints(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	earned := e.earn(till, card, 10_000, "earn-1") // 100 points
	e.redeem(card, "kaffee", "redeem-1")           // 50 spent
	res, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, IdempotencyKey: "rev-1"})
	e.must(err)
	if res.Points != 50 || res.Unrecovered != 50 || res.Balance != 0 {
		t.Errorf("return after spending = %+v; want 50 points taken, 50 unrecovered, balance 0", res)
	}
	s := e.state(card)
	if s.Account.Balance != 0 {
		t.Errorf("balance = %d, want 0", s.Account.Balance)
	}
	if got, want := s.Entries[0].Reason(loyalty.LocaleDE), "Rückgabe über 100,00 € (50 Punkte waren schon eingelöst)"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if s.Entries[0].Detail.Unrecovered != 50 {
		t.Errorf("entry's unrecovered = %d, want 50", s.Entries[0].Detail.Unrecovered)
	}
	if p := e.purchase("cafe-a", earned.PurchaseID); p.ReversedPoints != 100 {
		t.Errorf("purchase's reversed points = %d, want all 100 (taken or not)", p.ReversedPoints)
	}

	// With nothing left to take, a return still records the purchase's
	// return and takes no points.
	second := e.earn(till, card, 1000, "earn-2") // 10 points
	e.redeem(card, "keks", "redeem-2")           // balance 0
	res, err = e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: second.PurchaseID, IdempotencyKey: "rev-2"})
	e.must(err)
	if res.Points != 0 || res.Unrecovered != 10 || res.Balance != 0 || res.ReturnedMinor != 1000 {
		t.Errorf("return with a zero balance = %+v; want 0 taken, 10 unrecovered", res)
	}
}

func testReverseByReceipt(t *testing.T, e *env) {
	ctx := e.ctx
	tillA, tillB := e.seed("cafe-a"), e.seed("cafe-b")
	card := e.enroll("cafe-a", "u1")
	cardB := e.enroll("cafe-b", "u1")
	earn := func(till loyalty.Till, card loyalty.Card, receipt string) loyalty.EarnResult {
		res, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 2000, Currency: "EUR", IdempotencyKey: "earn-" + receipt, ReceiptID: receipt})
		e.must(err)
		return res
	}
	a := earn(tillA, card, "R-1")
	earn(tillB, cardB, "R-1") // the same receipt id in another program
	res, err := e.svc.Reverse(ctx, tillA, loyalty.ReverseRequest{ReceiptID: "R-1", AmountMinor: 500, IdempotencyKey: "rev-1"})
	e.must(err)
	if res.PurchaseID != a.PurchaseID || res.Points != 5 || res.Balance != 15 {
		t.Errorf("Reverse by receipt = %+v; want purchase %s, 5 points, balance 15", res, a.PurchaseID)
	}
	if got := e.balance(cardB); got != 20 {
		t.Errorf("the other program's member has %d points, want 20 untouched", got)
	}
	_, err = e.svc.Reverse(ctx, tillA, loyalty.ReverseRequest{ReceiptID: "R-2", IdempotencyKey: "rev-2"})
	wantErr(t, err, loyalty.ErrNotFound)
}

func testReverseReplay(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	earned := e.earn(till, card, 1000, "earn-1")
	req := loyalty.ReverseRequest{PurchaseID: earned.PurchaseID, AmountMinor: 500, IdempotencyKey: "rev-1"}
	first, err := e.svc.Reverse(ctx, till, req)
	e.must(err)
	s := e.state(card)
	for range 3 {
		again, err := e.svc.Reverse(ctx, till, req)
		e.must(err)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("replayed Reverse (-first +replay):\n%s", diff)
		}
	}
	e.unchanged(card, s)
	other := req
	other.AmountMinor = 400
	_, err = e.svc.Reverse(ctx, till, other)
	wantErr(t, err, loyalty.ErrConflict)
	// The key of an Earn cannot be replayed as a Reverse.
	other = req
	other.IdempotencyKey = "earn-1"
	_, err = e.svc.Reverse(ctx, till, other)
	wantErr(t, err, loyalty.ErrConflict)
	e.unchanged(card, s)
	if p := e.purchase("cafe-a", earned.PurchaseID); p.ReturnedMinor != 500 {
		t.Errorf("purchase returned %d after replays, want 500", p.ReturnedMinor)
	}
}
