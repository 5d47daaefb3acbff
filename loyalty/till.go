package loyalty

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/redact"
)

// tillCaller returns the idempotency scope of till t.
func tillCaller(t Till) string { return "till:" + t.ID }

// LookupMember returns the card with the given number in the till's program.
// It returns ErrInvalid for a malformed number and ErrNotFound when no
// member of the program has it.
func (s *Service) LookupMember(ctx context.Context, t Till, cardNumber string) (Card, error) {
	n, err := NormalizeCardNumber(cardNumber)
	if err != nil {
		return Card{}, err
	}
	var card Card
	err = s.store.View(ctx, func(tx Tx) error {
		m, err := memberByCard(ctx, tx, t.ProgramID, n)
		if err != nil {
			return err
		}
		card, err = s.cardOf(ctx, tx, m)
		return err
	})
	return card, err
}

func memberByCard(ctx context.Context, tx Tx, programID, n string) (Member, error) {
	m, err := tx.MemberByCard(ctx, programID, n)
	if errors.Is(err, ErrNotFound) {
		return Member{}, errorf(ErrNotFound, "no member of this program has card %s", MaskCardNumber(n))
	}
	return m, err
}

// MaskCardNumber returns n with all but its last four digits hidden, for
// logs and error messages.
func MaskCardNumber(n string) string { return redact.Card(n) }

// EarnRequest is a purchase posted by a till.
type EarnRequest struct {
	CardNumber     string     `json:"card_number"`
	AmountMinor    int64      `json:"amount_minor"`
	Currency       string     `json:"currency"`
	IdempotencyKey string     `json:"-"`
	ReceiptID      string     `json:"receipt_id,omitempty"`
	Lines          []LineItem `json:"lines,omitempty"`
}

// EarnResult is what a purchase earned.
type EarnResult struct {
	PurchaseID string `json:"purchase_id"`
	EntryID    int64  `json:"entry_id"`
	MemberID   string `json:"member_id"`
	Points     int64  `json:"points"`
	// BonusPoints are what the program's rules granted the member on top:
	// tier and boost multipliers, completed challenges, a referral.
	BonusPoints int64 `json:"bonus_points,omitempty"`
	Balance     int64 `json:"balance"`
}

func (r EarnResult) writtenEntry() int64 { return r.EntryID }

// Limits of a purchase's receipt.
const (
	MaxLineItems    = 100
	maxReceiptIDLen = 64
	maxSKULen       = 64
	maxLineNameLen  = 128
	maxCategoryLen  = 64
	maxQuantity     = 10_000
)

// validate normalizes r and returns ErrInvalid for anything malformed. The
// program's own limits are checked in Earn.
func (r *EarnRequest) validate() error {
	n, err := NormalizeCardNumber(r.CardNumber)
	if err != nil {
		return err
	}
	r.CardNumber = n
	if r.AmountMinor <= 0 {
		return errorf(ErrInvalid, "amount_minor must be positive (in minor units: 1250 for 12.50 EUR), got %d", r.AmountMinor)
	}
	if r.AmountMinor > MaxAmountMinor {
		return errorf(ErrInvalid, "amount_minor %d is beyond any purchase Treue accepts (%d)", r.AmountMinor, int64(MaxAmountMinor))
	}
	if !isCurrencyCode(r.Currency) {
		return errorf(ErrInvalid, "currency %q is not an ISO 4217 code such as EUR", r.Currency)
	}
	if err := validateIdempotencyKey(r.IdempotencyKey); err != nil {
		return err
	}
	if err := validateText("receipt_id", r.ReceiptID, 0, maxReceiptIDLen); err != nil {
		return err
	}
	if len(r.Lines) > MaxLineItems {
		return errorf(ErrInvalid, "at most %d line_items are allowed, got %d", MaxLineItems, len(r.Lines))
	}
	for i, l := range r.Lines {
		if err := l.validate(); err != nil {
			return errorf(ErrInvalid, "line_items[%d]: %s", i, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
		}
	}
	return nil
}

func (l LineItem) validate() error {
	if err := validateText("sku", l.SKU, 1, maxSKULen); err != nil {
		return err
	}
	if err := validateText("name", l.Name, 0, maxLineNameLen); err != nil {
		return err
	}
	if err := validateText("category", l.Category, 0, maxCategoryLen); err != nil {
		return err
	}
	if l.Quantity < 1 || l.Quantity > maxQuantity {
		return errorf(ErrInvalid, "quantity must be 1 to %d, got %d", maxQuantity, l.Quantity)
	}
	if l.AmountMinor < 0 || l.AmountMinor > MaxAmountMinor {
		return errorf(ErrInvalid, "amount_minor must be 0 to %d, got %d", int64(MaxAmountMinor), l.AmountMinor)
	}
	return nil
}

// validateText returns ErrInvalid unless s is valid UTF-8 without control
// characters, min to max bytes long.
func validateText(field, s string, min, max int) error {
	if len(s) < min || len(s) > max {
		return errorf(ErrInvalid, "%s must be %d to %d bytes long, got %d", field, min, max, len(s))
	}
	if !utf8.ValidString(s) {
		return errorf(ErrInvalid, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errorf(ErrInvalid, "%s must not contain control characters", field)
		}
	}
	return nil
}

// isCurrencyCode reports whether s looks like an ISO 4217 code: three
// capital letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Earn posts a purchase for the till's program and credits its points. A
// retry with the same key returns the first EarnResult.
//
// It returns ErrInvalid for malformed input or a currency or amount the
// program does not take, ErrNotFound for an unknown card, and ErrConflict
// when the key was used with other parameters or the receipt was posted
// before under another key.
func (s *Service) Earn(ctx context.Context, t Till, req EarnRequest) (EarnResult, error) {
	if err := req.validate(); err != nil {
		return EarnResult{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: req.IdempotencyKey, CreatedAt: s.now(),
		Fingerprint: fingerprint("Earn", req),
	}
	var res EarnResult
	err := s.update(ctx, func(tx Tx) error {
		var err error
		res, err = once(ctx, tx, rec, func() (EarnResult, error) { return s.earn(ctx, tx, t, req) })
		return err
	})
	return res, err
}

func (s *Service) earn(ctx context.Context, tx Tx, t Till, req EarnRequest) (EarnResult, error) {
	now := s.now()
	p, err := tx.Program(ctx, t.ProgramID)
	if err != nil {
		return EarnResult{}, err
	}
	if req.Currency != p.Currency {
		return EarnResult{}, errorf(ErrInvalid, "currency %s is not this program's: post purchases in %s", req.Currency, p.Currency)
	}
	if req.AmountMinor > p.MaxPurchaseMinor {
		return EarnResult{}, errorf(ErrInvalid, "amount_minor %d exceeds the program's largest purchase (%d): check the amount is in minor units", req.AmountMinor, p.MaxPurchaseMinor)
	}
	m, err := memberByCard(ctx, tx, t.ProgramID, req.CardNumber)
	if err != nil {
		return EarnResult{}, err
	}
	if req.ReceiptID != "" {
		if prev, err := tx.PurchaseByReceipt(ctx, t.ProgramID, req.ReceiptID); err == nil {
			return EarnResult{}, errorf(ErrConflict, "receipt_id %q was already posted (purchase %s) under another idempotency_key", req.ReceiptID, prev.ID)
		} else if !errors.Is(err, ErrNotFound) {
			return EarnResult{}, err
		}
	}
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return EarnResult{}, err
	}
	g, err := s.loadGame(ctx, tx, p, m, &a, now)
	if err != nil {
		return EarnResult{}, err
	}
	var history gamification.History
	if g != nil {
		if history, err = gameHistory(ctx, tx, g.rules, m, g.gameMember(), now); err != nil {
			return EarnResult{}, err
		}
	}
	id, err := s.newID("pur")
	if err != nil {
		return EarnResult{}, err
	}
	pur := Purchase{
		ProgramID: t.ProgramID, ID: id, MemberID: m.ID, TillID: t.ID, ReceiptID: req.ReceiptID,
		AmountMinor: req.AmountMinor, Currency: req.Currency, Points: p.Earn.PointsFor(req.AmountMinor),
		Lines: req.Lines, CreatedAt: now,
	}
	var effects gamification.Effects
	if g != nil {
		pur.Points, effects = g.earnPurchase(history, pur)
	}
	if err := tx.CreatePurchase(ctx, pur); err != nil {
		return EarnResult{}, err
	}
	e := Entry{
		ProgramID: m.ProgramID, MemberID: m.ID, Kind: EntryEarn, Points: pur.Points, CreatedAt: now,
		PurchaseID: pur.ID, Detail: EntryDetail{AmountMinor: pur.AmountMinor, Currency: pur.Currency, ReceiptID: pur.ReceiptID},
	}
	if err := credit(ctx, tx, p, &a, &e); err != nil {
		return EarnResult{}, err
	}
	res := EarnResult{PurchaseID: pur.ID, EntryID: e.ID, MemberID: m.ID, Points: pur.Points}
	if g != nil {
		if err := g.settle(ctx, tx, effects, pur.AmountMinor); err != nil {
			return EarnResult{}, err
		}
		res.BonusPoints = g.bonus
	}
	res.Balance = a.Balance
	return res, nil
}

// ReverseRequest is a return of (part of) a purchase. Exactly one of
// PurchaseID and ReceiptID names the purchase.
type ReverseRequest struct {
	PurchaseID     string `json:"purchase_id,omitempty"`
	ReceiptID      string `json:"receipt_id,omitempty"`
	AmountMinor    int64  `json:"amount_minor"`
	Currency       string `json:"currency,omitempty"`
	IdempotencyKey string `json:"-"`
}

// ReverseResult is what a return took back.
type ReverseResult struct {
	PurchaseID    string `json:"purchase_id"`
	MemberID      string `json:"member_id"`
	Points        int64  `json:"points"`
	Unrecovered   int64  `json:"unrecovered"`
	Balance       int64  `json:"balance"`
	ReturnedMinor int64  `json:"returned_minor"`
	EntryID       int64  `json:"entry_id,omitempty"`
}

func (r ReverseResult) writtenEntry() int64 { return r.EntryID }

func (r ReverseRequest) validate() error {
	if (r.PurchaseID == "") == (r.ReceiptID == "") {
		return errorf(ErrInvalid, "name the purchase by exactly one of purchase_id and receipt_id")
	}
	if err := validateText("purchase_id", r.PurchaseID, 0, 64); err != nil {
		return err
	}
	if err := validateText("receipt_id", r.ReceiptID, 0, maxReceiptIDLen); err != nil {
		return err
	}
	if r.AmountMinor < 0 || r.AmountMinor > MaxAmountMinor {
		return errorf(ErrInvalid, "amount_minor must be 0 (everything left) to %d, got %d", int64(MaxAmountMinor), r.AmountMinor)
	}
	if r.Currency != "" && !isCurrencyCode(r.Currency) {
		return errorf(ErrInvalid, "currency %q is not an ISO 4217 code such as EUR", r.Currency)
	}
	return validateIdempotencyKey(r.IdempotencyKey)
}

// Reverse takes back the points of a returned purchase in proportion to the
// amount returned; the parts of a purchase returned in several steps take
// back exactly its points in all. Points already spent are not taken (the
// balance never goes negative) and are reported as Unrecovered. A retry with
// the same key returns the first ReverseResult.
//
// It returns ErrInvalid for malformed input, ErrNotFound for an unknown
// purchase, ErrFailedPrecondition when the amount exceeds what is left to
// return, and ErrConflict when the key was used with other parameters.
func (s *Service) Reverse(ctx context.Context, t Till, req ReverseRequest) (ReverseResult, error) {
	if err := req.validate(); err != nil {
		return ReverseResult{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: req.IdempotencyKey, CreatedAt: s.now(),
		Fingerprint: fingerprint("Reverse", req),
	}
	var res ReverseResult
	err := s.update(ctx, func(tx Tx) error {
		var err error
		res, err = once(ctx, tx, rec, func() (ReverseResult, error) { return s.reverse(ctx, tx, t, req) })
		return err
	})
	return res, err
}

func (s *Service) reverse(ctx context.Context, tx Tx, t Till, req ReverseRequest) (ReverseResult, error) {
	var (
		pur Purchase
		err error
	)
	if req.PurchaseID != "" {
		pur, err = tx.Purchase(ctx, t.ProgramID, req.PurchaseID)
	} else {
		pur, err = tx.PurchaseByReceipt(ctx, t.ProgramID, req.ReceiptID)
	}
	if errors.Is(err, ErrNotFound) {
		return ReverseResult{}, errorf(ErrNotFound, "no such purchase in this program")
	} else if err != nil {
		return ReverseResult{}, err
	}
	if req.Currency != "" && req.Currency != pur.Currency {
		return ReverseResult{}, errorf(ErrInvalid, "currency %s is not the purchase's (%s)", req.Currency, pur.Currency)
	}
	left := pur.AmountMinor - pur.ReturnedMinor
	if left == 0 {
		return ReverseResult{}, errorf(ErrFailedPrecondition, "purchase %s was already returned in full", pur.ID)
	}
	amount := req.AmountMinor
	if amount == 0 {
		amount = left
	}
	if amount > left {
		return ReverseResult{}, errorf(ErrFailedPrecondition, "amount_minor %d exceeds what is left to return of purchase %s (%d)", amount, pur.ID, left)
	}
	pur.ReturnedMinor += amount
	due := pur.pointsDueAfterReturn(pur.ReturnedMinor) - pur.ReversedPoints
	pur.ReversedPoints += due
	if err := tx.SavePurchaseReturn(ctx, pur); err != nil {
		return ReverseResult{}, err
	}
	a, err := tx.Account(ctx, pur.ProgramID, pur.MemberID)
	if err != nil {
		return ReverseResult{}, err
	}
	res := ReverseResult{PurchaseID: pur.ID, MemberID: pur.MemberID, ReturnedMinor: pur.ReturnedMinor, Balance: a.Balance}
	if due == 0 {
		return res, nil
	}
	now := s.now()
	uses, err := reversalUses(ctx, tx, a, pur.ID, due, now)
	if err != nil {
		return ReverseResult{}, err
	}
	for _, u := range uses {
		res.Points += u.Points
	}
	res.Unrecovered = due - res.Points
	e := Entry{
		ProgramID: pur.ProgramID, MemberID: pur.MemberID, Kind: EntryReverse, Points: -res.Points, CreatedAt: now,
		PurchaseID: pur.ID, Uses: uses,
		Detail: EntryDetail{AmountMinor: amount, Currency: pur.Currency, ReceiptID: pur.ReceiptID, Unrecovered: res.Unrecovered},
	}
	if err := post(ctx, tx, &a, &e); err != nil {
		return ReverseResult{}, err
	}
	res.Balance, res.EntryID = a.Balance, e.ID
	return res, nil
}

// reversalUses returns the lots a return takes due points from: first what
// is left of the purchase's own lot (pending or not), then other spendable
// lots, soonest expiry first, as far as active holds leave them free. What
// the member has spent already cannot be taken; the uses then add up to
// less than due.
func reversalUses(ctx context.Context, tx Tx, a Account, purchaseID string, due int64, now time.Time) ([]LotUse, error) {
	lots, err := tx.OpenLots(ctx, a.ProgramID, a.MemberID)
	if err != nil {
		return nil, err
	}
	holds, err := tx.ActiveHolds(ctx, a.ProgramID, a.MemberID, now)
	if err != nil {
		return nil, err
	}
	st := standing(a.Balance, lots, holds, now)
	sortLots(lots)
	own := func(l Lot) bool { return l.PurchaseID == purchaseID }
	uses, taken := take(lots, due, own)
	spendable := st.Spendable
	for _, l := range lots {
		if own(l) && l.spendableAt(now) {
			spendable -= min(l.Remaining, taken)
		}
	}
	room := max(0, spendable-st.Reserved)
	more, _ := take(lots, min(due-taken, room), func(l Lot) bool { return !own(l) && l.spendableAt(now) })
	return append(uses, more...), nil
}

// RedeemVoucher uses a voucher of the till's program. A retry with the same
// key returns the first result.
//
// It returns ErrInvalid for a malformed code or key, ErrNotFound for an
// unknown code, ErrFailedPrecondition for a voucher already used or expired,
// and ErrConflict when the key was used with other parameters.
func (s *Service) RedeemVoucher(ctx context.Context, t Till, code, key string) (Voucher, error) {
	code, err := NormalizeVoucherCode(code)
	if err != nil {
		return Voucher{}, err
	}
	if err := validateIdempotencyKey(key); err != nil {
		return Voucher{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: key, CreatedAt: s.now(),
		Fingerprint: fingerprint("RedeemVoucher", code),
	}
	var v Voucher
	err = s.update(ctx, func(tx Tx) error {
		var err error
		v, err = once(ctx, tx, rec, func() (Voucher, error) { return s.redeemVoucher(ctx, tx, t, code) })
		return err
	})
	return v, err
}

func (s *Service) redeemVoucher(ctx context.Context, tx Tx, t Till, code string) (Voucher, error) {
	now := s.now()
	v, err := tx.Voucher(ctx, t.ProgramID, code)
	if errors.Is(err, ErrNotFound) {
		return Voucher{}, errorf(ErrNotFound, "no voucher %s in this program", code)
	} else if err != nil {
		return Voucher{}, err
	}
	switch v.StatusAt(now) {
	case VoucherRedeemed:
		return Voucher{}, errorf(ErrFailedPrecondition, "voucher %s was already redeemed at %s", code, v.RedeemedAt.Format("2006-01-02 15:04 MST"))
	case VoucherExpired:
		return Voucher{}, errorf(ErrFailedPrecondition, "voucher %s expired at %s", code, v.ExpiresAt.Format("2006-01-02 15:04 MST"))
	case VoucherIssued:
	default:
		// Voided with its member's erasure, or any status only an issued
		// voucher leaves.
		return Voucher{}, errorf(ErrFailedPrecondition, "voucher %s is %s and cannot be redeemed", code, v.Status)
	}
	v.Status, v.RedeemedAt, v.RedeemedBy = VoucherRedeemed, now, t.ID
	if err := tx.SaveVoucherRedemption(ctx, v); err != nil {
		return Voucher{}, err
	}
	return v, nil
}
