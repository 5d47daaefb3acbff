package loyalty

import (
	"context"
	"time"
	"unicode/utf8"
)

// MaxSignInAge is how recent the sign-in behind a token must be for
// DeleteAccount: an old, possibly stolen, token cannot erase an account.
const MaxSignInAge = 5 * time.Minute

// MaxEraseReasonLen bounds an operator's reason for an erasure.
const MaxEraseReasonLen = 200

// Erasure is what erasing a member did.
type Erasure struct {
	ProgramID string
	// MemberID is the pseudonym the ledger is kept under.
	MemberID string
	// Card is the key the member's card was cached and watched under.
	Card CardKey
	At   time.Time
	// By is who asked: "member" or "operator:<id>"; Reason is the
	// operator's reason.
	By             string
	Reason         string
	VouchersVoided int
	HoldsReleased  int
	// BalanceKept is the balance left under the pseudonym: it still counts
	// towards the program's liability until it expires.
	BalanceKept int64
	// Removed is what the store removed; the erasure hook clears what the
	// store does not hold (the card cache, the Google Wallet object).
	Removed ErasedData
}

// WithErasureHook makes the Service call fn after every committed erasure,
// before DeleteAccount or EraseMember returns, to remove the member's data
// from outside the store: the card cache and streams, the wallets, push
// records. Erasures that fn could not finish are logged by fn; the store's
// part stands.
func WithErasureHook(fn func(context.Context, Erasure)) Option {
	return func(s *Service) { s.onErase = fn }
}

// DeleteAccount erases the customer's membership (see EraseMember for what
// that means) on their own request. The sign-in behind id must be at most
// MaxSignInAge old. It returns ErrUnauthenticated for an older sign-in and
// ErrNotEnrolled without a membership.
func (s *Service) DeleteAccount(ctx context.Context, c Customer, id Identity) (Erasure, error) {
	now := s.now()
	if id.AuthTime.IsZero() || now.Sub(id.AuthTime) > MaxSignInAge {
		return Erasure{}, errorf(ErrUnauthenticated, "deleting the account needs a sign-in within the last %v: sign in again and retry", MaxSignInAge)
	}
	return s.erase(ctx, "member", "", func(tx Tx) (Member, error) { return c.member(ctx, tx) })
}

// EraseMember erases the member of the operator's program with the card
// number: personal data goes from every table, issued vouchers are voided,
// active holds released, and the account and ledger stay under the member
// id, a pseudonym. It returns ErrInvalid for a malformed card number or an
// over-long reason, and ErrNotFound for an unknown card (an erased member's
// card number is gone).
func (s *Service) EraseMember(ctx context.Context, op Operator, cardNumber, reason string) (Erasure, error) {
	n, err := NormalizeCardNumber(cardNumber)
	if err != nil {
		return Erasure{}, err
	}
	if utf8.RuneCountInString(reason) > MaxEraseReasonLen || !utf8.ValidString(reason) {
		return Erasure{}, errorf(ErrInvalid, "reason must be valid UTF-8 of at most %d characters", MaxEraseReasonLen)
	}
	return s.erase(ctx, "operator:"+op.ID, reason, func(tx Tx) (Member, error) { return memberByCard(ctx, tx, op.ProgramID, n) })
}

// erase erases the member find returns, in one transaction, then runs the
// erasure hook. It writes no card change: nobody may see the card again.
func (s *Service) erase(ctx context.Context, by, reason string, find func(Tx) (Member, error)) (Erasure, error) {
	var e Erasure
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := find(tx)
		if err != nil {
			return err
		}
		now := s.now()
		e = Erasure{ProgramID: m.ProgramID, MemberID: m.ID, Card: CardKey{ProgramID: m.ProgramID, UID: m.FirebaseUID},
			At: now, By: by, Reason: reason}
		// The account first: it serializes the member's writes.
		a, err := tx.Account(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		e.BalanceKept = a.Balance
		if e.VouchersVoided, err = voidVouchers(ctx, tx, m, now); err != nil {
			return err
		}
		holds, err := tx.ActiveHolds(ctx, m.ProgramID, m.ID, now)
		if err != nil {
			return err
		}
		for _, h := range holds {
			h.Status, h.ClosedAt = HoldReleased, now
			if err := tx.SaveHold(ctx, h); err != nil {
				return err
			}
		}
		e.HoldsReleased = len(holds)
		e.Removed, err = tx.EraseMember(ctx, m.ProgramID, m.ID, now)
		return err
	})
	if err != nil {
		return Erasure{}, err
	}
	if s.onErase != nil {
		s.onErase(ctx, e)
	}
	return e, nil
}

// maxVouchersVoided bounds the vouchers one erasure reads; a member holds
// far fewer.
const maxVouchersVoided = 10_000

// voidVouchers voids m's issued vouchers and returns how many.
func voidVouchers(ctx context.Context, tx Tx, m Member, now time.Time) (int, error) {
	vs, err := tx.Vouchers(ctx, m.ProgramID, m.ID, maxVouchersVoided)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range vs {
		if v.Status != VoucherIssued {
			continue
		}
		v.Status = VoucherVoided
		if err := tx.SaveVoucherRedemption(ctx, v); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
