package gamification

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidRules is wrapped by Validate's errors.
var ErrInvalidRules = errors.New("gamification: invalid rules")

// Limits on rules: every list and number is bounded, so that evaluating a
// purchase stays cheap and no arithmetic overflows (amounts are at most
// 1e11 minor units, multipliers at most 10×).
const (
	MaxBoosts       = 20
	MaxTiers        = 10
	MaxChallenges   = 100
	MaxSteps        = 5
	MaxStampCards   = 20
	MaxIDLen        = 64
	maxMultiplier   = 10_000
	maxPoints       = 1_000_000
	maxPerMinor     = 1_000_000_000
	maxTarget       = 1_000_000_000
	maxWindowDays   = 366
	maxMonths       = 36
	maxCompletions  = 100
	maxBirthdayDays = 31
	maxReferrals    = 1_000
	maxStamps       = 100
	maxListItems    = 50
	maxTextLen      = 200
)

// Validate returns an error wrapping ErrInvalidRules that names the first
// field out of its bounds, or nil.
func Validate(r Rules) error {
	if r.TimeZone != "" {
		if _, err := time.LoadLocation(r.TimeZone); err != nil {
			return invalid("time_zone %q is not an IANA time zone", r.TimeZone)
		}
	}
	if err := validateStars(r.Stars); err != nil {
		return err
	}
	tiers, err := validateTiers(r.Tiers, r.TierPolicy)
	if err != nil {
		return err
	}
	if len(r.Challenges) > MaxChallenges {
		return invalid("%d challenges, at most %d", len(r.Challenges), MaxChallenges)
	}
	seen := map[string]bool{}
	for i, c := range r.Challenges {
		where := fmt.Sprintf("challenges[%d]", i)
		if err := validateID(where, c.ID, seen); err != nil {
			return err
		}
		if err := validateChallenge(where, c, tiers, false); err != nil {
			return err
		}
	}
	if err := validateBonuses(r); err != nil {
		return err
	}
	return validateStampCards(r.StampCards)
}

func validateStars(s Stars) error {
	if s.Points < 0 || s.Points > maxPoints || s.PerMinor < 1 || s.PerMinor > maxPerMinor {
		return invalid("stars: %d points per %d minor units, want 0–%d per 1–%d", s.Points, s.PerMinor, maxPoints, maxPerMinor)
	}
	if len(s.Boosts) > MaxBoosts {
		return invalid("%d boosts, at most %d", len(s.Boosts), MaxBoosts)
	}
	seen := map[string]bool{}
	for i, b := range s.Boosts {
		where := fmt.Sprintf("stars.boosts[%d]", i)
		if err := validateID(where, b.ID, seen); err != nil {
			return err
		}
		if err := validateText(where+".name", b.Name); err != nil {
			return err
		}
		if b.Multiplier < 1000 || b.Multiplier > maxMultiplier {
			return invalid("%s.multiplier %d, want 1000 (1×) to %d", where, b.Multiplier, maxMultiplier)
		}
		for _, d := range b.Weekdays {
			if d < time.Sunday || d > time.Saturday {
				return invalid("%s.weekdays: %d is not 0 (Sunday) to 6", where, d)
			}
		}
		if err := validateClockRange(where, b.From, b.To); err != nil {
			return err
		}
		if !b.Start.IsZero() && !b.End.IsZero() && !b.Start.Before(b.End) {
			return invalid("%s: start %v is not before end %v", where, b.Start, b.End)
		}
	}
	return nil
}

// validateTiers checks the tiers and returns their ids.
func validateTiers(tiers []Tier, p TierPolicy) (map[string]bool, error) {
	ids := map[string]bool{}
	if len(tiers) > MaxTiers {
		return nil, invalid("%d tiers, at most %d", len(tiers), MaxTiers)
	}
	for i, t := range tiers {
		where := fmt.Sprintf("tiers[%d]", i)
		if err := validateID(where, t.ID, ids); err != nil {
			return nil, err
		}
		if err := validateText(where+".name", t.Name); err != nil {
			return nil, err
		}
		if t.Multiplier < 1000 || t.Multiplier > maxMultiplier {
			return nil, invalid("%s.multiplier %d, want 1000 (1×) to %d", where, t.Multiplier, maxMultiplier)
		}
		switch {
		case i == 0 && t.QualifyingStars != 0:
			return nil, invalid("tiers[0] is the base tier: qualifying_stars must be 0")
		case i > 0 && (t.QualifyingStars <= tiers[i-1].QualifyingStars || t.QualifyingStars > maxTarget):
			return nil, invalid("%s.qualifying_stars %d: want more than the tier below, at most %d", where, t.QualifyingStars, maxTarget)
		}
	}
	if len(tiers) > 1 && (p.WindowMonths < 1 || p.WindowMonths > maxMonths || p.StatusMonths < 0 || p.StatusMonths > maxMonths) {
		return nil, invalid("tier_policy: window %d and status %d months, want 1–%d and 0–%d", p.WindowMonths, p.StatusMonths, maxMonths, maxMonths)
	}
	return ids, nil
}

// validateChallenge checks c; a step of a multi-step challenge has no
// reward, schedule, window, audience or steps of its own.
func validateChallenge(where string, c Challenge, tiers map[string]bool, step bool) error {
	if err := validateText(where+".name", c.Name); err != nil && !step {
		return err
	}
	if c.Target < 1 || c.Target > maxTarget {
		return invalid("%s.target %d, want 1–%d", where, c.Target, maxTarget)
	}
	switch c.Kind {
	case KindVisits, KindSpend, KindStreak:
	case KindProduct:
		if len(c.SKUs)+len(c.Categories) == 0 {
			return invalid("%s: a product challenge needs skus or categories", where)
		}
	case KindTimeOfDay:
		if _, ok := c.From.Minutes(); !ok {
			return invalid("%s: a time of day challenge needs from (HH:MM)", where)
		}
	case KindMulti:
		if step {
			return invalid("%s: steps cannot have steps", where)
		}
		if len(c.Steps) < 2 || len(c.Steps) > MaxSteps {
			return invalid("%s: %d steps, want 2–%d", where, len(c.Steps), MaxSteps)
		}
		if c.Target != int64(len(c.Steps)) {
			return invalid("%s.target %d: a multi-step challenge's target is its number of steps, %d", where, c.Target, len(c.Steps))
		}
		for i, s := range c.Steps {
			if err := validateChallenge(fmt.Sprintf("%s.steps[%d]", where, i), s, tiers, true); err != nil {
				return err
			}
		}
	default:
		return invalid("%s.kind %q, want visits, spend, product, streak, time_of_day or multi", where, c.Kind)
	}
	if err := validateClockRange(where, c.From, c.To); err != nil {
		return err
	}
	if len(c.SKUs) > maxListItems || len(c.Categories) > maxListItems || len(c.Segments) > maxListItems {
		return invalid("%s: at most %d skus, categories and segments", where, maxListItems)
	}
	if step {
		if c.Reward != 0 || !c.Start.IsZero() || !c.End.IsZero() || c.WindowDays != 0 || c.OptIn || len(c.Tiers)+len(c.Segments) > 0 || c.MaxCompletions != 0 {
			return invalid("%s: a step has only a kind, a target and what it counts", where)
		}
		return nil
	}
	if !c.Start.IsZero() && !c.End.IsZero() && !c.Start.Before(c.End) {
		return invalid("%s: start %v is not before end %v", where, c.Start, c.End)
	}
	if c.WindowDays < 0 || c.WindowDays > maxWindowDays {
		return invalid("%s.window_days %d, want 0–%d", where, c.WindowDays, maxWindowDays)
	}
	if c.MaxCompletions < 0 || c.MaxCompletions > maxCompletions {
		return invalid("%s.max_completions %d, want 0 (once) to %d", where, c.MaxCompletions, maxCompletions)
	}
	if c.Reward < 1 || c.Reward > maxPoints {
		return invalid("%s.reward %d, want 1–%d", where, c.Reward, maxPoints)
	}
	for _, t := range c.Tiers {
		if !tiers[t] {
			return invalid("%s.tiers: no tier %q", where, t)
		}
	}
	return nil
}

func validateBonuses(r Rules) error {
	if w := r.Welcome; w != nil && (w.Points < 0 || w.Points > maxPoints) {
		return invalid("welcome.points %d, want 0–%d", w.Points, maxPoints)
	}
	if b := r.Birthday; b != nil && (b.Points < 0 || b.Points > maxPoints ||
		b.DaysBefore < 0 || b.DaysBefore > maxBirthdayDays || b.DaysAfter < 0 || b.DaysAfter > maxBirthdayDays) {
		return invalid("birthday: %d points, %d days before, %d after: want 0–%d points and 0–%d days", b.Points, b.DaysBefore, b.DaysAfter, maxPoints, maxBirthdayDays)
	}
	if f := r.Referral; f != nil && (f.ReferrerPoints < 0 || f.ReferrerPoints > maxPoints || f.RefereePoints < 0 ||
		f.RefereePoints > maxPoints || f.MaxPerReferrer < 1 || f.MaxPerReferrer > maxReferrals) {
		return invalid("referral: want 0–%d points per side and 1–%d referrals per referrer", maxPoints, maxReferrals)
	}
	return nil
}

func validateStampCards(cards []StampCard) error {
	if len(cards) > MaxStampCards {
		return invalid("%d stamp cards, at most %d", len(cards), MaxStampCards)
	}
	seen := map[string]bool{}
	for i, c := range cards {
		where := fmt.Sprintf("stamp_cards[%d]", i)
		if err := validateID(where, c.ID, seen); err != nil {
			return err
		}
		if err := validateText(where+".name", c.Name); err != nil {
			return err
		}
		if c.Stamps < 1 || c.Stamps > maxStamps {
			return invalid("%s.stamps %d, want 1–%d", where, c.Stamps, maxStamps)
		}
		if len(c.SKUs)+len(c.Categories) == 0 || len(c.SKUs) > maxListItems || len(c.Categories) > maxListItems {
			return invalid("%s: want 1–%d skus or categories", where, maxListItems)
		}
		if c.RewardID == "" {
			return invalid("%s: reward_id is required", where)
		}
	}
	return nil
}

// validateID checks a rule's id: 1–MaxIDLen ASCII letters, digits, '-'
// and '_', unique among seen, to which it adds it.
func validateID(where, id string, seen map[string]bool) error {
	if id == "" || len(id) > MaxIDLen {
		return invalid("%s.id %q: want 1–%d characters", where, id, MaxIDLen)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid("%s.id %q: only letters, digits, '-' and '_'", where, id)
		}
	}
	if seen[id] {
		return invalid("%s.id %q is used twice", where, id)
	}
	seen[id] = true
	return nil
}

// validateText checks a customer-facing text: German required, both at
// most maxTextLen bytes.
func validateText(where string, t Text) error {
	if t.DE == "" || len(t.DE) > maxTextLen || len(t.EN) > maxTextLen {
		return invalid("%s: want a German text (and optionally English) of at most %d bytes", where, maxTextLen)
	}
	return nil
}

func validateClockRange(where string, from, to ClockTime) error {
	for _, c := range []ClockTime{from, to} {
		if _, ok := c.Minutes(); c != "" && !ok {
			return invalid("%s: %q is not a time of day (HH:MM)", where, c)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRules, fmt.Sprintf(format, args...))
}
