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
	buy := func(lines ...Line) Purchase {
		return Purchase{ID: "p1", At: at(t, "2026-05-04 09:00"), AmountMinor: 100, Lines: lines}
	}
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
	type totals = map[string]int64
	cases := []struct {
		name     string
		stamps   totals // Member.Stamps before p
		p        Purchase
		vouchers []VoucherGrant
		progress []Progress
		totals   totals
	}{
		{"first stamps", nil, buy(coffee(3)), nil, progress(3, 0), totals{"coffee": 3}},
		{"SKU or category", nil, buy(coffee(1), latte(2), pastry(1)), nil, progress(3, 1), totals{"coffee": 3, "pastry": 1}},
		{"a line matching both counts once", nil, buy(Line{SKU: "latte", Category: "coffee", Quantity: 2}), nil, progress(2, 0), totals{"coffee": 2}},
		{"other items", totals{"coffee": 4}, buy(Line{SKU: "tea", Category: "tea", Quantity: 4}, Line{Quantity: 4}), nil, progress(4, 0), nil},
		{"returned lines count nothing", nil, buy(coffee(0), coffee(-2), latte(1)), nil, progress(1, 0), totals{"coffee": 1}},
		{"returned lines only", totals{"coffee": 9}, buy(coffee(-1), coffee(0)), nil, progress(9, 0), nil},
		{"stamps add to the stored ones", totals{"coffee": 7}, buy(coffee(2)), nil, progress(9, 0), totals{"coffee": 9}},
		{"card full", totals{"coffee": 9}, buy(coffee(1)), []VoucherGrant{coffeeVoucher(1)}, progress(0, 0), totals{"coffee": 10}},
		{"two vouchers in one purchase", totals{"coffee": 8}, buy(coffee(12), latte(1)),
			[]VoucherGrant{coffeeVoucher(1), coffeeVoucher(2)}, progress(1, 0), totals{"coffee": 21}},
		{"earlier vouchers not again", totals{"coffee": 15}, buy(coffee(3)), nil, progress(8, 0), totals{"coffee": 18}},
		{"next voucher numbered on", totals{"coffee": 18}, buy(coffee(2)), []VoucherGrant{coffeeVoucher(2)}, progress(0, 0), totals{"coffee": 20}},
		{"progress modulo", totals{"coffee": 23, "pastry": 11}, buy(coffee(1)), nil, progress(4, 1), totals{"coffee": 24}},
		{"two cards at once", totals{"coffee": 9, "pastry": 4}, buy(coffee(1), pastry(1)),
			[]VoucherGrant{coffeeVoucher(1), pastryVoucher}, progress(0, 0), totals{"coffee": 10, "pastry": 5}},
		{"unknown cards ignored", totals{"gone": 99}, buy(pastry(2)), nil, progress(0, 2), totals{"pastry": 2}},
		{"negative stored count is 0", totals{"coffee": -5}, buy(coffee(10)), []VoucherGrant{coffeeVoucher(1)}, progress(0, 0), totals{"coffee": 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Member{ID: "m1", Stamps: c.stamps}
			vouchers, progress, totals := StampCards(r, m, c.p)
			if diff := cmp.Diff(c.vouchers, vouchers); diff != "" {
				t.Errorf("vouchers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.progress, progress); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.totals, totals); diff != "" {
				t.Errorf("totals (-want +got):\n%s", diff)
			}
			// The same purchase from the same state, a retry, gives the
			// same keys; from the stored totals, none again.
			if again, _, _ := StampCards(r, m, c.p); !cmp.Equal(again, vouchers) {
				t.Errorf("again from the same state: %+v, want %+v", again, vouchers)
			}
			m.Stamps = totals
			if after, _, _ := StampCards(r, m, Purchase{ID: "p2"}); len(after) != 0 {
				t.Errorf("a purchase without stamps after it: vouchers %+v, want none", after)
			}
		})
	}
}

func TestStampCardsNone(t *testing.T) {
	t.Parallel()
	v, p, totals := StampCards(Rules{StampCards: []StampCard{{ID: "broken", Stamps: 0, Categories: []string{"coffee"}}}}, Member{ID: "m1"},
		Purchase{ID: "p1", Lines: []Line{{Category: "coffee", Quantity: 3}}})
	if v != nil || p != nil || totals != nil {
		t.Errorf("StampCards with a card of 0 stamps = %v, %v, %v, want none", v, p, totals)
	}
}
