package gamification

import (
	"fmt"
	"slices"
)

// StampCards returns the vouchers purchase p earns on the rules' stamp
// cards and every card's progress after it. h is the member's history
// with p as its last purchase; a card's stamps are the quantities of its
// matching lines (SKU in SKUs or Category in Categories) across h, with
// returns already netted in the lines. Every full Stamps of them earns a
// voucher, Key "stamp:<card id>:<n>" for the n-th (from 1); p earns those
// whose n is above what h without p reached, so one purchase can earn
// several. A card's progress is its stamps modulo Stamps, of Stamps.
func StampCards(r Rules, h History, p Purchase) ([]VoucherGrant, []Progress) {
	var vouchers []VoucherGrant
	var progress []Progress
	for _, c := range r.StampCards {
		if c.Stamps <= 0 {
			continue
		}
		// p is counted from p, so that h holding it or not is the same.
		var before int64
		for _, q := range h {
			if q.ID != p.ID {
				before += c.stampsOf(q)
			}
		}
		after := before + c.stampsOf(p)
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
	return vouchers, progress
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
