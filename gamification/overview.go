package gamification

import "time"

// ChallengeStatus says where a member stands with a challenge, so that the
// app renders it simply: available with an "Aktivieren" button, active
// with a progress bar, completed as done, ended greyed out.
type ChallengeStatus string

// Statuses of challenges, as Overview gives them.
const (
	// StatusAvailable: an opt-in challenge the member can activate now,
	// Activate would succeed: never activated, or its last activation ran
	// out (its window passed, or a completion ended an activation without
	// window) and completions are left.
	StatusAvailable ChallengeStatus = "available"
	// StatusActive: the challenge counts the member's purchases now: an
	// automatic one, or an opt-in one whose activation runs; the member is
	// in its audience and has completions left.
	StatusActive ChallengeStatus = "active"
	// StatusCompleted: the member completed it MaxCompletions times.
	StatusCompleted ChallengeStatus = "completed"
	// StatusEnded: the member took part (activated it, or completed it
	// once or more) and has completions left, but it neither counts nor
	// can be activated, because the member left its audience (a lower
	// tier, another segment), also in the middle of an activation.
	StatusEnded ChallengeStatus = "ended"
)

// ChallengeView is a challenge as a member sees it in the app.
type ChallengeView struct {
	Challenge Challenge
	Status    ChallengeStatus
	// Progress is ChallengeProgress when active; Current is Target when
	// completed and 0 when available or ended, which do not count.
	Progress Progress
	// ActiveUntil is when the challenge stops counting (active: the
	// earlier of the activation window's end and the challenge's End) or
	// can no longer be activated (available: its End); zero when open,
	// and for completed and ended ones.
	ActiveUntil time.Time
	// Completions is how often the member completed it.
	Completions int
}

// Overview returns the challenges member m sees at now, in r's order:
// those that run at now (Start ≤ now < End) and whose audience m is in,
// plus, while they run, those m completed MaxCompletions times or took
// part in (activated, or completed once or more) but is no longer in the
// audience of. Challenges that ended are not shown: the activity list
// keeps their grants. h is m's history, from HistoryFrom(r, m, now) on.
func Overview(r Rules, m Member, h History, now time.Time) []ChallengeView {
	var views []ChallengeView
	for _, c := range r.Challenges {
		if !challengeRuns(c, now) {
			continue
		}
		st := m.Challenges[c.ID]
		v := ChallengeView{Challenge: c, Completions: st.Completions, Progress: challengeProgressOf(c, 0)}
		switch {
		case st.Completions >= completionsAllowed(c):
			v.Status = StatusCompleted
			v.Progress = challengeProgressOf(c, challengeTarget(c))
		case !inChallengeAudience(r, c, m):
			if st.ActivatedAt.IsZero() && st.Completions == 0 {
				continue // never took part: not for m
			}
			v.Status = StatusEnded
		case c.OptIn && !activationRuns(r, c, st, now):
			v.Status = StatusAvailable
			v.ActiveUntil = c.End
		default:
			v.Status = StatusActive
			v.Progress = ChallengeProgress(r, c, m, h, now)
			v.ActiveUntil = c.End
			if c.OptIn && c.WindowDays > 0 {
				if end := activationWindowEnd(r, c, st.ActivatedAt); v.ActiveUntil.IsZero() || end.Before(v.ActiveUntil) {
					v.ActiveUntil = end
				}
			}
		}
		views = append(views, v)
	}
	return views
}

// TierOutlook returns member m's tier as stored (the base tier when
// m.Tier.ID is empty or unknown), the next tier up (nil at the top), and
// m's QualifyingStars at now, which the app sets against next's; a zero
// Tier, nil and 0 when r has no tiers. h is m's history, from
// HistoryFrom(r, m, now) on.
func TierOutlook(r Rules, m Member, h History, now time.Time) (cur Tier, next *Tier, qualifying int64) {
	i := r.tierIndex(m.Tier.ID)
	if i < 0 {
		return Tier{}, nil, 0 // without tiers, nothing qualifies (and HistoryFrom loads no window)
	}
	if i+1 < len(r.Tiers) {
		t := r.Tiers[i+1] // a copy, so that changing it leaves r alone
		next = &t
	}
	return r.Tiers[i], next, QualifyingStars(r, h, now)
}
