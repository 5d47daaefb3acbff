package loyalty

import (
	"context"
	"time"
)

// Store keeps programs, members and the ledger. The packages under store/
// implement it; store/storetest holds the suite every implementation passes.
type Store interface {
	// Update runs fn in a read-write transaction and commits it when fn returns
	// nil. On a transient failure (a serialization conflict, a busy database)
	// the store may run fn again, so fn must have no effects outside tx.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's connections.
	Close() error
}

// Tx is one transaction of a Store. Lookups return an error wrapping
// ErrNotFound when nothing matches; writes inside View fail.
//
// In a read-write transaction, reading one row of a kind the transaction may
// change (an account, a reward, a purchase, a voucher, a hold, an
// idempotency key) locks it until the transaction ends, so concurrent
// transactions on the same row run one after the other. Rows are locked in
// the order the Service reads them, the account last.
type Tx interface {
	// Program returns the program; its Rules may be shared with other
	// callers, so treat them as read-only.
	Program(ctx context.Context, id string) (Program, error)
	// PutProgram creates or replaces a program.
	PutProgram(ctx context.Context, p Program) error

	// Rewards returns the program's rewards, active or not, cheapest first.
	Rewards(ctx context.Context, programID string) ([]Reward, error)
	Reward(ctx context.Context, programID, id string) (Reward, error)
	// PutReward creates or replaces a reward.
	PutReward(ctx context.Context, r Reward) error

	// TillByKeyHash returns the till whose API key has the SHA-256 hash h.
	TillByKeyHash(ctx context.Context, h []byte) (Till, error)
	// PutTill creates or replaces a till with its key hash.
	PutTill(ctx context.Context, t Till) error

	MemberByUID(ctx context.Context, programID, uid string) (Member, error)
	MemberByID(ctx context.Context, programID, id string) (Member, error)
	// MemberByCard finds a member by card number; an empty programID matches
	// every program (card numbers are unique across programs).
	MemberByCard(ctx context.Context, programID, cardNumber string) (Member, error)
	// CreateMember creates the member and an account with a zero balance. It
	// returns ErrConflict when the card number is taken.
	CreateMember(ctx context.Context, m Member) error

	// Account returns the member's account. In a read-write transaction it
	// locks the account until the transaction ends.
	Account(ctx context.Context, programID, memberID string) (Account, error)
	// SaveAccount writes a's balance, version and time.
	SaveAccount(ctx context.Context, a Account) error

	// AppendEntry writes e and sets its ID. It takes e.Uses from their lots
	// and records them with the entry; it returns an error when a lot has
	// fewer points left than a use takes.
	AppendEntry(ctx context.Context, e *Entry) error
	// Entries returns up to limit entries of the member, newest first, with
	// IDs below beforeID (0: from the newest).
	Entries(ctx context.Context, programID, memberID string, beforeID int64, limit int) ([]Entry, error)
	// EntriesSince returns up to limit entries of the member written after
	// the account's version afterVersion, oldest first.
	EntriesSince(ctx context.Context, programID, memberID string, afterVersion int64, limit int) ([]Entry, error)

	Purchase(ctx context.Context, programID, id string) (Purchase, error)
	PurchaseByReceipt(ctx context.Context, programID, receiptID string) (Purchase, error)
	// CreatePurchase writes p. It returns ErrConflict when the program has a
	// purchase with the same receipt id.
	CreatePurchase(ctx context.Context, p Purchase) error
	// SavePurchaseReturn writes p's returned amount and reversed points.
	SavePurchaseReturn(ctx context.Context, p Purchase) error

	CreateVoucher(ctx context.Context, v Voucher) error
	Voucher(ctx context.Context, programID, code string) (Voucher, error)
	// Vouchers returns up to limit of the member's vouchers, newest first.
	Vouchers(ctx context.Context, programID, memberID string, limit int) ([]Voucher, error)
	// SaveVoucherRedemption writes v's status, redemption time and till.
	SaveVoucherRedemption(ctx context.Context, v Voucher) error

	// IdempotencyRecord returns the record of a key. In a read-write
	// transaction it locks the key first, whether or not it has a record, so
	// that concurrent requests with one key run one after the other.
	IdempotencyRecord(ctx context.Context, programID, caller, key string) (IdempotencyRecord, error)
	PutIdempotencyRecord(ctx context.Context, r IdempotencyRecord) error

	// CreateLot writes l and sets its ID.
	CreateLot(ctx context.Context, l *Lot) error
	// OpenLots returns the member's lots with points remaining, soonest
	// expiry first (never-expiring last), then by ID.
	OpenLots(ctx context.Context, programID, memberID string) ([]Lot, error)
	// MembersWithDueLots returns up to limit members, of any program, that
	// have lots with points remaining whose expiry is at or before now.
	MembersWithDueLots(ctx context.Context, now time.Time, limit int) ([]MemberKey, error)

	CreateHold(ctx context.Context, h Hold) error
	Hold(ctx context.Context, programID, id string) (Hold, error)
	// SaveHold writes h's status, captured points and closing time.
	SaveHold(ctx context.Context, h Hold) error
	// ActiveHolds returns the member's holds that are active and not
	// expired at now.
	ActiveHolds(ctx context.Context, programID, memberID string, now time.Time) ([]Hold, error)

	// GameState returns the member's gamification state, or the zero state
	// with ProgramID and MemberID set when none was saved. Read-write
	// transactions read the member's Account first (see GameState).
	GameState(ctx context.Context, programID, memberID string) (GameState, error)
	// SaveGameState creates or replaces s. It returns ErrConflict when
	// s.ReferralCode is another member's code in the program.
	SaveGameState(ctx context.Context, s GameState) error
	// MemberByReferralCode returns the member whose referral code is code.
	MemberByReferralCode(ctx context.Context, programID, code string) (Member, error)
	// CreateGrant records g and returns true, or returns false and writes
	// nothing when the member has a grant with g.Key already.
	CreateGrant(ctx context.Context, g GrantRecord) (bool, error)
	// PurchasesSince returns the member's purchases created at or after
	// since, oldest first; when there are more than limit, the newest
	// limit of them.
	PurchasesSince(ctx context.Context, programID, memberID string, since time.Time, limit int) ([]Purchase, error)
	// Members returns up to limit members of the program whose IDs sort
	// after afterID, by ID.
	Members(ctx context.Context, programID, afterID string, limit int) ([]Member, error)

	// OperatorByKeyHash returns the operator whose API key has the SHA-256
	// hash h.
	OperatorByKeyHash(ctx context.Context, h []byte) (Operator, error)
	// PutOperator creates or replaces an operator with its key hash.
	PutOperator(ctx context.Context, o Operator) error

	ConsentStore
	DeviceStore
	PrivacyStore
	ReminderStore
	Outbox
}

// MemberKey names one member.
type MemberKey struct {
	ProgramID string
	MemberID  string
}
