package loyalty

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestEarnRulePointsFor(t *testing.T) {
	tests := []struct {
		rule   EarnRule
		amount int64
		want   int64
	}{
		{EarnRule{Points: 1, PerMinor: 100}, 1299, 12},
		{EarnRule{Points: 1, PerMinor: 100}, 1200, 12},
		{EarnRule{Points: 1, PerMinor: 100}, 99, 0},
		{EarnRule{Points: 1, PerMinor: 100}, 100, 1},
		{EarnRule{Points: 1, PerMinor: 100}, 0, 0},
		{EarnRule{Points: 1, PerMinor: 100}, -500, 0},
		{EarnRule{Points: 3, PerMinor: 250}, 1000, 12},
		{EarnRule{Points: 3, PerMinor: 250}, 749, 6},
		{EarnRule{Points: 0, PerMinor: 100}, 5000, 0},
		{EarnRule{Points: 1, PerMinor: 0}, 5000, 0},
		{EarnRule{Points: 1, PerMinor: -1}, 5000, 0},
		{EarnRule{Points: maxEarnPoints, PerMinor: 1}, MaxAmountMinor, maxEarnPoints * MaxAmountMinor},
	}
	for _, tt := range tests {
		if got := tt.rule.PointsFor(tt.amount); got != tt.want {
			t.Errorf("%+v.PointsFor(%d) = %d, want %d", tt.rule, tt.amount, got, tt.want)
		}
	}
}

// bigMulDiv is mulDiv computed with math/big.
func bigMulDiv(a, b, c int64) *big.Int {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	return p.Quo(p, big.NewInt(c))
}

func TestMulDiv(t *testing.T) {
	tests := []struct{ a, b, c int64 }{
		{10, 333, 1000},
		{0, 5, 7},
		{5, 0, 7},
		{7, 7, 7},
		{999_999_999, 50_000_000_000, 99_999_999_999}, // a*b overflows int64
		{maxEarnPoints * MaxAmountMinor, MaxAmountMinor - 1, MaxAmountMinor},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64},
		{math.MaxInt64 - 1, 3, 4},
		{1 << 62, 1 << 62, 1 << 61},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		c := r.Int64N(MaxAmountMinor) + 1
		tests = append(tests, struct{ a, b, c int64 }{r.Int64N(maxEarnPoints * MaxAmountMinor), r.Int64N(c + 1), c})
		c = r.Int64() | 1
		tests = append(tests, struct{ a, b, c int64 }{r.Int64(), r.Int64N(c), c})
	}
	for _, tt := range tests {
		want := bigMulDiv(tt.a, tt.b, tt.c)
		if !want.IsInt64() {
			want = big.NewInt(math.MaxInt64)
		}
		if got := mulDiv(tt.a, tt.b, tt.c); got != want.Int64() {
			t.Fatalf("mulDiv(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, got, want)
		}
	}
	// Outside the domain: no panic, 0.
	for _, tt := range []struct{ a, b, c int64 }{{1, 1, 0}, {1, 1, -1}, {-1, 1, 1}, {1, -1, 1}} {
		if got := mulDiv(tt.a, tt.b, tt.c); got != 0 {
			t.Errorf("mulDiv(%d, %d, %d) = %d, want 0", tt.a, tt.b, tt.c, got)
		}
	}
	// A quotient beyond int64 is clamped.
	if got := mulDiv(math.MaxInt64, 2, 1); got != math.MaxInt64 {
		t.Errorf("mulDiv(MaxInt64, 2, 1) = %d, want MaxInt64", got)
	}
}

// TestPointsDueAfterReturnSumsExactly returns purchases in random parts:
// the parts always take back exactly the purchase's points, never more on
// the way, and each part never takes a negative amount.
func TestPointsDueAfterReturnSumsExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	purchases := []Purchase{
		{AmountMinor: 1000, Points: 10},
		{AmountMinor: 997, Points: 9},
		{AmountMinor: 1, Points: 0},
		{AmountMinor: 1, Points: 1},
		{AmountMinor: 3, Points: 1_000_000},
		{AmountMinor: 99_999_999_999, Points: 999_999_999},
		{AmountMinor: MaxAmountMinor, Points: maxEarnPoints * MaxAmountMinor},
	}
	for range 200 {
		amount := r.Int64N(MaxAmountMinor) + 1
		rule := EarnRule{Points: r.Int64N(maxEarnPoints) + 1, PerMinor: r.Int64N(10_000) + 1}
		purchases = append(purchases, Purchase{AmountMinor: amount, Points: rule.PointsFor(amount)})
	}
	for _, p := range purchases {
		for range 20 {
			var returned, reversed int64
			for returned < p.AmountMinor {
				step := r.Int64N(p.AmountMinor-returned) + 1
				if r.IntN(3) == 0 {
					step = min(p.AmountMinor-returned, r.Int64N(3)+1) // tiny parts too
				}
				returned += step
				due := p.pointsDueAfterReturn(returned) - reversed
				if due < 0 {
					t.Fatalf("%+v: returning %d more of %d takes %d points", p, step, returned, due)
				}
				reversed += due
				if reversed > p.Points {
					t.Fatalf("%+v: %d returned takes %d points, more than earned", p, returned, reversed)
				}
			}
			if reversed != p.Points {
				t.Fatalf("%+v: returned in full in parts, took back %d points, want %d", p, reversed, p.Points)
			}
		}
	}
	if got := (Purchase{}).pointsDueAfterReturn(0); got != 0 {
		t.Errorf("zero purchase: %d", got)
	}
}
