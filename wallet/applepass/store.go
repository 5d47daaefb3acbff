package applepass

import (
	"context"
	"errors"
	"time"
)

// Record is a member's pass of one pass type: the serial number the pass is
// known by and the token its devices authenticate with.
type Record struct {
	ProgramID  string
	MemberID   string
	PassTypeID string
	// Serial is random (16 bytes, hex) and unique within PassTypeID.
	Serial string
	// AuthToken is the pass's authenticationToken: 32 random bytes, hex.
	AuthToken string
	CreatedAt time.Time
	// UpdatedAt is when what the pass shows last changed: the later of
	// CreatedAt and the member's account's last change. Stores compute it
	// when they read a record; it is ignored on writes.
	UpdatedAt time.Time
}

// Registration is a device registered for updates of a pass.
type Registration struct {
	// DeviceID is the device's deviceLibraryIdentifier.
	DeviceID   string
	PassTypeID string
	Serial     string
	// PushToken is the device's APNs token for pass updates.
	PushToken string
	// CreatedAt is when the device last registered the pass.
	CreatedAt time.Time
}

// Limits on registrations, enforced by Store.Register.
const (
	// MaxPassesPerDevice bounds the passes one device registers for.
	MaxPassesPerDevice = 100
	// MaxDevicesPerPass bounds the devices registered for one pass.
	MaxDevicesPerPass = 10
)

// ErrTooManyRegistrations is returned by Store.Register when a limit is hit.
var ErrTooManyRegistrations = errors.New("applepass: too many registrations")

// Store keeps pass records and device registrations. store/sqlite and
// store/postgres implement it; applepasstest holds the suite they pass.
// Lookups return an error wrapping loyalty.ErrNotFound when nothing matches.
type Store interface {
	// CreatePass stores r unless the member already has a pass of
	// r.PassTypeID, and returns the member's pass either way: r, or the
	// one that was there.
	CreatePass(ctx context.Context, r Record) (Record, error)
	// Pass returns the member's pass of passTypeID.
	Pass(ctx context.Context, programID, memberID, passTypeID string) (Record, error)
	// PassBySerial returns the pass with the serial number.
	PassBySerial(ctx context.Context, passTypeID, serial string) (Record, error)

	// Register registers r's device for updates of r's pass, or updates
	// the push token of an existing registration; created reports whether
	// the registration is new. It returns ErrTooManyRegistrations when the
	// device has MaxPassesPerDevice passes or the pass MaxDevicesPerPass
	// devices, and a loyalty.ErrNotFound error when the pass does not exist.
	Register(ctx context.Context, r Registration) (created bool, err error)
	// Unregister removes a registration; found reports whether it existed.
	Unregister(ctx context.Context, deviceID, passTypeID, serial string) (found bool, err error)
	// UpdatedSince returns the serial numbers of the passes of passTypeID
	// the device is registered for whose UpdatedAt is after since (all of
	// them for a zero since), sorted, and the latest UpdatedAt among them.
	UpdatedSince(ctx context.Context, deviceID, passTypeID string, since time.Time) (serials []string, last time.Time, err error)
	// Registrations returns the registrations of a pass, oldest first.
	Registrations(ctx context.Context, passTypeID, serial string) ([]Registration, error)
	// DeleteRegistrationsByToken removes the registrations of passTypeID
	// with the push token that were created at or before before (APNs
	// reports a token unregistered as of a time; a registration made later
	// holds a new token). It returns how many it removed.
	DeleteRegistrationsByToken(ctx context.Context, passTypeID, pushToken string, before time.Time) (int, error)
}
