package gamification

import (
	"errors"
	"slices"
	"strconv"
	"time"
)

// Errors of Activate.
var (
	ErrUnknownChallenge = errors.New("gamification: no such challenge")
	ErrNotOptIn         = errors.New("gamification: the challenge needs no activation")
	ErrNotEligible      = errors.New("gamification: the challenge is not for this member")
	ErrNotRunning       = errors.New("gamification: the challenge is not running")
	ErrAlreadyActive    = errors.New("gamification: the challenge is active already")
	// ErrCompleted: the member completed it MaxCompletions times.
	ErrCompleted = errors.New("gamification: the challenge is completed")
)

// Eligible reports whether member m is in c's audience and c runs at now.
// The audience is the members whose tier is in c.Tiers (a member without
// a tier, or with one r does not know, has the base tier, r.Tiers[0]) and
// who are in one of c.Segments;
// an empty list means every member. c runs from Start to End, End
// excluded; a zero Start or End is open.
func Eligible(r Rules, c Challenge, m Member, now time.Time) bool {
	return inChallengeAudience(r, c, m) && challengeRuns(c, now)
}

// Activate returns m's state of the opt-in challenge id after activating
// it at now. It fails with ErrUnknownChallenge, ErrNotOptIn,
// ErrNotEligible (m is not in its audience), ErrNotRunning (now is before
// its Start or at or after its End), ErrCompleted (m completed it
// MaxCompletions times) or ErrAlreadyActive, checked in this order.
//
// An activation runs for the challenge's WindowDays from ActivatedAt or,
// without a window, until the member's next completion; while it runs,
// Activate fails with ErrAlreadyActive. Once it ended, the member may
// activate again, whether the window ended with a completion or without
// one, as long as completions are left. With a window, a completion does
// not end the activation: progress toward the next completion goes on
// in the rest of the window. The returned state keeps Completions and
// LastCompletedAt and sets ActivatedAt to now.
func Activate(r Rules, id string, m Member, now time.Time) (ChallengeState, error) {
	i := slices.IndexFunc(r.Challenges, func(c Challenge) bool { return c.ID == id })
	if i < 0 {
		return ChallengeState{}, ErrUnknownChallenge
	}
	c := r.Challenges[i]
	st := m.Challenges[id]
	if err := activationError(r, c, m, now); err != nil {
		return st, err
	}
	st.ActivatedAt = now
	return st, nil
}

// activationError returns why m cannot activate c at now, in Activate's
// order, or nil when m can.
func activationError(r Rules, c Challenge, m Member, now time.Time) error {
	st := m.Challenges[c.ID]
	switch {
	case !c.OptIn:
		return ErrNotOptIn
	case !inChallengeAudience(r, c, m):
		return ErrNotEligible
	case !challengeRuns(c, now):
		return ErrNotRunning
	case st.Completions >= completionsAllowed(c):
		return ErrCompleted
	case activationRuns(r, c, st, now):
		return ErrAlreadyActive
	}
	return nil
}

// EvaluateChallenges returns what purchase p, the last of h, does to m's
// challenges; now is p.At. Only purchases count toward challenges: bonus
// grants are never in h.
//
// progress is m's progress after p in every challenge m takes part in,
// in the order of r.Challenges: those m is eligible for at p.At, whose
// activation runs when they are opt-in, and which m completed fewer than
// MaxCompletions times before p. A challenge p completed shows Current =
// Target.
//
// p completes a challenge when m's progress without p was below its
// target and with p reaches it; a purchase completes a challenge once at
// most, and what it gives beyond the target does not carry over. For
// each completion, grants holds one Grant, keyed
// "challenge:<id>:<completion number>" so that evaluating the same
// purchase twice from the same state grants once, and completed the
// challenge's new state: Completions+1, LastCompletedAt p.At,
// ActivatedAt kept. completed is nil when p completed nothing.
//
// p is told from the other purchases of h by its ID; when h lacks it, it
// is added.
func EvaluateChallenges(r Rules, m Member, h History, p Purchase) (progress []Progress, grants []Grant, completed map[string]ChallengeState) {
	now := p.At
	without := make(History, 0, len(h))
	for _, q := range h {
		if q.ID != p.ID {
			without = append(without, q)
		}
	}
	with := append(slices.Clip(without), p)
	for _, c := range r.Challenges {
		st := m.Challenges[c.ID]
		if !Eligible(r, c, m, now) || st.Completions >= completionsAllowed(c) ||
			(c.OptIn && !activationRuns(r, c, st, now)) {
			continue
		}
		target := challengeTarget(c)
		before := challengeCount(r, c, st, without, now)
		after := challengeCount(r, c, st, with, now)
		progress = append(progress, challengeProgressOf(c, after))
		// A target of 0 (invalid rules) is never "below target": no grant.
		if before >= target || after < target {
			continue
		}
		n := st.Completions + 1
		grants = append(grants, Grant{
			MemberID: m.ID,
			Points:   c.Reward,
			Kind:     ReasonChallenge,
			RuleID:   c.ID,
			Reason:   challengeReason(c.Name),
			Key:      "challenge:" + c.ID + ":" + strconv.Itoa(n),
		})
		if completed == nil {
			completed = make(map[string]ChallengeState)
		}
		completed[c.ID] = ChallengeState{ActivatedAt: st.ActivatedAt, Completions: n, LastCompletedAt: p.At}
	}
	return progress, grants, completed
}

// challengeReason returns the activity line of a completion; a name
// without English says it in German in both.
func challengeReason(name Text) Text {
	en := name.EN
	if en == "" {
		en = name.DE
	}
	return Text{
		DE: "Challenge „" + name.DE + "“ geschafft",
		EN: "Challenge \"" + en + "\" completed",
	}
}

// inChallengeAudience reports whether m's tier and segments are among c's.
func inChallengeAudience(r Rules, c Challenge, m Member) bool {
	tier := m.Tier.ID
	if i := r.tierIndex(tier); i >= 0 {
		tier = r.Tiers[i].ID // an empty or unknown tier is the base tier, as for stars
	}
	if len(c.Tiers) > 0 && !slices.Contains(c.Tiers, tier) {
		return false
	}
	if len(c.Segments) > 0 && !slices.ContainsFunc(m.Segments, func(s string) bool { return slices.Contains(c.Segments, s) }) {
		return false
	}
	return true
}

// challengeRuns reports whether now is in [c.Start, c.End).
func challengeRuns(c Challenge, now time.Time) bool {
	return (c.Start.IsZero() || !now.Before(c.Start)) && (c.End.IsZero() || now.Before(c.End))
}

// completionsAllowed returns how often a member may complete c.
func completionsAllowed(c Challenge) int {
	if c.MaxCompletions <= 0 {
		return 1
	}
	return c.MaxCompletions
}

// activationRuns reports whether st's activation of c runs at now: it
// runs WindowDays from ActivatedAt or, without a window, until a
// completion at or after ActivatedAt.
func activationRuns(r Rules, c Challenge, st ChallengeState, now time.Time) bool {
	if st.ActivatedAt.IsZero() {
		return false
	}
	if c.WindowDays > 0 {
		return now.Before(activationWindowEnd(r, c, st.ActivatedAt))
	}
	return !endedByCompletion(st)
}

// endedByCompletion reports whether st's activation saw a completion,
// which ends an activation without a window.
func endedByCompletion(st ChallengeState) bool {
	return st.Completions > 0 && !st.LastCompletedAt.Before(st.ActivatedAt)
}

// activationWindowEnd returns the end (excluded) of the window of an opt-in
// challenge activated at a: WindowDays days later by the wall clock in
// the program's zone, so a window across a daylight saving change ends at
// the same time of day it began.
func activationWindowEnd(r Rules, c Challenge, a time.Time) time.Time {
	return a.In(r.Location()).AddDate(0, 0, c.WindowDays)
}
