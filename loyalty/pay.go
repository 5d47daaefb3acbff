package loyalty

import (
	"context"
	"errors"
	"time"
)

// HoldRequest reserves points of a member at checkout.
type HoldRequest struct {
	CardNumber string `json:"card_number"`
	Points     int64  `json:"points"`
	// TTL is how long the hold lasts: MinHoldTTL to MaxHoldTTL; zero means
	// DefaultHoldTTL.
	TTL            time.Duration `json:"ttl"`
	IdempotencyKey string        `json:"-"`
}

// HoldResult is a hold placed.
type HoldResult struct {
	Hold Hold `json:"hold"`
	// Available is what the member can still spend besides the hold.
	Available int64 `json:"available"`
}

// maxHoldPoints bounds one hold.
const maxHoldPoints = 1 << 40

func (r *HoldRequest) validate() error {
	n, err := NormalizeCardNumber(r.CardNumber)
	if err != nil {
		return err
	}
	r.CardNumber = n
	if r.Points <= 0 || r.Points > maxHoldPoints {
		return errorf(ErrInvalid, "points must be 1 to %d, got %d", int64(maxHoldPoints), r.Points)
	}
	if r.TTL == 0 {
		r.TTL = DefaultHoldTTL
	}
	if r.TTL < MinHoldTTL || r.TTL > MaxHoldTTL {
		return errorf(ErrInvalid, "a hold lasts %v to %v, not %v", MinHoldTTL, MaxHoldTTL, r.TTL)
	}
	return validateIdempotencyKey(r.IdempotencyKey)
}

// Hold reserves points of a member for the till, so that they cannot be
// spent elsewhere until the till captures or releases them or the hold
// expires. A retry with the same key returns the first HoldResult.
//
// It returns ErrInvalid for malformed input, ErrNotFound for an unknown
// card, ErrInsufficientPoints when the available points do not cover the
// hold, and ErrConflict when the key was used with other parameters.
func (s *Service) Hold(ctx context.Context, t Till, req HoldRequest) (HoldResult, error) {
	if err := req.validate(); err != nil {
		return HoldResult{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: req.IdempotencyKey, CreatedAt: s.now(),
		Fingerprint: fingerprint("Hold", req),
	}
	var res HoldResult
	err := s.update(ctx, func(tx Tx) error {
		var err error
		res, err = once(ctx, tx, rec, func() (HoldResult, error) { return s.hold(ctx, tx, t, req) })
		return err
	})
	return res, err
}

func (s *Service) hold(ctx context.Context, tx Tx, t Till, req HoldRequest) (HoldResult, error) {
	now := s.now()
	m, err := memberByCard(ctx, tx, t.ProgramID, req.CardNumber)
	if err != nil {
		return HoldResult{}, err
	}
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return HoldResult{}, err
	}
	st, err := standingOf(ctx, tx, a, now)
	if err != nil {
		return HoldResult{}, err
	}
	if st.Available < req.Points {
		return HoldResult{}, errorf(ErrInsufficientPoints, "a hold of %d points needs as many available; %d are", req.Points, st.Available)
	}
	id, err := s.newID("hold")
	if err != nil {
		return HoldResult{}, err
	}
	h := Hold{
		ProgramID: t.ProgramID, ID: id, MemberID: m.ID, TillID: t.ID, Points: req.Points,
		Status: HoldActive, CreatedAt: now, ExpiresAt: now.Add(req.TTL),
	}
	if err := tx.CreateHold(ctx, h); err != nil {
		return HoldResult{}, err
	}
	// The account's version moves, so cached cards see the new available
	// balance.
	a.Version++
	a.UpdatedAt = now
	if err := tx.SaveAccount(ctx, a); err != nil {
		return HoldResult{}, err
	}
	return HoldResult{Hold: h, Available: st.Available - req.Points}, nil
}

// CaptureResult is what a capture spent.
type CaptureResult struct {
	Hold    Hold  `json:"hold"`
	Points  int64 `json:"points"`
	Balance int64 `json:"balance"`
	EntryID int64 `json:"entry_id"`
}

func (r CaptureResult) writtenEntry() int64 { return r.EntryID }

// Capture spends points of an active hold: all of them, or fewer (points >
// 0) when the bill came out smaller; the rest of the hold is released. A
// retry with the same key returns the first CaptureResult.
//
// It returns ErrInvalid for malformed input, ErrNotFound for an unknown
// hold, ErrFailedPrecondition for a hold that was captured, released or has
// expired or when points exceed the hold, and ErrConflict when the key was
// used with other parameters.
func (s *Service) Capture(ctx context.Context, t Till, holdID string, points int64, key string) (CaptureResult, error) {
	if err := validateHoldID(holdID); err != nil {
		return CaptureResult{}, err
	}
	if points < 0 || points > maxHoldPoints {
		return CaptureResult{}, errorf(ErrInvalid, "points must be 0 (the whole hold) to %d, got %d", int64(maxHoldPoints), points)
	}
	if err := validateIdempotencyKey(key); err != nil {
		return CaptureResult{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: key, CreatedAt: s.now(),
		Fingerprint: fingerprint("Capture", []any{holdID, points}),
	}
	var res CaptureResult
	err := s.update(ctx, func(tx Tx) error {
		var err error
		res, err = once(ctx, tx, rec, func() (CaptureResult, error) { return s.capture(ctx, tx, t, holdID, points) })
		return err
	})
	return res, err
}

func (s *Service) capture(ctx context.Context, tx Tx, t Till, holdID string, points int64) (CaptureResult, error) {
	now := s.now()
	h, err := openHold(ctx, tx, t, holdID, now)
	if err != nil {
		return CaptureResult{}, err
	}
	if points == 0 {
		points = h.Points
	}
	if points > h.Points {
		return CaptureResult{}, errorf(ErrFailedPrecondition, "hold %s reserves %d points; %d cannot be captured", h.ID, h.Points, points)
	}
	a, err := tx.Account(ctx, h.ProgramID, h.MemberID)
	if err != nil {
		return CaptureResult{}, err
	}
	e := Entry{
		ProgramID: h.ProgramID, MemberID: h.MemberID, Kind: EntryCapture, Points: -points, CreatedAt: now,
		Detail: EntryDetail{HoldID: h.ID},
	}
	if err := debit(ctx, tx, &a, &e, "the capture of hold "+h.ID, h.ID); err != nil {
		return CaptureResult{}, err
	}
	h.Status, h.Captured, h.ClosedAt = HoldCaptured, points, now
	if err := tx.SaveHold(ctx, h); err != nil {
		return CaptureResult{}, err
	}
	return CaptureResult{Hold: h, Points: points, Balance: a.Balance, EntryID: e.ID}, nil
}

// Release gives the points of an active hold back. A retry with the same key
// returns the first result.
//
// It returns ErrInvalid for malformed input, ErrNotFound for an unknown
// hold, ErrFailedPrecondition for a hold that was captured, released or has
// expired, and ErrConflict when the key was used with other parameters.
func (s *Service) Release(ctx context.Context, t Till, holdID, key string) (Hold, error) {
	if err := validateHoldID(holdID); err != nil {
		return Hold{}, err
	}
	if err := validateIdempotencyKey(key); err != nil {
		return Hold{}, err
	}
	rec := IdempotencyRecord{
		ProgramID: t.ProgramID, Caller: tillCaller(t), Key: key, CreatedAt: s.now(),
		Fingerprint: fingerprint("Release", holdID),
	}
	var res Hold
	err := s.update(ctx, func(tx Tx) error {
		var err error
		res, err = once(ctx, tx, rec, func() (Hold, error) {
			now := s.now()
			h, err := openHold(ctx, tx, t, holdID, now)
			if err != nil {
				return Hold{}, err
			}
			a, err := tx.Account(ctx, h.ProgramID, h.MemberID)
			if err != nil {
				return Hold{}, err
			}
			h.Status, h.ClosedAt = HoldReleased, now
			if err := tx.SaveHold(ctx, h); err != nil {
				return Hold{}, err
			}
			a.Version++
			a.UpdatedAt = now
			return h, tx.SaveAccount(ctx, a)
		})
		return err
	})
	return res, err
}

// openHold returns the till's program's hold id if it is still active at
// now.
func openHold(ctx context.Context, tx Tx, t Till, id string, now time.Time) (Hold, error) {
	h, err := tx.Hold(ctx, t.ProgramID, id)
	if errors.Is(err, ErrNotFound) {
		return Hold{}, errorf(ErrNotFound, "no hold %s in this program", id)
	} else if err != nil {
		return Hold{}, err
	}
	switch h.StatusAt(now) {
	case HoldCaptured:
		return Hold{}, errorf(ErrFailedPrecondition, "hold %s was already captured", id)
	case HoldReleased:
		if h.Status == HoldActive {
			return Hold{}, errorf(ErrFailedPrecondition, "hold %s expired at %s", id, h.ExpiresAt.Format(time.RFC3339))
		}
		return Hold{}, errorf(ErrFailedPrecondition, "hold %s was already released", id)
	}
	return h, nil
}

func validateHoldID(id string) error {
	if id == "" || len(id) > 64 {
		return errorf(ErrInvalid, "hold_id must be 1 to 64 characters")
	}
	return nil
}
