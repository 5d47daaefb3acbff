package gamification

import "time"

// MaxHistoryDays bounds how far back the rules look at a member's
// purchases, in days by the wall clock in the program's zone: no
// challenge counts, and no tier window sums, purchases older than that.
// Challenges without a window (automatic ones, and opt-in ones activated
// long ago) thus count at most MaxHistoryDays back, and a tier window of
// more than 13 months is cut to it; the bound keeps the history a
// purchase loads small.
const MaxHistoryDays = 400

// HistoryFrom returns the earliest time of a purchase any rule looks at
// for member m at now, so that the caller loads m's history from then on
// (included) up to now: the earliest of the tier window's start (now
// minus TierPolicy.WindowMonths months in r.Location(), when r has tiers)
// and the counting start of each challenge that counts for m at now (m is
// in its audience, it runs, m has completions left and, when it is
// opt-in, m's activation runs): ActivatedAt for opt-in challenges, now
// minus WindowDays days for automatic ones with a window, and the
// challenge's Start, or open, for automatic ones without. Each start is
// bounded below by now minus MaxHistoryDays days, so the result is never
// earlier than that; it is now when no rule looks back.
//
// On the purchases from HistoryFrom on, the rules answer as on the whole
// history: Earn (with now p.At), Daily, Overview and TierOutlook. Stamp
// cards and referrals need no history: what they count is in Member.
func HistoryFrom(r Rules, m Member, now time.Time) time.Time {
	loc := r.Location()
	floor := historyFloor(now, loc)
	from := now
	look := func(t time.Time) {
		t = later(t, floor) // an open start is the floor
		if t.Before(from) {
			from = t
		}
	}
	if len(r.Tiers) > 0 {
		look(addMonths(now, -r.TierPolicy.WindowMonths, loc))
	}
	for _, c := range r.Challenges {
		st := m.Challenges[c.ID]
		if !Eligible(r, c, m, now) || st.Completions >= completionsAllowed(c) {
			continue
		}
		switch {
		case c.OptIn:
			if activationRuns(r, c, st, now) {
				look(st.ActivatedAt)
			}
		case c.WindowDays > 0:
			look(now.In(loc).AddDate(0, 0, -c.WindowDays))
		default:
			look(c.Start)
		}
	}
	return from
}

// historyFloor returns the earliest time the rules look at, at now:
// MaxHistoryDays days before by the wall clock in loc.
func historyFloor(now time.Time, loc *time.Location) time.Time {
	return now.In(loc).AddDate(0, 0, -MaxHistoryDays)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
