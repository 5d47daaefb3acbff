package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

func testEarn(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	lines := []loyalty.LineItem{
		{SKU: "kaffee-gross", Name: "Kaffee groß", Category: "Getränke", Quantity: 2, AmountMinor: 700},
		{SKU: "croissant", Quantity: 1, AmountMinor: 599},
	}
	res, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{
		CardNumber: card.Member.CardNumber, AmountMinor: 1299, Currency: "EUR", IdempotencyKey: "earn-1", ReceiptID: "R-1", Lines: lines,
	})
	e.must(err)
	if res.Points != 12 || res.Balance != 12 || res.MemberID != card.Member.ID || res.PurchaseID == "" || res.EntryID <= 0 {
		t.Fatalf("Earn(12.99 EUR) = %+v; want 12 points, balance 12, member %s, a purchase and an entry", res, card.Member.ID)
	}
	at := e.now()
	wantEntry := loyalty.Entry{
		ID: res.EntryID, ProgramID: "cafe-a", MemberID: card.Member.ID, Kind: loyalty.EntryEarn, Points: 12, BalanceAfter: 12, Version: 1,
		CreatedAt: at, PurchaseID: res.PurchaseID, Detail: loyalty.EntryDetail{AmountMinor: 1299, Currency: "EUR", ReceiptID: "R-1"},
	}
	s := e.state(card)
	if diff := cmp.Diff([]loyalty.Entry{wantEntry}, s.Entries); diff != "" {
		t.Errorf("entries after Earn (-want +got):\n%s", diff)
	}
	if want := (loyalty.Account{ProgramID: "cafe-a", MemberID: card.Member.ID, Balance: 12, Version: 1, UpdatedAt: at}); !cmp.Equal(want, s.Account) {
		t.Errorf("account after Earn = %+v, want %+v", s.Account, want)
	}
	if got, want := s.Entries[0].Reason(loyalty.LocaleDE), "Einkauf über 12,99 €"; got != want {
		t.Errorf("reason (de) = %q, want %q", got, want)
	}
	if got, want := s.Entries[0].Reason(loyalty.LocaleEN), "Purchase of €12.99"; got != want {
		t.Errorf("reason (en) = %q, want %q", got, want)
	}
	wantPurchase := loyalty.Purchase{
		ProgramID: "cafe-a", ID: res.PurchaseID, MemberID: card.Member.ID, TillID: till.ID, ReceiptID: "R-1",
		AmountMinor: 1299, Currency: "EUR", Points: 12, Lines: lines, CreatedAt: at,
	}
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.Purchase(ctx, "cafe-a", res.PurchaseID)
		if diff := cmp.Diff(wantPurchase, got); err == nil && diff != "" {
			t.Errorf("stored purchase (-want +got):\n%s", diff)
		}
		return err
	})

	// Points are full units only, rounded down; the balance adds up.
	for _, c := range []struct{ amount, points, balance int64 }{{99, 0, 12}, {100, 1, 13}, {250, 2, 15}, {10_000_000, 100_000, 100_015}} {
		e.clock.Advance(time.Minute)
		got := e.earn(till, card, c.amount, fmt.Sprint("earn-", c.amount))
		if got.Points != c.points || got.Balance != c.balance {
			t.Errorf("Earn(%d) = %d points, balance %d; want %d, %d", c.amount, got.Points, got.Balance, c.points, c.balance)
		}
	}
	if got := e.balance(card); got != 100_015 {
		t.Errorf("balance = %d, want 100015", got)
	}
	if got := len(e.state(card).Entries); got != 5 {
		t.Errorf("%d entries, want 5", got)
	}
}

func testEarnReplay(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	req := loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 1299, Currency: "EUR", IdempotencyKey: "earn-1", ReceiptID: "R-1"}
	first, err := e.svc.Earn(ctx, till, req)
	e.must(err)
	before := e.state(card)

	// A retry, even later and with the card number typed differently,
	// returns the first result and writes nothing.
	e.clock.Advance(time.Hour)
	retry := req
	retry.CardNumber = card.Member.CardNumber[:4] + " " + card.Member.CardNumber[4:]
	for range 3 {
		again, err := e.svc.Earn(ctx, till, retry)
		e.must(err)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("replayed Earn (-first +replay):\n%s", diff)
		}
	}
	e.unchanged(card, before)

	// The same key with other parameters is a conflict.
	other := req
	other.AmountMinor = 1300
	_, err = e.svc.Earn(ctx, till, other)
	wantErr(t, err, loyalty.ErrConflict)
	other = req
	other.ReceiptID = "R-2"
	_, err = e.svc.Earn(ctx, till, other)
	wantErr(t, err, loyalty.ErrConflict)
	e.unchanged(card, before)

	// The same receipt under another key is a conflict.
	other = req
	other.IdempotencyKey = "earn-2"
	_, err = e.svc.Earn(ctx, till, other)
	wantErr(t, err, loyalty.ErrConflict)
	e.unchanged(card, before)

	// The refused key stays free: used for a new purchase it earns.
	other.ReceiptID = "R-2"
	res, err := e.svc.Earn(ctx, till, other)
	e.must(err)
	if res.Balance != 24 || res.PurchaseID == first.PurchaseID {
		t.Errorf("new purchase under a refused key = %+v, want balance 24 and a new purchase", res)
	}
}

func testEarnRefused(t *testing.T, e *env) {
	ctx := e.ctx
	tillA, tillB := e.seed("cafe-a"), e.seed("cafe-b")
	card := e.enroll("cafe-a", "u1")
	n := card.Member.CardNumber
	wrongDigit := n[:15] + string('0'+(n[15]-'0'+1)%10)
	valid := func() loyalty.EarnRequest {
		return loyalty.EarnRequest{CardNumber: n, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: "earn-1", ReceiptID: "R-1"}
	}
	cases := []struct {
		name   string
		till   loyalty.Till
		change func(r *loyalty.EarnRequest)
		want   error
		text   string
	}{
		{"other currency", tillA, func(r *loyalty.EarnRequest) { r.Currency = "USD" }, loyalty.ErrInvalid, "EUR"},
		{"malformed currency", tillA, func(r *loyalty.EarnRequest) { r.Currency = "eur" }, loyalty.ErrInvalid, ""},
		{"above program max", tillA, func(r *loyalty.EarnRequest) { r.AmountMinor = 10_000_001 }, loyalty.ErrInvalid, ""},
		{"above any max", tillA, func(r *loyalty.EarnRequest) { r.AmountMinor = loyalty.MaxAmountMinor + 1 }, loyalty.ErrInvalid, ""},
		{"zero amount", tillA, func(r *loyalty.EarnRequest) { r.AmountMinor = 0 }, loyalty.ErrInvalid, ""},
		{"negative amount", tillA, func(r *loyalty.EarnRequest) { r.AmountMinor = -100 }, loyalty.ErrInvalid, ""},
		{"short card", tillA, func(r *loyalty.EarnRequest) { r.CardNumber = n[:15] }, loyalty.ErrInvalid, ""},
		{"card with letters", tillA, func(r *loyalty.EarnRequest) { r.CardNumber = "9276abcd" + n[8:] }, loyalty.ErrInvalid, ""},
		{"wrong check digit", tillA, func(r *loyalty.EarnRequest) { r.CardNumber = wrongDigit }, loyalty.ErrInvalid, "check digit"},
		{"no key", tillA, func(r *loyalty.EarnRequest) { r.IdempotencyKey = "" }, loyalty.ErrInvalid, ""},
		{"key with space", tillA, func(r *loyalty.EarnRequest) { r.IdempotencyKey = "earn 1" }, loyalty.ErrInvalid, ""},
		{"line without sku", tillA, func(r *loyalty.EarnRequest) { r.Lines = []loyalty.LineItem{{Quantity: 1, AmountMinor: 1000}} }, loyalty.ErrInvalid, "sku"},
		{"line with zero quantity", tillA, func(r *loyalty.EarnRequest) { r.Lines = []loyalty.LineItem{{SKU: "x", AmountMinor: 1000}} }, loyalty.ErrInvalid, "quantity"},
		{"receipt with control character", tillA, func(r *loyalty.EarnRequest) { r.ReceiptID = "R\n1" }, loyalty.ErrInvalid, ""},
		{"unknown card", tillA, func(r *loyalty.EarnRequest) { r.CardNumber = testCard(424242) }, loyalty.ErrNotFound, ""},
		{"other program's till", tillB, func(r *loyalty.EarnRequest) {}, loyalty.ErrNotFound, ""},
	}
	before := e.state(card)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := valid()
			c.change(&req)
			_, err := e.svc.Earn(ctx, c.till, req)
			wantErr(t, err, c.want)
			if c.text != "" && !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q does not mention %q", err, c.text)
			}
			e.unchanged(card, before)
		})
	}
	// After all refusals, the key and receipt are still free.
	res := e.earn(tillA, card, 1000, "earn-1")
	if res.Points != 10 {
		t.Errorf("Earn after refusals = %+v, want 10 points", res)
	}
}
