package loyalty

import "time"

// HoldStatus is where a hold is in its life.
type HoldStatus string

// The statuses of a hold. An active hold past its expiry counts as released.
const (
	HoldActive   HoldStatus = "active"
	HoldCaptured HoldStatus = "captured"
	HoldReleased HoldStatus = "released"
)

// Hold reserves points of a member at checkout (pay with points), so they
// cannot be spent twice, until the till captures or releases them or the
// hold expires.
type Hold struct {
	ProgramID string     `json:"program_id"`
	ID        string     `json:"id"`
	MemberID  string     `json:"member_id"`
	TillID    string     `json:"till_id"`
	Points    int64      `json:"points"`
	Status    HoldStatus `json:"status"`
	// Captured is the points spent when the hold was captured.
	Captured  int64     `json:"captured,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// ClosedAt is when the hold was captured or released; zero while active.
	ClosedAt time.Time `json:"closed_at,omitzero"`
}

// activeAt reports whether h still reserves its points at now.
func (h Hold) activeAt(now time.Time) bool {
	return h.Status == HoldActive && now.Before(h.ExpiresAt)
}

// StatusAt returns h's status at now: an active hold past its expiry is
// released.
func (h Hold) StatusAt(now time.Time) HoldStatus {
	if h.Status == HoldActive && !now.Before(h.ExpiresAt) {
		return HoldReleased
	}
	return h.Status
}

// Bounds of a hold's lifetime.
const (
	MinHoldTTL     = time.Minute
	MaxHoldTTL     = 30 * time.Minute
	DefaultHoldTTL = 10 * time.Minute
)
