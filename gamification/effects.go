package gamification

// Effects are what an event grants and changes. Applying them is the
// caller's: in the purchase's transaction, each Grant and Voucher under
// its Key, so that applying them twice grants once.
type Effects struct {
	// Stars are the purchase's stars with multipliers: Base plus the
	// grants of kind ReasonTier and ReasonBoost below.
	Grants   []Grant
	Vouchers []VoucherGrant
	// Tier is the member's tier after the event, when it changed.
	Tier *TierChange
	// Challenges is the progress of the member's challenges after the
	// event, for the app ("2 of 3 visits").
	Challenges []Progress
	// Completed are the challenge states to store for the completions
	// among Grants.
	Completed map[string]ChallengeState
	// Stamps is the progress of the member's stamp cards.
	Stamps []Progress
	// StampTotals are the new stamp totals of the cards the purchase added
	// stamps to, by card ID; nil when it added none. The caller stores
	// them into Member.Stamps (replacing the old totals) with Vouchers.
	StampTotals map[string]int64
}

// ReasonKind says why stars are granted.
type ReasonKind string

// Reasons for grants.
const (
	ReasonTier      ReasonKind = "tier"      // the tier's multiplier on a purchase
	ReasonBoost     ReasonKind = "boost"     // a boost on a purchase
	ReasonChallenge ReasonKind = "challenge" // a challenge completed
	ReasonWelcome   ReasonKind = "welcome"
	ReasonBirthday  ReasonKind = "birthday"
	ReasonReferral  ReasonKind = "referral"
)

// Grant is bonus stars for a member.
type Grant struct {
	// MemberID is who gets them: the member, or their referrer.
	MemberID string
	Points   int64
	Kind     ReasonKind
	// RuleID is the tier, boost or challenge that granted them.
	RuleID string
	// Reason is the line the activity list shows: "Challenge „3 Besuche
	// in 7 Tagen“ geschafft".
	Reason Text
	// Key makes the grant idempotent, unique per member:
	// "challenge:coffee3:1", "welcome", "birthday:2026".
	Key string
}

// VoucherGrant is a voucher for a catalog reward, from a stamp card.
type VoucherGrant struct {
	RewardID string
	CardID   string
	Reason   Text
	Key      string
}

// TierChange is a member's move to another tier.
type TierChange struct {
	From, To TierState
	Reason   Text
}

// Progress is how far a member is toward a goal.
type Progress struct {
	ID      string
	Current int64
	Target  int64
	// Text is the progress as the app shows it: "2 von 3 Besuchen".
	Text Text
}
