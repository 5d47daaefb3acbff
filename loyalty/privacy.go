package loyalty

import (
	"context"
	"time"
)

// PrivacyStore is the part of a Tx that reads everything about one member
// for an export and erases a member.
type PrivacyStore interface {
	// MemberData returns every row the store holds about the member, in
	// every table, each list oldest first. It returns ErrNotFound for an
	// unknown member.
	MemberData(ctx context.Context, programID, memberID string) (MemberData, error)
	// SaveMemberProfile writes m's Name and Email.
	SaveMemberProfile(ctx context.Context, m Member) error
	// EraseMember removes the member's personal data from every table:
	// the sign-in id and card number are replaced by values derived from
	// the member id ("erased:<id>"; the card number, unique across
	// programs, "erased:<program id>:<id>"), name and e-mail cleared,
	// ErasedAt set to at; consents, devices, push messages, game state
	// (birthday, referral code, progress), grants, card changes, wallet
	// passes with their registrations and notifications, and the
	// idempotency records of the member and of the member's entries are
	// deleted. The account, entries, lots, purchases, holds and vouchers
	// stay under the member id. The caller voids vouchers and releases
	// holds first. It returns what was removed; for an erased member it
	// removes nothing and returns an empty ErasedData.
	EraseMember(ctx context.Context, programID, memberID string, at time.Time) (ErasedData, error)
}

// MemberData is everything a store holds about one member.
type MemberData struct {
	Member    Member
	Account   Account
	Entries   []Entry
	Purchases []Purchase
	Lots      []Lot
	Vouchers  []Voucher
	Holds     []Hold
	// GameState is the zero state (ProgramID and MemberID set) when none
	// was saved.
	GameState GameState
	Grants    []GrantRecord
	Consents  []Consent
	Devices   []Device
	Pushes    []PushRecord
	// WalletPasses are the member's Apple Wallet passes and Google Wallet
	// object.
	WalletPasses []WalletPass
	// CardChanges are the member's card changes not yet delivered or
	// cleaned up (the outbox).
	CardChanges []CardChangeRecord
}

// PushRecord is a push message queued for or sent to a member.
type PushRecord struct {
	Kind      string
	Title     Text
	Body      Text
	Data      map[string]string
	CreatedAt time.Time
	State     string
	// SentAt is zero when the message was not sent.
	SentAt time.Time
	Reason string
}

// WalletKind says which wallet a pass is in.
type WalletKind string

// The wallets.
const (
	WalletApple  WalletKind = "apple"
	WalletGoogle WalletKind = "google"
)

// WalletPass is one of a member's wallet passes.
type WalletPass struct {
	Kind WalletKind
	// ID is the Apple pass's "<pass type id>/<serial>" or the Google
	// Wallet object id.
	ID        string
	CreatedAt time.Time
	// AuthToken is the Apple pass's web service token; empty for Google.
	AuthToken string
	// Saved says whether Google reported the object saved; false for
	// Apple.
	Saved bool
	// Registrations are the devices an Apple pass is registered on for
	// updates; none for Google.
	Registrations []WalletRegistration
}

// WalletRegistration is a device registered for an Apple pass's updates.
type WalletRegistration struct {
	DeviceID  string
	PushToken string
	CreatedAt time.Time
}

// CardChangeRecord is a row of the outbox about the member.
type CardChangeRecord struct {
	Version   int64
	Payload   []byte
	CreatedAt time.Time
}

// ErasedData is what EraseMember removed.
type ErasedData struct {
	// Devices are the FCM tokens removed.
	Devices []string
	// ApplePasses counts the Apple passes removed.
	ApplePasses int
	// GoogleObjectID is the Google Wallet object of the member, to void
	// at Google; empty when there was none.
	GoogleObjectID string
}
