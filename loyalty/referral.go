package loyalty

import (
	"context"
	"errors"
)

// normalizeReferralCode returns the referral code in s as typed: codes are
// written like voucher codes, "K7QD-M2XH".
func normalizeReferralCode(s string) (string, error) {
	code, err := NormalizeVoucherCode(s)
	if err != nil {
		return "", errorf(ErrInvalid, "referral_code %q is malformed: want 8 letters and digits such as K7QD-M2XH", s)
	}
	return code, nil
}

// ReferralCode returns the customer's referral code, creating it on first
// use. It returns ErrFailedPrecondition when the program has no referral
// bonus, and ErrNotEnrolled.
func (s *Service) ReferralCode(ctx context.Context, c Customer) (string, error) {
	var code string
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		p, err := tx.Program(ctx, m.ProgramID)
		if err != nil {
			return err
		}
		if p.Rules == nil || p.Rules.Referral == nil {
			return errorf(ErrFailedPrecondition, "program %s has no referral bonus", p.ID)
		}
		if _, err := tx.Account(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		st, err := tx.GameState(ctx, m.ProgramID, m.ID)
		if err != nil || st.ReferralCode != "" {
			code = st.ReferralCode
			return err
		}
		for range maxCodeTries {
			cand, err := newVoucherCode(s.rand)
			if err != nil {
				return err
			}
			if _, err := tx.MemberByReferralCode(ctx, m.ProgramID, cand); errors.Is(err, ErrNotFound) {
				st.ReferralCode, code = cand, cand
				return tx.SaveGameState(ctx, st)
			} else if err != nil {
				return err
			}
		}
		return errors.New("no free referral code found")
	})
	return code, err
}
