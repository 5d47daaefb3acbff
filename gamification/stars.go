package gamification

import (
	"fmt"
	"slices"
	"time"
)

// BaseStars returns the stars amountMinor earns before multipliers: Points
// for every full PerMinor minor units; 0 for amounts ≤ 0 or PerMinor ≤ 0.
func (s Stars) BaseStars(amountMinor int64) int64 {
	if amountMinor <= 0 || s.PerMinor <= 0 || s.Points <= 0 {
		return 0
	}
	// At most 1e11 minor units times Validate's 1e6 points: 1e17 fits.
	return amountMinor / s.PerMinor * s.Points
}

// PurchaseStars returns p's base stars (p.Stars is ignored and recomputed
// from p.AmountMinor) and the grants its multipliers add for member m: one
// for the member's tier (Kind ReasonTier, RuleID the tier's id, Key
// p.ID+":tier"), m.Tier.ID looked up in r.Tiers, an unknown or empty one
// being the base tier; and one for the best boost running at p.At (Kind ReasonBoost,
// RuleID the boost's id, Key p.ID+":boost"). Each bonus is
// floor(base×(multiplier−1000)/1000): additive rather than compounded, so
// that each explains itself on one line ("Gold: +20 %"). Multipliers of
// at most 1× and bonuses of 0 add no grant; grants go to m.ID.
func PurchaseStars(r Rules, m Member, p Purchase) (base int64, grants []Grant) {
	base = r.Stars.BaseStars(p.AmountMinor)
	if i := r.tierIndex(m.Tier.ID); i >= 0 {
		t := r.Tiers[i]
		if b := bonusStars(base, t.Multiplier); b > 0 {
			grants = append(grants, Grant{
				MemberID: m.ID, Points: b, Kind: ReasonTier, RuleID: t.ID,
				Reason: Text{
					DE: fmt.Sprintf("%s-Bonus (%s)", t.Name.DE, percentDE(t.Multiplier)),
					EN: fmt.Sprintf("%s bonus (%s)", textEN(t.Name), percentEN(t.Multiplier)),
				},
				Key: p.ID + ":tier",
			})
		}
	}
	if bo, ok := activeBoost(r, p.At); ok {
		if b := bonusStars(base, bo.Multiplier); b > 0 {
			grants = append(grants, Grant{
				MemberID: m.ID, Points: b, Kind: ReasonBoost, RuleID: bo.ID,
				Reason: Text{
					DE: fmt.Sprintf("%s (%s)", bo.Name.DE, percentDE(bo.Multiplier)),
					EN: fmt.Sprintf("%s (%s)", textEN(bo.Name), percentEN(bo.Multiplier)),
				},
				Key: p.ID + ":boost",
			})
		}
	}
	return base, grants
}

// bonusStars returns floor(base×(mult−1000)/1000), 0 for multipliers of at
// most 1× or base ≤ 0. Base is at most 1e17 (see BaseStars) and mult at
// most 10000, so base×9000 could overflow: the product is split at 1000.
func bonusStars(base int64, mult Permille) int64 {
	k := int64(mult) - 1000
	if base <= 0 || k <= 0 {
		return 0
	}
	return base/1000*k + base%1000*k/1000
}

// activeBoost returns the best boost, the one with the highest
// multiplier (the first of equals), running at t, and false when none is:
// t's weekday and time of day by the wall clock in r.Location(), and
// Start ≤ t < End. A boost spanning midnight counts on the weekday of t.
func activeBoost(r Rules, t time.Time) (Boost, bool) {
	loc := r.Location()
	var best Boost
	found := false
	for _, b := range r.Stars.Boosts {
		switch {
		case !b.Start.IsZero() && t.Before(b.Start),
			!b.End.IsZero() && !t.Before(b.End),
			len(b.Weekdays) > 0 && !slices.Contains(b.Weekdays, t.In(loc).Weekday()),
			!inClockRange(t, loc, b.From, b.To):
			continue
		}
		if !found || b.Multiplier > best.Multiplier {
			best, found = b, true
		}
	}
	return best, found
}

// percentDE returns the bonus of m in German notation: "+20 %", "+2,5 %".
func percentDE(m Permille) string {
	k := int64(m) - 1000
	if k%10 == 0 {
		return fmt.Sprintf("+%d %%", k/10)
	}
	return fmt.Sprintf("+%d,%d %%", k/10, k%10)
}

// percentEN returns the bonus of m in English notation: "+20%", "+2.5%".
func percentEN(m Permille) string {
	k := int64(m) - 1000
	if k%10 == 0 {
		return fmt.Sprintf("+%d%%", k/10)
	}
	return fmt.Sprintf("+%d.%d%%", k/10, k%10)
}

// textEN returns t's English text, or its German one when there is none
// (Validate requires only German).
func textEN(t Text) string {
	if t.EN != "" {
		return t.EN
	}
	return t.DE
}

// tierIndex returns the index in r.Tiers of the tier with id: the base
// tier, 0, for an empty or unknown id, which is what a member in no tier
// has; -1 when r has no tiers.
func (r Rules) tierIndex(id string) int {
	if len(r.Tiers) == 0 {
		return -1
	}
	return max(0, slices.IndexFunc(r.Tiers, func(t Tier) bool { return t.ID == id }))
}
