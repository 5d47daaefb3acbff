package loyalty

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/treue/treue/gamification"
)

// Customer is a signed-in user acting in one program. The user id comes from
// a verified token, never from a request field.
type Customer struct {
	ProgramID string
	UID       string
}

// caller returns the idempotency scope of the member m.
func memberCaller(m Member) string { return "member:" + m.ID }

// member returns the customer's membership within tx, or ErrNotEnrolled.
func (c Customer) member(ctx context.Context, tx Tx) (Member, error) {
	m, err := tx.MemberByUID(ctx, c.ProgramID, c.UID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, errorf(ErrNotEnrolled, "not enrolled in program %s: call AccountService.Enroll first", c.ProgramID)
	}
	return m, err
}

// maxUIDLen bounds a user id from a token (Firebase allows 128).
const maxUIDLen = 128

// Enroll returns the customer's card, creating the membership and card when
// it does not exist yet; created says which. A new member gets the
// program's welcome bonus. It returns ErrNotFound for an unknown program
// and ErrInvalid for a malformed user id.
func (s *Service) Enroll(ctx context.Context, c Customer, locale Locale) (card Card, created bool, err error) {
	return s.enroll(ctx, c, locale, "")
}

// EnrollReferred is Enroll for a customer who was given a referral code:
// a new member is linked to the code's owner, and both are rewarded after
// the new member's first paid purchase. An existing member is returned
// unchanged, the code ignored. It returns ErrInvalid for a malformed or
// unknown code, besides Enroll's errors.
func (s *Service) EnrollReferred(ctx context.Context, c Customer, locale Locale, referralCode string) (card Card, created bool, err error) {
	code, err := normalizeReferralCode(referralCode)
	if err != nil {
		return Card{}, false, err
	}
	return s.enroll(ctx, c, locale, code)
}

func (s *Service) enroll(ctx context.Context, c Customer, locale Locale, referralCode string) (card Card, created bool, err error) {
	if c.UID == "" || len(c.UID) > maxUIDLen {
		return Card{}, false, errorf(ErrInvalid, "user id must be 1 to %d characters", maxUIDLen)
	}
	if locale == "" {
		locale = DefaultLocale
	}
	err = s.update(ctx, func(tx Tx) error {
		created = false
		p, err := tx.Program(ctx, c.ProgramID)
		if err != nil {
			return err
		}
		m, err := tx.MemberByUID(ctx, c.ProgramID, c.UID)
		if errors.Is(err, ErrNotFound) {
			if m, err = s.newMember(ctx, tx, c, locale); err != nil {
				return err
			}
			created = true
			if err := s.welcome(ctx, tx, p, m, referralCode); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		card, err = s.cardOf(ctx, tx, m)
		return err
	})
	return card, created, err
}

// welcome applies the rules' enrolment effects to the new member m, and
// links them to the owner of referralCode (none when empty).
func (s *Service) welcome(ctx context.Context, tx Tx, p Program, m Member, referralCode string) error {
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return err
	}
	g, err := s.loadGame(ctx, tx, p, m, &a, s.now())
	if g == nil || err != nil {
		return err
	}
	if referralCode != "" {
		if p.Rules.Referral == nil {
			return errorf(ErrInvalid, "program %s has no referral bonus: enroll without a referral_code", p.ID)
		}
		ref, err := tx.MemberByReferralCode(ctx, m.ProgramID, referralCode)
		if errors.Is(err, ErrNotFound) {
			return errorf(ErrInvalid, "referral code %q is unknown: check it with the friend who shared it", referralCode)
		} else if err != nil {
			return err
		}
		g.state.ReferredBy = ref.ID
	}
	if err := g.apply(ctx, tx, gamification.Enroll(g.rules, g.gameMember())); err != nil {
		return err
	}
	return g.save(ctx, tx)
}

// maxCardNumberTries bounds the draws for an unused card number; with 10^11
// numbers per prefix a second draw is already rare.
const maxCardNumberTries = 8

func (s *Service) newMember(ctx context.Context, tx Tx, c Customer, locale Locale) (Member, error) {
	id, err := s.newID("m")
	if err != nil {
		return Member{}, err
	}
	m := Member{ProgramID: c.ProgramID, ID: id, FirebaseUID: c.UID, Locale: locale, CreatedAt: s.now()}
	for range maxCardNumberTries {
		n, err := newCardNumber(s.rand)
		if err != nil {
			return Member{}, err
		}
		if _, err := tx.MemberByCard(ctx, "", n); errors.Is(err, ErrNotFound) {
			m.CardNumber = n
			return m, tx.CreateMember(ctx, m)
		} else if err != nil {
			return Member{}, err
		}
	}
	return Member{}, errors.New("no free card number found")
}

// Card returns the customer's card. It returns ErrNotEnrolled when the
// customer has no membership.
func (s *Service) Card(ctx context.Context, c Customer) (Card, error) {
	var card Card
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		card, err = s.cardOf(ctx, tx, m)
		return err
	})
	return card, err
}

// cardOf returns member m's card as of now.
func (s *Service) cardOf(ctx context.Context, tx Tx, m Member) (Card, error) {
	p, err := tx.Program(ctx, m.ProgramID)
	if err != nil {
		return Card{}, err
	}
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return Card{}, err
	}
	st, err := standingOf(ctx, tx, a, s.now())
	if err != nil {
		return Card{}, err
	}
	g, err := tx.GameState(ctx, m.ProgramID, m.ID)
	return Card{Program: p, Member: m, Account: a, Standing: st, Game: g}, err
}

// standingOf returns the standing of account a at now.
func standingOf(ctx context.Context, tx Tx, a Account, now time.Time) (Standing, error) {
	lots, err := tx.OpenLots(ctx, a.ProgramID, a.MemberID)
	if err != nil {
		return Standing{}, err
	}
	holds, err := tx.ActiveHolds(ctx, a.ProgramID, a.MemberID, now)
	if err != nil {
		return Standing{}, err
	}
	return standing(a.Balance, lots, holds, now), nil
}

// Page limits of Activity.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Activity returns up to limit of the customer's ledger entries, newest
// first, starting below entry beforeID (0: the newest), and the member they
// belong to. It returns ErrInvalid for a limit outside 1..MaxPageSize.
func (s *Service) Activity(ctx context.Context, c Customer, beforeID int64, limit int) ([]Entry, Member, error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, Member{}, errorf(ErrInvalid, "page_size must be 1 to %d, got %d", MaxPageSize, limit)
	}
	if beforeID < 0 {
		return nil, Member{}, errorf(ErrInvalid, "page position must not be negative")
	}
	var (
		entries []Entry
		m       Member
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if m, err = c.member(ctx, tx); err != nil {
			return err
		}
		entries, err = tx.Entries(ctx, c.ProgramID, m.ID, beforeID, limit)
		return err
	})
	return entries, m, err
}

// Rewards returns the program's active rewards, cheapest first, and the
// customer's membership.
func (s *Service) Rewards(ctx context.Context, c Customer) ([]Reward, Member, error) {
	var (
		rewards []Reward
		m       Member
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if m, err = c.member(ctx, tx); err != nil {
			return err
		}
		all, err := tx.Rewards(ctx, c.ProgramID)
		rewards = rewards[:0]
		for _, r := range all {
			if r.Active {
				rewards = append(rewards, r)
			}
		}
		return err
	})
	return rewards, m, err
}

// MaxVouchers bounds how many vouchers Vouchers returns.
const MaxVouchers = 100

// Vouchers returns the customer's newest vouchers and their membership.
func (s *Service) Vouchers(ctx context.Context, c Customer) ([]Voucher, Member, error) {
	var (
		vs []Voucher
		m  Member
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if m, err = c.member(ctx, tx); err != nil {
			return err
		}
		vs, err = tx.Vouchers(ctx, c.ProgramID, m.ID, MaxVouchers)
		return err
	})
	return vs, m, err
}

// Redemption is the result of RedeemReward.
type Redemption struct {
	Voucher Voucher `json:"voucher"`
	Balance int64   `json:"balance"`
	EntryID int64   `json:"entry_id"`
	// Locale is the member's language.
	Locale Locale `json:"locale"`
}

func (r Redemption) writtenEntry() int64 { return r.EntryID }

// RedeemReward spends a reward's cost from the customer's balance and issues
// a voucher. A retry with the same key returns the first Redemption.
//
// It returns ErrInvalid for a malformed key, ErrNotFound for an unknown or
// inactive reward, ErrInsufficientPoints when the balance is too low,
// ErrFailedPrecondition when the reward is out of stock, ErrConflict when
// the key was used for something else, and ErrNotEnrolled.
func (s *Service) RedeemReward(ctx context.Context, c Customer, rewardID, key string) (Redemption, error) {
	if err := validateIdempotencyKey(key); err != nil {
		return Redemption{}, err
	}
	if rewardID == "" || len(rewardID) > 64 {
		return Redemption{}, errorf(ErrInvalid, "reward_id must be 1 to 64 characters")
	}
	var res Redemption
	err := s.update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		rec := IdempotencyRecord{
			ProgramID: c.ProgramID, Caller: memberCaller(m), Key: key, CreatedAt: s.now(),
			Fingerprint: fingerprint("RedeemReward", rewardID),
		}
		res, err = once(ctx, tx, rec, func() (Redemption, error) { return s.redeemReward(ctx, tx, m, rewardID) })
		return err
	})
	return res, err
}

func (s *Service) redeemReward(ctx context.Context, tx Tx, m Member, rewardID string) (Redemption, error) {
	now := s.now()
	r, err := tx.Reward(ctx, m.ProgramID, rewardID)
	if errors.Is(err, ErrNotFound) || (err == nil && !r.Active) {
		return Redemption{}, errorf(ErrNotFound, "no reward %q in this program", rewardID)
	} else if err != nil {
		return Redemption{}, err
	}
	if r.Stock != nil && *r.Stock <= 0 {
		return Redemption{}, errorf(ErrFailedPrecondition, "reward %q is out of stock", rewardID)
	}
	p, err := tx.Program(ctx, m.ProgramID)
	if err != nil {
		return Redemption{}, err
	}
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return Redemption{}, err
	}
	code, err := s.freeVoucherCode(ctx, tx, m.ProgramID)
	if err != nil {
		return Redemption{}, err
	}
	if r.Stock != nil {
		*r.Stock--
		if err := tx.PutReward(ctx, r); err != nil {
			return Redemption{}, err
		}
	}
	v := Voucher{
		ProgramID: m.ProgramID, Code: code, MemberID: m.ID, RewardID: r.ID, RewardName: r.Name,
		Cost: r.Cost, Status: VoucherIssued, IssuedAt: now, ExpiresAt: now.Add(p.VoucherValidity.D()),
	}
	if err := tx.CreateVoucher(ctx, v); err != nil {
		return Redemption{}, err
	}
	e := Entry{
		ProgramID: m.ProgramID, MemberID: m.ID, Kind: EntryRedeem, Points: -r.Cost, CreatedAt: now,
		RewardID: r.ID, Detail: EntryDetail{RewardName: &r.Name, VoucherCode: code},
	}
	if err := debit(ctx, tx, &a, &e, fmt.Sprintf("reward %q", r.ID), ""); err != nil {
		return Redemption{}, err
	}
	return Redemption{Voucher: v, Balance: a.Balance, EntryID: e.ID, Locale: m.Locale}, nil
}

// maxCodeTries bounds the draws for an unused voucher code.
const maxCodeTries = 8

func (s *Service) freeVoucherCode(ctx context.Context, tx Tx, programID string) (string, error) {
	for range maxCodeTries {
		code, err := newVoucherCode(s.rand)
		if err != nil {
			return "", err
		}
		if _, err := tx.Voucher(ctx, programID, code); errors.Is(err, ErrNotFound) {
			return code, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", errors.New("no free voucher code found")
}

// credit appends the positive entry e for the member of a, and the lot its
// points go into.
func credit(ctx context.Context, tx Tx, p Program, a *Account, e *Entry) error {
	// A purchase under one unit earns nothing and fills no lot.
	if err := post(ctx, tx, a, e); err != nil || e.Points == 0 {
		return err
	}
	avail, expires, err := p.lotTimes(e.CreatedAt)
	if err != nil {
		return err
	}
	return tx.CreateLot(ctx, &Lot{
		ProgramID: e.ProgramID, MemberID: e.MemberID, EntryID: e.ID, PurchaseID: e.PurchaseID,
		Points: e.Points, Remaining: e.Points, AvailableAt: avail, ExpiresAt: expires, CreatedAt: e.CreatedAt,
	})
}

// debit appends the negative entry e for the member of a, taking its points
// from the lots that can be spent at e.CreatedAt, soonest expiry first. The
// points reserved by active holds cannot be taken, except by the capture of
// its own hold (capturing), which may also take due points the expiry job
// kept for it. It returns ErrInsufficientPoints when the available points
// do not cover e, naming what (e.g. `reward "cake"`) in its message.
func debit(ctx context.Context, tx Tx, a *Account, e *Entry, what, capturing string) error {
	now := e.CreatedAt
	lots, err := tx.OpenLots(ctx, a.ProgramID, a.MemberID)
	if err != nil {
		return err
	}
	holds, err := tx.ActiveHolds(ctx, a.ProgramID, a.MemberID, now)
	if err != nil {
		return err
	}
	st := standing(a.Balance, lots, holds, now)
	available := st.Available
	pick := func(l Lot) bool { return l.spendableAt(now) }
	for _, h := range holds {
		if h.ID == capturing && h.activeAt(now) {
			available = max(0, st.Spendable+st.Due-(st.Reserved-h.Points))
			pick = func(l Lot) bool { return l.spendableAt(now) || l.dueAt(now) }
		}
	}
	want := -e.Points
	if available < want {
		return errorf(ErrInsufficientPoints, "%s costs %d points; %d are available", what, want, available)
	}
	sortLots(lots)
	uses, taken := take(lots, want, pick)
	if taken != want {
		return fmt.Errorf("lots of %s/%s hold %d spendable points, want %d", a.ProgramID, a.MemberID, taken, want)
	}
	e.Uses = uses
	return post(ctx, tx, a, e)
}

// post appends e to the ledger and applies it to a in tx: the one place a
// balance changes. It refuses to take a balance below zero or past the
// largest int64.
func post(ctx context.Context, tx Tx, a *Account, e *Entry) error {
	if e.Points < 0 && a.Balance+e.Points < 0 {
		return errorf(ErrInsufficientPoints, "the balance is %d points; %d are needed", a.Balance, -e.Points)
	}
	if e.Points > 0 && a.Balance > maxBalance-e.Points {
		return errorf(ErrFailedPrecondition, "the balance would exceed %d points", int64(maxBalance))
	}
	a.Balance += e.Points
	a.Version++
	a.UpdatedAt = e.CreatedAt
	e.BalanceAfter = a.Balance
	e.Version = a.Version
	if err := tx.AppendEntry(ctx, e); err != nil {
		return err
	}
	return tx.SaveAccount(ctx, *a)
}

// maxBalance bounds a balance, far below overflow.
const maxBalance = 1 << 62
