package gamification

import "time"

// Member is what the rules need to know of a member.
type Member struct {
	ID string
	// EnrolledAt is when the member joined.
	EnrolledAt time.Time
	// Tier is the member's tier now: its ID, since when, and until when it
	// lasts at least (TierPolicy.StatusMonths); the base tier has no
	// Until.
	Tier TierState
	// Segments are the operator's segments the member is in.
	Segments []string
	// Birthday is the member's birthday (its year ignored), zero when
	// unknown or given without consent.
	Birthday time.Time
	// Challenges are the member's challenge states, by challenge ID.
	Challenges map[string]ChallengeState
	// Referrer is the member who referred this one while the referral is
	// not settled: empty for none, and cleared by the caller once the
	// member made a first purchase that paid something (AmountMinor > 0),
	// whether it granted the referral or not, so that only the first one
	// does. ReferrerRewarded is how many referrals the referrer has been
	// rewarded for so far.
	Referrer         string
	ReferrerRewarded int
	// Stamps are the stamps the member collected on each stamp card
	// before the event, in total, by card ID: the caller stores
	// Effects.StampTotals here.
	Stamps map[string]int64
}

// TierState is a member's tier.
type TierState struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until,omitzero"`
}

// ChallengeState is a member's standing in one challenge.
type ChallengeState struct {
	// ActivatedAt is when the member activated it (opt-in); zero when not.
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	// Completions is how often the member completed it; LastCompletedAt
	// when last. Progress starts again after a completion.
	Completions     int       `json:"completions,omitempty"`
	LastCompletedAt time.Time `json:"last_completed_at,omitzero"`
}

// Purchase is a purchase as the rules see it: only real purchases, never
// bonus grants, count toward challenges, tiers and stamp cards.
type Purchase struct {
	ID string
	At time.Time
	// AmountMinor is what was paid, after returns: a fully returned
	// purchase has 0 and counts as no visit.
	AmountMinor int64
	Lines       []Line
	// Stars are the purchase's base stars, before multipliers: they are
	// what qualifies for tiers.
	Stars int64
}

// Line is an item of a purchase, after returns.
type Line struct {
	SKU      string
	Category string
	Quantity int64
}

// History is a member's purchases, oldest first, as far back as the rules
// look: from HistoryFrom on.
type History []Purchase
