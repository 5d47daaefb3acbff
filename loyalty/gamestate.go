package loyalty

import (
	"time"

	"github.com/treue/treue/gamification"
)

// GameState is a member's standing in the program's gamification: tier,
// challenges, stamp cards and referral. A member without a stored state
// has the zero state.
//
// It has no lock of its own: read-write transactions read the member's
// Account first, which serializes every write of one member's state.
type GameState struct {
	ProgramID string
	MemberID  string
	// Tier is the member's tier; an empty ID is the base tier.
	Tier gamification.TierState `json:"tier,omitzero"`
	// Segments are the operator's segments the member is in.
	Segments []string `json:"segments,omitempty"`
	// Birthday is the member's birthday, given with consent; zero when not.
	Birthday time.Time `json:"birthday,omitzero"`
	// Challenges are the member's challenge states, by challenge ID.
	Challenges map[string]gamification.ChallengeState `json:"challenges,omitempty"`
	// Stamps are the stamps collected on each stamp card, by card ID, in
	// total (a voucher is due at every full card).
	Stamps map[string]int64 `json:"stamps,omitempty"`
	// Progress is the member's challenge and stamp card progress as of the
	// last purchase, for the card stream; ListChallenges computes it anew.
	Progress      []gamification.Progress `json:"progress,omitempty"`
	StampProgress []gamification.Progress `json:"stamp_progress,omitempty"`
	// Qualifying is the member's qualifying points in the tier window as
	// of the last purchase.
	Qualifying int64 `json:"qualifying,omitempty"`
	// ReferredBy is the member whose code this member enrolled with;
	// ReferralSettled is set by the member's first paid purchase, which
	// rewards the referral (or not, when the referrer reached the cap).
	ReferredBy      string `json:"referred_by,omitempty"`
	ReferralSettled bool   `json:"referral_settled,omitempty"`
	// ReferralsRewarded counts the referrals this member was rewarded for.
	ReferralsRewarded int `json:"referrals_rewarded,omitempty"`
	// ReferralCode is the code others enroll with to be referred by this
	// member, unique in the program; empty until the member asks for it.
	ReferralCode string `json:"-"`
}

// GrantRecord notes that a bonus keyed Key was granted to a member, so
// that it is granted once: "welcome", "challenge:three-visits:1".
type GrantRecord struct {
	ProgramID string
	MemberID  string
	Key       string
	CreatedAt time.Time
}

// Operator is a program operator's API key holder: it configures the
// program's rules and reads its figures, never a member's data.
type Operator struct {
	ID        string
	ProgramID string
	Name      string
	// KeyHash is the SHA-256 hash of the operator's API key (HashAPIKey).
	KeyHash []byte
}
