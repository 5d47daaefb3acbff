package gamification

import "time"

// Earn returns what purchase p by member m grants, at p.At: p's base stars
// and, in the effects, the grants of its multipliers, the progress and
// completions of the member's challenges, the tier after it, the stamp
// cards' vouchers, progress and new totals, and the referral grants of a
// first purchase. h is m's history with p as its last purchase, from
// HistoryFrom(r, m, p.At) on; earlier purchases change nothing.
//
// The multipliers and the challenges' audience use the tier m has before
// p; the tier p earns applies from the next purchase on.
func Earn(r Rules, m Member, h History, p Purchase) (base int64, e Effects) {
	base, e.Grants = PurchaseStars(r, m, p)
	p.Stars = base
	if n := len(h); n > 0 && h[n-1].ID == p.ID {
		h = append(h[:n-1:n-1], p) // the history's copy without stars
	}
	var grants []Grant
	e.Challenges, grants, e.Completed = EvaluateChallenges(r, m, h, p)
	e.Grants = append(e.Grants, grants...)
	e.Grants = append(e.Grants, ReferralGrants(r, m, p)...)
	e.Vouchers, e.Stamps, e.StampTotals = StampCards(r, m, p)
	e.Tier = EvaluateTier(r, m, h, p.At)
	return base, e
}

// Enroll returns what enrolling grants member m: the welcome bonus.
func Enroll(r Rules, m Member) Effects {
	var e Effects
	if g, ok := WelcomeGrant(r, m); ok {
		e.Grants = append(e.Grants, g)
	}
	return e
}

// Daily returns what the daily job grants and changes for member m at
// now: the birthday bonus when it is due (its key makes it once a year),
// and the tier once its status has run out. h is m's history, from
// HistoryFrom(r, m, now) on.
func Daily(r Rules, m Member, h History, now time.Time) Effects {
	var e Effects
	if g, ok := BirthdayGrant(r, m, now); ok {
		e.Grants = append(e.Grants, g)
	}
	e.Tier = EvaluateTier(r, m, h, now)
	return e
}
