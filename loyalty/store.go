package loyalty

import "context"

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
type Tx interface {
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

	// AppendEntry writes e and sets its ID.
	AppendEntry(ctx context.Context, e *Entry) error
	// Entries returns up to limit entries of the member, newest first, with
	// IDs below beforeID (0: from the newest).
	Entries(ctx context.Context, programID, memberID string, beforeID int64, limit int) ([]Entry, error)

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

	IdempotencyRecord(ctx context.Context, programID, caller, key string) (IdempotencyRecord, error)
	PutIdempotencyRecord(ctx context.Context, r IdempotencyRecord) error
}
