package loyalty

import (
	"context"
	"slices"
	"strings"
)

// SetConsent records that the customer granted or withdrew purpose, having
// been shown the consent text textVersion, through source ("app", "web").
// Recording the state the purpose is in already, with the same text
// version, writes nothing and returns the record that is there. It returns
// ErrInvalid for an unknown purpose or a malformed text version or source,
// ErrNotEnrolled without a membership and ErrLimit after
// MaxConsentRecords records of the purpose. Withdrawing PurposeProfile
// removes the member's name and e-mail address, withdrawing
// PurposeBirthday their birthday.
func (s *Service) SetConsent(ctx context.Context, c Customer, purpose Purpose, granted bool, textVersion, source string) (ConsentState, error) {
	if !slices.Contains(Purposes, purpose) {
		return ConsentState{}, errorf(ErrInvalid, "purpose %q is not one of %v", purpose, Purposes)
	}
	if err := checkLabel("text_version", textVersion, MaxConsentTextVersionLen); err != nil {
		return ConsentState{}, err
	}
	if err := checkLabel("source", source, MaxConsentSourceLen); err != nil {
		return ConsentState{}, err
	}
	var st ConsentState
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		// The account first: it orders this write after a concurrent
		// UpdateProfile, which checks the consent it may withdraw.
		if _, err := tx.Account(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		records, err := tx.Consents(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		n := 0
		for _, r := range records {
			if r.Purpose == purpose {
				n++
				st = ConsentState{Purpose: purpose, Granted: r.Granted, Latest: r}
			}
		}
		if n > 0 && st.Granted == granted && st.Latest.TextVersion == textVersion {
			return nil
		}
		if n >= MaxConsentRecords {
			return errorf(ErrLimit, "%s has %d consent records, the most one member may record", purpose, n)
		}
		r := Consent{ProgramID: m.ProgramID, MemberID: m.ID, Purpose: purpose, Granted: granted,
			TextVersion: textVersion, Source: source, At: s.now()}
		if err := tx.AppendConsent(ctx, &r); err != nil {
			return err
		}
		st = ConsentState{Purpose: purpose, Granted: granted, Latest: r}
		if !granted {
			return forgetWithdrawn(ctx, tx, m, purpose)
		}
		return nil
	})
	return st, err
}

// Consents returns the state of every purpose for the customer and the
// history of records, oldest first. It returns ErrNotEnrolled without a
// membership.
func (s *Service) Consents(ctx context.Context, c Customer) ([]ConsentState, []Consent, error) {
	var records []Consent
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		records, err = tx.Consents(ctx, m.ProgramID, m.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return CurrentConsents(records), records, nil
}

// checkLabel returns ErrInvalid unless v is 1 to max printable ASCII
// characters without spaces.
func checkLabel(name, v string, max int) error {
	if v == "" || len(v) > max {
		return errorf(ErrInvalid, "%s must be 1 to %d characters, got %d", name, max, len(v))
	}
	if strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return errorf(ErrInvalid, "%s %q must be printable ASCII without spaces", name, v)
	}
	return nil
}
