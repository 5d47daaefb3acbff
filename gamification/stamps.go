package gamification

import (
	"fmt"
	"slices"
)

// StampCards returns what purchase p by member m does to the rules' stamp
// cards: the vouchers it earns, every card's progress after it, and the
// new total of each card p added stamps to (nil when it added none).
//
// A card's stamps before p are m.Stamps[card ID], all m collected before
// p (a negative count is taken as 0); p adds the quantities of its
// matching lines (SKU in SKUs or Category in Categories) with quantity
// above 0. Every full Stamps of them earns a voucher, Key "stamp:<card
// id>:<n>" for the n-th (from 1): p earns those whose n is above what the
// stamps before p reached, so one purchase can earn several. A card's
// progress is its stamps after p modulo Stamps, of Stamps.
//
// The stamps are counted when p is earned: a later return does not take
// them back. m.Stamps must not yet hold p's stamps; the caller stores
// totals into Member.Stamps with the vouchers, so that earning p again
// from the same state gives the same keys.
func StampCards(r Rules, m Member, p Purchase) (vouchers []VoucherGrant, progress []Progress, totals map[string]int64) {
	for _, c := range r.StampCards {
		if c.Stamps <= 0 {
			continue
		}
		before := max(m.Stamps[c.ID], 0)
		added := c.stampsOf(p)
		after := before + added
		if added > 0 {
			if totals == nil {
				totals = make(map[string]int64)
			}
			totals[c.ID] = after
		}
		for n := before/c.Stamps + 1; n <= after/c.Stamps; n++ {
			vouchers = append(vouchers, VoucherGrant{
				RewardID: c.RewardID, CardID: c.ID,
				Reason: Text{
					DE: fmt.Sprintf("Stempelkarte „%s“ voll", c.Name.DE),
					EN: fmt.Sprintf("Stamp card “%s” complete", textEN(c.Name)),
				},
				Key: fmt.Sprintf("stamp:%s:%d", c.ID, n),
			})
		}
		cur := after % c.Stamps
		progress = append(progress, Progress{
			ID: c.ID, Current: cur, Target: c.Stamps,
			Text: Text{
				DE: fmt.Sprintf("%d von %d Stempeln", cur, c.Stamps),
				EN: fmt.Sprintf("%d of %d stamps", cur, c.Stamps),
			},
		})
	}
	return vouchers, progress, totals
}

// stampsOf returns the stamps p earns on c: the quantities of its
// matching lines; lines returned in full (quantity ≤ 0) earn none.
func (c StampCard) stampsOf(p Purchase) int64 {
	var n int64
	for _, l := range p.Lines {
		if l.Quantity > 0 && (l.SKU != "" && slices.Contains(c.SKUs, l.SKU) ||
			l.Category != "" && slices.Contains(c.Categories, l.Category)) {
			n += l.Quantity
		}
	}
	return n
}
