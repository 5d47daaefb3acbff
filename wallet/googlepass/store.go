package googlepass

import (
	"context"
	"time"
)

// Pass is what Treue keeps of a member's Google Wallet loyalty object: that
// a save link was made for it, whether it is in the member's wallet, what
// it last showed and when it last notified.
type Pass struct {
	ProgramID string
	MemberID  string
	// ObjectID is the object's id (ObjectID), unique among passes.
	ObjectID  string
	CreatedAt time.Time

	// Saved reports whether the object is in the member's Google Wallet,
	// as the latest callback said: a "save" event sets it, a "del" event
	// clears it.
	Saved bool
	// SavedAsOf orders callbacks: the expiry (expTimeMillis) of the
	// callback message that set Saved; zero before the first callback.
	SavedAsOf time.Time

	// SyncedAt is when the object was last written through the REST API;
	// zero when never.
	SyncedAt time.Time
	// Tier is the tier name (in the member's locale) the object showed at
	// SyncedAt; empty for none.
	Tier string
	// ExpiryWarned is the expiry date of the points the member was last
	// warned about; zero when never.
	ExpiryWarned time.Time
}

// Store keeps members' Google Wallet passes. store/sqlite and
// store/postgres implement it; googlepasstest holds the suite they pass.
// Times are kept to the microsecond. Lookups return an error wrapping
// loyalty.ErrNotFound when nothing matches.
type Store interface {
	// CreatePass stores p unless the member has a pass already, and returns
	// the member's pass either way: p, or the one that was there. It
	// returns a loyalty.ErrNotFound error when the member does not exist.
	// Saved, SavedAsOf, SyncedAt, Tier and ExpiryWarned of p are ignored:
	// a new pass is not saved and was never synced.
	CreatePass(ctx context.Context, p Pass) (Pass, error)
	// Pass returns the member's pass.
	Pass(ctx context.Context, programID, memberID string) (Pass, error)
	// PassByObject returns the pass with the object id.
	PassByObject(ctx context.Context, objectID string) (Pass, error)

	// SetSaved records a save (saved true) or delete (false) callback
	// about the object, whose message expires at asOf. A callback older
	// than the latest one recorded (asOf before SavedAsOf) changes
	// nothing, so callbacks delivered out of order or replayed leave the
	// latest state. It returns the pass as it is afterwards and whether
	// the callback changed it.
	SetSaved(ctx context.Context, objectID string, saved bool, asOf time.Time) (p Pass, changed bool, err error)
	// MarkSynced records that the member's object was written at at,
	// showing tier, and that the member has been warned about the points
	// expiring at expiryWarned (zero keeps the date recorded before).
	MarkSynced(ctx context.Context, programID, memberID string, at time.Time, tier string, expiryWarned time.Time) error
	// ReserveNotification records a notifying update of the member's
	// object at now unless limit of them were recorded after now-window;
	// ok reports whether it recorded one. Records after now count too:
	// another replica's clock may run ahead. Concurrent calls for one pass, from any number of
	// replicas, never record more than limit in a window. Records older
	// than the window may be removed.
	ReserveNotification(ctx context.Context, programID, memberID string, now time.Time, window time.Duration, limit int) (ok bool, err error)
}
