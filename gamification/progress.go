package gamification

import (
	"slices"
	"time"
)

// ChallengeProgress returns m's progress in c at now. (It is not called
// Progress because that is the name of what it returns.) It does not
// check c's audience or schedule; EvaluateChallenges does.
//
// It counts the purchases of h that count: only purchases, never bonus
// grants; none with AmountMinor ≤ 0 (fully returned: no visit, no
// spend, no item, no day); none after now, none at or after c.End, none
// before c.Start, none more than MaxHistoryDays days before now; and
// none before the start of counting:
//
//   - opt-in challenges count from their activation, ActivatedAt
//     included. One never activated, or without a window and completed
//     since its activation, has no progress. With WindowDays, the
//     window is [ActivatedAt, ActivatedAt + WindowDays days), the days
//     by the wall clock in r.Location() (AddDate): a purchase at the
//     same time of day WindowDays days later no longer counts.
//   - other challenges count, with WindowDays, the purchases at or
//     after now - WindowDays days (by the wall clock) up to now
//     included.
//   - both count only purchases after m's last completion of c
//     (LastCompletedAt excluded: the completing purchase does not count
//     again).
//
// Per kind, Current is the number of purchases (visits), the sum of
// AmountMinor (spend), the summed Quantity of lines whose SKU is in SKUs
// or Category in Categories (product), the longest run of consecutive
// calendar days in r.Location() with a purchase (streak), the number of
// purchases with a wall-clock time in [From, To) (time_of_day), and the
// number of Steps whose own count, over the same purchases, reached
// their Target (multi, whose Target is len(Steps)). Current is capped at
// Target. Text is what the app shows: "2 von 3 Besuchen", "12,50 € von
// 20,00 €" (amounts are taken to be euros).
func ChallengeProgress(r Rules, c Challenge, m Member, h History, now time.Time) Progress {
	return challengeProgressOf(c, challengeCount(r, c, m.Challenges[c.ID], h, now))
}

// challengeTarget returns what completes c: len(Steps) for multi.
func challengeTarget(c Challenge) int64 {
	if c.Kind == KindMulti {
		return int64(len(c.Steps))
	}
	return c.Target
}

// challengeProgressOf returns the Progress of c at count n, capped at c's
// target.
func challengeProgressOf(c Challenge, n int64) Progress {
	target := challengeTarget(c)
	n = max(min(n, target), 0)
	return Progress{ID: c.ID, Current: n, Target: target, Text: challengeProgressText(c, n, target)}
}

// challengeCount returns c's uncapped count over the purchases of h that
// count for member state st at now (see ChallengeProgress).
func challengeCount(r Rules, c Challenge, st ChallengeState, h History, now time.Time) int64 {
	loc := r.Location()
	var from, until time.Time // from included, until excluded; zero is open
	if c.OptIn {
		if st.ActivatedAt.IsZero() || (c.WindowDays == 0 && endedByCompletion(st)) {
			return 0
		}
		from = st.ActivatedAt
		if c.WindowDays > 0 {
			until = activationWindowEnd(r, c, st.ActivatedAt)
		}
	} else if c.WindowDays > 0 {
		from = now.In(loc).AddDate(0, 0, -c.WindowDays)
	}
	// No rule looks further back than MaxHistoryDays: HistoryFrom loads no
	// more.
	from = later(later(from, c.Start), historyFloor(now, loc))
	if !c.End.IsZero() && (until.IsZero() || c.End.Before(until)) {
		until = c.End
	}
	// A filter rather than a filtered copy: a purchase is evaluated against
	// every challenge twice, and copying the history each time dominated.
	counts := func(p *Purchase) bool {
		return p.AmountMinor > 0 && !p.At.After(now) && !p.At.Before(from) &&
			(until.IsZero() || p.At.Before(until)) &&
			(st.LastCompletedAt.IsZero() || p.At.After(st.LastCompletedAt))
	}
	return countChallengeKind(c, h, counts, loc)
}

// countChallengeKind returns c's uncapped count over the purchases of h
// that counts reports as counting.
func countChallengeKind(c Challenge, h History, counts func(*Purchase) bool, loc *time.Location) int64 {
	var n int64
	switch c.Kind {
	case KindVisits:
		for i := range h {
			if counts(&h[i]) {
				n++
			}
		}
	case KindSpend:
		for i := range h {
			if counts(&h[i]) {
				n += h[i].AmountMinor
			}
		}
	case KindProduct:
		for i := range h {
			p := &h[i]
			if !counts(p) {
				continue
			}
			for _, l := range p.Lines {
				if l.Quantity > 0 && (slices.Contains(c.SKUs, l.SKU) || slices.Contains(c.Categories, l.Category)) {
					n += l.Quantity
				}
			}
		}
	case KindStreak:
		n = longestStreak(h, counts, loc)
	case KindTimeOfDay:
		for i := range h {
			if counts(&h[i]) && inClockRange(h[i].At, loc, c.From, c.To) {
				n++
			}
		}
	case KindMulti:
		for _, s := range c.Steps {
			// A step with no target is never done: invalid rules grant
			// nothing.
			if t := challengeTarget(s); t > 0 && countChallengeKind(s, h, counts, loc) >= t {
				n++
			}
		}
	}
	return n
}

// longestStreak returns the longest run of consecutive calendar days in
// loc with one of the purchases of h that counts reports. Days are
// compared by date, so the 23- and 25-hour days of daylight saving changes
// are days like any other.
func longestStreak(h History, counts func(*Purchase) bool, loc *time.Location) int64 {
	epoch := Day{1970, time.January, 1}
	days := make([]int, 0, len(h))
	for i := range h {
		if counts(&h[i]) {
			days = append(days, daysBetween(epoch, dayOf(h[i].At, loc)))
		}
	}
	slices.Sort(days)
	days = slices.Compact(days)
	var best, run int64
	for i, d := range days {
		if i > 0 && d == days[i-1]+1 {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}
