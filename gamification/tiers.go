package gamification

import (
	"fmt"
	"slices"
	"time"
)

// QualifyingStars returns the base stars (Purchase.Stars) of h's
// purchases in the policy's window ending at now: after now minus
// WindowMonths calendar months in r.Location(), up to and including now.
// A purchase exactly WindowMonths months old no longer counts, so that a
// 12-month window holds 12 months and not one instant more. Nor does one
// more than MaxHistoryDays days old, whatever the window.
func QualifyingStars(r Rules, h History, now time.Time) int64 {
	loc := r.Location()
	from := addMonths(now, -r.TierPolicy.WindowMonths, loc)
	floor := historyFloor(now, loc)
	var sum int64
	for _, p := range h {
		if p.Stars > 0 && p.At.After(from) && !p.At.Before(floor) && !p.At.After(now) {
			sum += p.Stars
		}
	}
	return sum
}

// EvaluateTier returns the member's tier change at now, or nil when there
// is none: the highest tier whose QualifyingStars the window reaches.
// Upgrades happen at once (Since now, Until now plus StatusMonths; the
// base tier, r.Tiers[0], has no Until). A lower tier replaces the current
// one only once the current one's Until has passed (now ≥ Until), and
// then it is the tier the window reaches now; when that is the current
// tier again, its status is renewed: Since kept, Until extended, reported
// as a change so that the store keeps the new Until. A member whose
// m.Tier.ID is empty or unknown is in the base tier. No tiers, no change.
func EvaluateTier(r Rules, m Member, h History, now time.Time) *TierChange {
	if len(r.Tiers) == 0 {
		return nil
	}
	cur := max(slices.IndexFunc(r.Tiers, func(t Tier) bool { return t.ID == m.Tier.ID }), 0)
	q := QualifyingStars(r, h, now)
	reached := 0 // the base tier needs nothing
	for i, t := range r.Tiers {
		if i > 0 && q >= t.QualifyingStars {
			reached = i
		}
	}
	expired := cur > 0 && !now.Before(m.Tier.Until)
	switch {
	case reached > cur, expired && reached < cur:
		t := r.Tiers[reached]
		to := TierState{ID: t.ID, Since: now}
		if reached > 0 {
			to.Until = addMonths(now, r.TierPolicy.StatusMonths, r.Location())
		}
		return &TierChange{From: m.Tier, To: to, Reason: Text{
			DE: fmt.Sprintf("Du bist jetzt %s", t.Name.DE),
			EN: fmt.Sprintf("You are now %s", textEN(t.Name)),
		}}
	case expired: // reached == cur
		t := r.Tiers[cur]
		to := TierState{ID: t.ID, Since: m.Tier.Since, Until: addMonths(now, r.TierPolicy.StatusMonths, r.Location())}
		return &TierChange{From: m.Tier, To: to, Reason: Text{
			DE: fmt.Sprintf("Dein Status %s wurde verlängert", t.Name.DE),
			EN: fmt.Sprintf("Your %s status was renewed", textEN(t.Name)),
		}}
	}
	return nil
}

// addMonths returns t plus n calendar months by the wall clock in loc,
// the day clamped to the month's last: 31 March minus one month is 28
// February, not 3 March as time.AddDate would have it.
func addMonths(t time.Time, n int, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}
