package gamification

import "time"

// Text is a text in German and English, as customers see it; the JSON
// shape matches loyalty.Text, and the struct converts to it.
type Text struct {
	DE string `json:"de"`
	EN string `json:"en,omitempty"`
}

// Permille is a multiplier in thousandths: 1000 is 1×, 1200 is 1.2×.
type Permille int64

// Rules are a program's gamification rules, as data (see
// assets/demo/rules.json). Validate checks them.
type Rules struct {
	// TimeZone is the IANA zone of the program's dates and times of day;
	// empty means Europe/Berlin.
	TimeZone string `json:"time_zone,omitempty"`
	Stars    Stars  `json:"stars"`
	// Tiers are ordered from the base tier, which every member has and
	// which needs nothing, upwards.
	Tiers      []Tier      `json:"tiers,omitempty"`
	TierPolicy TierPolicy  `json:"tier_policy,omitzero"`
	Challenges []Challenge `json:"challenges,omitempty"`
	Welcome    *Welcome    `json:"welcome,omitempty"`
	Birthday   *Birthday   `json:"birthday,omitempty"`
	Referral   *Referral   `json:"referral,omitempty"`
	StampCards []StampCard `json:"stamp_cards,omitempty"`
}

// Stars says how many stars a purchase earns: Points for every full
// PerMinor minor units spent, times the member's tier multiplier and the
// best boost running at the time of the purchase.
type Stars struct {
	Points   int64   `json:"points"`
	PerMinor int64   `json:"per_minor"`
	Boosts   []Boost `json:"boosts,omitempty"`
}

// Boost multiplies the stars of purchases in a time window: double-star
// days, happy hours. Boosts do not stack: the best one running counts.
type Boost struct {
	ID         string   `json:"id"`
	Name       Text     `json:"name"`
	Multiplier Permille `json:"multiplier"`
	// Weekdays it runs on; empty means every day.
	Weekdays []time.Weekday `json:"weekdays,omitempty"`
	// From and To bound the time of day it runs, "14:00" to "17:00", To
	// excluded; empty means all day.
	From ClockTime `json:"from,omitempty"`
	To   ClockTime `json:"to,omitempty"`
	// Start and End bound the dates it runs, End excluded; zero is open.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// ClockTime is a time of day, "HH:MM", in the program's zone; empty is
// none.
type ClockTime string

// Tier is a status level with its earn multiplier and what it takes.
type Tier struct {
	ID         string   `json:"id"`
	Name       Text     `json:"name"`
	Multiplier Permille `json:"multiplier"`
	// QualifyingStars reached within the policy's window earn the tier: the
	// stars of purchases, before multipliers; bonus stars never count.
	// 0 for the base tier.
	QualifyingStars int64 `json:"qualifying_stars,omitempty"`
}

// TierPolicy says how tiers are kept.
type TierPolicy struct {
	// WindowMonths is the rolling window of qualifying stars (12); it
	// holds at most MaxHistoryDays days.
	WindowMonths int `json:"window_months"`
	// StatusMonths is how long a tier lasts once reached, whatever the
	// window says later (12); a member is never moved down before.
	StatusMonths int `json:"status_months"`
}

// ChallengeKind is what a challenge counts.
type ChallengeKind string

// Kinds of challenges.
const (
	// KindVisits counts purchases: "3 visits in 7 days".
	KindVisits ChallengeKind = "visits"
	// KindSpend sums purchase amounts in minor units: "spend 20 EUR".
	KindSpend ChallengeKind = "spend"
	// KindProduct counts the quantity of matching items: "try a cold
	// brew".
	KindProduct ChallengeKind = "product"
	// KindStreak counts consecutive days with a purchase: "5 days in a
	// row".
	KindStreak ChallengeKind = "streak"
	// KindTimeOfDay counts purchases in a time of day: "after 2 pm".
	KindTimeOfDay ChallengeKind = "time_of_day"
	// KindMulti needs all of its steps done.
	KindMulti ChallengeKind = "multi"
)

// Challenge is a goal that grants bonus stars when reached.
type Challenge struct {
	ID          string        `json:"id"`
	Name        Text          `json:"name"`
	Description Text          `json:"description,omitzero"`
	Kind        ChallengeKind `json:"kind"`
	// Target is what completes it: visits, minor units, items, days.
	Target int64 `json:"target"`
	// SKUs and Categories are the items a product challenge counts (any
	// of them).
	SKUs       []string `json:"skus,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// From and To bound the time of day of a time-of-day challenge's
	// purchases (To excluded; empty To is midnight).
	From ClockTime `json:"from,omitempty"`
	To   ClockTime `json:"to,omitempty"`
	// Steps are the parts of a multi-step challenge; each is a challenge
	// of another kind without reward, schedule or audience.
	Steps []Challenge `json:"steps,omitempty"`
	// Start and End are when it can be activated and progressed (End
	// excluded); zero is open.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// WindowDays, when set, bounds the purchases that count to those in
	// the WindowDays days from activation (opt-in) or the last WindowDays
	// days (automatic): "3 visits in 7 days". Without a window, purchases
	// count from the activation or the Start, but at most MaxHistoryDays
	// days back.
	WindowDays int `json:"window_days,omitempty"`
	// OptIn challenges count only after the member activated them;
	// others count for everyone in the audience.
	OptIn bool `json:"opt_in,omitempty"`
	// Tiers and Segments are its audience; empty means every member.
	Tiers    []string `json:"tiers,omitempty"`
	Segments []string `json:"segments,omitempty"`
	// MaxCompletions bounds how often one member completes it (default 1).
	MaxCompletions int `json:"max_completions,omitempty"`
	// Reward is the bonus stars a completion grants.
	Reward int64 `json:"reward,omitempty"`
}

// Welcome grants stars on enrolment.
type Welcome struct {
	Points int64 `json:"points"`
}

// Birthday grants stars once a year around a member's birthday, only when
// the member consented to giving it.
type Birthday struct {
	Points int64 `json:"points"`
	// DaysBefore and DaysAfter open the window around the birthday in
	// which it is granted.
	DaysBefore int `json:"days_before,omitempty"`
	DaysAfter  int `json:"days_after,omitempty"`
}

// Referral grants stars to both sides after the referred member's first
// purchase.
type Referral struct {
	ReferrerPoints int64 `json:"referrer_points"`
	RefereePoints  int64 `json:"referee_points"`
	// MaxPerReferrer bounds the referrals one member is rewarded for.
	MaxPerReferrer int `json:"max_per_referrer"`
}

// StampCard gives a voucher for RewardID when N items of its categories
// or SKUs have been bought: "buy 9 coffees, the 10th is free".
type StampCard struct {
	ID         string   `json:"id"`
	Name       Text     `json:"name"`
	Stamps     int64    `json:"stamps"`
	SKUs       []string `json:"skus,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// RewardID is the catalog reward the voucher is for.
	RewardID string `json:"reward_id"`
}
