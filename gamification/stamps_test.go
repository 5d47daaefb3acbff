package gamification

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStampCards(t *testing.T) {
	t.Parallel()
	r := Rules{StampCards: []StampCard{
		{ID: "coffee", Name: Text{DE: "Kaffee", EN: "Coffee"}, Stamps: 10, SKUs: []string{"latte"}, Categories: []string{"coffee"}, RewardID: "free-coffee"},
		{ID: "pastry", Name: Text{DE: "Gebäck"}, Stamps: 5, Categories: []string{"pastry"}, RewardID: "free-pastry"},
	}}
	buy := func(id string, lines ...Line) Purchase { return Purchase{ID: id, AmountMinor: 100, Lines: lines} }
	coffee := func(n int64) Line { return Line{SKU: "filter", Category: "coffee", Quantity: n} }
	latte := func(n int64) Line { return Line{SKU: "latte", Category: "milk", Quantity: n} }
	pastry := func(n int64) Line { return Line{SKU: "croissant", Category: "pastry", Quantity: n} }
	coffeeVoucher := func(n int) VoucherGrant {
		return VoucherGrant{RewardID: "free-coffee", CardID: "coffee",
			Reason: Text{DE: "Stempelkarte „Kaffee“ voll", EN: "Stamp card “Coffee” complete"},
			Key:    fmt.Sprintf("stamp:coffee:%d", n)}
	}
	pastryVoucher := VoucherGrant{RewardID: "free-pastry", CardID: "pastry",
		Reason: Text{DE: "Stempelkarte „Gebäck“ voll", EN: "Stamp card “Gebäck” complete"}, Key: "stamp:pastry:1"}
	progress := func(c, p int64) []Progress {
		return []Progress{
			{ID: "coffee", Current: c, Target: 10, Text: Text{DE: fmt.Sprintf("%d von 10 Stempeln", c), EN: fmt.Sprintf("%d of 10 stamps", c)}},
			{ID: "pastry", Current: p, Target: 5, Text: Text{DE: fmt.Sprintf("%d von 5 Stempeln", p), EN: fmt.Sprintf("%d of 5 stamps", p)}},
		}
	}
	cases := []struct {
		name     string
		h        History // before p
		p        Purchase
		vouchers []VoucherGrant
		progress []Progress
	}{
		{"first stamps", nil, buy("p1", coffee(3)), nil, progress(3, 0)},
		{"SKU or category", nil, buy("p1", coffee(1), latte(2), pastry(1)), nil, progress(3, 1)},
		{"a line matching both counts once", nil, buy("p1", Line{SKU: "latte", Category: "coffee", Quantity: 2}), nil, progress(2, 0)},
		{"other items", nil, buy("p1", Line{SKU: "tea", Category: "tea", Quantity: 4}, Line{Quantity: 4}), nil, progress(0, 0)},
		{"returned lines", nil, buy("p1", coffee(0), coffee(-2), latte(1)), nil, progress(1, 0)},
		{"stamps add up across the history", History{buy("p1", coffee(4)), buy("p2", latte(3))}, buy("p3", coffee(2)), nil, progress(9, 0)},
		{"card full", History{buy("p1", coffee(9))}, buy("p2", coffee(1)), []VoucherGrant{coffeeVoucher(1)}, progress(0, 0)},
		{"two vouchers in one purchase", History{buy("p1", coffee(8))}, buy("p2", coffee(12), latte(1)),
			[]VoucherGrant{coffeeVoucher(1), coffeeVoucher(2)}, progress(1, 0)},
		{"earlier vouchers not again", History{buy("p1", coffee(10)), buy("p2", coffee(5))}, buy("p3", coffee(3)), nil, progress(8, 0)},
		{"next voucher numbered on", History{buy("p1", coffee(18))}, buy("p2", coffee(2)), []VoucherGrant{coffeeVoucher(2)}, progress(0, 0)},
		{"two cards at once", History{buy("p1", coffee(9), pastry(4))}, buy("p2", coffee(1), pastry(1)),
			[]VoucherGrant{coffeeVoucher(1), pastryVoucher}, progress(0, 0)},
		{"returned in the history", History{buy("p1", coffee(0))}, buy("p2", coffee(1)), nil, progress(1, 0)},
	}
	for _, c := range cases {
		for _, withP := range []bool{true, false} {
			h := c.h
			if withP {
				h = append(h[:len(h):len(h)], c.p)
			}
			vouchers, progress := StampCards(r, h, c.p)
			if diff := cmp.Diff(c.vouchers, vouchers); diff != "" {
				t.Errorf("%s (p in h: %v): vouchers (-want +got):\n%s", c.name, withP, diff)
			}
			if diff := cmp.Diff(c.progress, progress); diff != "" {
				t.Errorf("%s (p in h: %v): progress (-want +got):\n%s", c.name, withP, diff)
			}
		}
	}
}

func TestStampCardsNone(t *testing.T) {
	t.Parallel()
	v, p := StampCards(Rules{StampCards: []StampCard{{ID: "broken", Stamps: 0, Categories: []string{"coffee"}}}}, nil,
		Purchase{ID: "p1", Lines: []Line{{Category: "coffee", Quantity: 3}}})
	if v != nil || p != nil {
		t.Errorf("StampCards with a card of 0 stamps = %v, %v, want none", v, p)
	}
}
