package loyalty

import (
	"context"
	"time"
)

// CardState is what a member's card shows at one version: the copy Treue
// caches and sends to the apps watching the card.
type CardState struct {
	ProgramID string `json:"program_id"`
	MemberID  string `json:"member_id"`
	// UID is the signed-in user the card belongs to.
	UID        string `json:"uid"`
	CardNumber string `json:"card_number"`
	Locale     Locale `json:"locale"`

	ProgramName string `json:"program_name"`
	PointName   Text   `json:"point_name"`
	// TierID is the member's tier; empty in programs without tiers.
	TierID   string `json:"tier_id,omitempty"`
	TierName Text   `json:"tier_name"`
	// NextTierID and NextTierName are the next tier up, empty at the top
	// and without tiers; NextTierPoints is what it needs and
	// QualifyingPoints what the member has in the window, as of the last
	// purchase.
	NextTierID       string `json:"next_tier_id,omitempty"`
	NextTierName     Text   `json:"next_tier_name,omitzero"`
	NextTierPoints   int64  `json:"next_tier_points,omitempty"`
	QualifyingPoints int64  `json:"qualifying_points,omitempty"`
	// Challenges and StampCards are the member's progress as of the last
	// purchase: the challenges counting it and the program's stamp cards.
	Challenges []GoalProgress `json:"challenges,omitempty"`
	StampCards []GoalProgress `json:"stamp_cards,omitempty"`

	// Version is the account's version this state was taken at.
	Version          int64     `json:"version"`
	Balance          int64     `json:"balance"`
	Available        int64     `json:"available"`
	Pending          int64     `json:"pending,omitempty"`
	NextExpiry       time.Time `json:"next_expiry,omitzero"`
	NextExpiryPoints int64     `json:"next_expiry_points,omitempty"`
	// ValidUntil is when the state changes by itself, without a write: a
	// hold runs out, pending points become available or points fall due.
	// Zero means it holds until the next version.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// TakenAt is when the state was computed.
	TakenAt time.Time `json:"taken_at"`
}

// GoalProgress is how far a member is toward a challenge or a full stamp
// card: "2 von 3 Besuchen".
type GoalProgress struct {
	ID      string `json:"id"`
	Name    Text   `json:"name"`
	Current int64  `json:"current"`
	Target  int64  `json:"target"`
	Text    Text   `json:"text"`
	// Reward is the bonus points a completed challenge grants (0 for a
	// stamp card, whose reward is a voucher).
	Reward int64 `json:"reward,omitempty"`
	// EndsAt is when the challenge or its activation ends; zero when open.
	EndsAt time.Time `json:"ends_at,omitzero"`
}

// Key returns the key a card is cached and watched under: its program and
// the user it belongs to.
func (c CardState) Key() CardKey { return CardKey{ProgramID: c.ProgramID, UID: c.UID} }

// FreshAt reports whether c still shows the card as it is at now.
func (c CardState) FreshAt(now time.Time) bool {
	return c.ValidUntil.IsZero() || now.Before(c.ValidUntil)
}

// CardKey names a customer's card for caches and watchers.
type CardKey struct {
	ProgramID string
	UID       string
}

// CardChange is one committed change of a card: the state after it and the
// ledger entries that caused it (none for a hold or its release). The store
// writes it to its outbox in the transaction of the change, so it survives
// a crash right after the commit.
type CardChange struct {
	// Seq is the outbox's id of the change, set by the store.
	Seq int64 `json:"seq,omitempty"`
	// FromVersion is the card's version before the change. A watcher that
	// last saw an older version has missed a change.
	FromVersion int64     `json:"from_version"`
	State       CardState `json:"state"`
	// Entries are the new ledger entries, oldest first, without their lot
	// uses.
	Entries []Entry `json:"entries,omitempty"`
}

// Outbox keeps committed card changes until a dispatcher has delivered them.
// A Tx implements it.
type Outbox interface {
	// AppendCardChange writes c to the outbox and sets c.Seq.
	AppendCardChange(ctx context.Context, c *CardChange) error
	// CardChanges returns up to limit changes written at or before
	// writtenBefore, lowest Seq first, that no dispatcher has claimed or
	// whose claim has run out by now, and claims them until now plus lease,
	// so that dispatchers on several replicas share the work.
	CardChanges(ctx context.Context, writtenBefore, now time.Time, lease time.Duration, limit int) ([]CardChange, error)
	// DeleteCardChanges removes delivered changes; unknown seqs are ignored.
	DeleteCardChanges(ctx context.Context, seqs []int64) error
}
