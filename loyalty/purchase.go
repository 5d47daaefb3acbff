package loyalty

import (
	"math"
	"math/bits"
	"time"
)

// Purchase is a purchase posted by a till, kept so that returns can take
// back its points in proportion.
type Purchase struct {
	ProgramID   string
	ID          string
	MemberID    string
	TillID      string
	ReceiptID   string
	AmountMinor int64
	Currency    string
	Points      int64
	// ReturnedMinor is the amount returned so far, at most AmountMinor.
	ReturnedMinor int64
	// ReversedPoints is the points due back for ReturnedMinor, taken or not;
	// at most Points.
	ReversedPoints int64
	Lines          []LineItem
	CreatedAt      time.Time
}

// LineItem is one line of a receipt.
type LineItem struct {
	SKU         string `json:"sku"`
	Name        string `json:"name,omitempty"`
	Category    string `json:"category,omitempty"`
	Quantity    int32  `json:"quantity"`
	AmountMinor int64  `json:"amount_minor"`
}

// pointsDueAfterReturn returns the points of p that are due back once
// returnedMinor of it has been returned in all. Computing the total, not the
// step, keeps partial returns from adding up rounding errors: returning a
// purchase in any number of parts takes back exactly its points.
func (p Purchase) pointsDueAfterReturn(returnedMinor int64) int64 {
	if p.AmountMinor == 0 {
		return 0
	}
	// The product Points*returnedMinor can exceed int64 (up to about 1e28);
	// mulDiv computes it in 128 bits. returnedMinor <= AmountMinor keeps the
	// quotient at most Points.
	return mulDiv(p.Points, returnedMinor, p.AmountMinor)
}

// mulDiv returns a*b/c rounded down, for non-negative a, b and positive c,
// without overflowing when a*b exceeds int64: the product is taken in 128
// bits. A quotient beyond int64 is returned as math.MaxInt64; arguments
// outside the domain give 0.
func mulDiv(a, b, c int64) int64 {
	if a < 0 || b < 0 || c <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
