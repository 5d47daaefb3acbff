package loyalty

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the optional profile fields.
const (
	MaxNameLen  = 100
	MaxEmailLen = 254
)

// Birthday is a day of the year; Treue does not keep the year. The zero
// Birthday is none.
type Birthday struct {
	Month time.Month
	Day   int
}

// birthdayYear is the leap year birthdays are kept in, so 29 February
// exists.
const birthdayYear = 2000

// IsZero reports whether b is no birthday.
func (b Birthday) IsZero() bool { return b == Birthday{} }

// time returns b as the time the game state keeps.
func (b Birthday) time() time.Time {
	if b.IsZero() {
		return time.Time{}
	}
	return time.Date(birthdayYear, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
}

// birthdayOf returns the birthday kept as t.
func birthdayOf(t time.Time) Birthday {
	if t.IsZero() {
		return Birthday{}
	}
	return Birthday{Month: t.Month(), Day: t.Day()}
}

// validate returns ErrInvalid for a day that does not exist.
func (b Birthday) validate() error {
	if b.IsZero() {
		return nil
	}
	if b.Month < time.January || b.Month > time.December || b.Day < 1 ||
		time.Date(birthdayYear, b.Month, b.Day, 0, 0, 0, 0, time.UTC).Day() != b.Day {
		return errorf(ErrInvalid, "birthday month %d day %d does not exist", b.Month, b.Day)
	}
	return nil
}

// Profile is a member's card with the optional parts of their profile.
type Profile struct {
	Card     Card
	Birthday Birthday
}

// ProfileUpdate names the profile fields to change; a nil field keeps its
// value and a field set to its zero value removes it.
type ProfileUpdate struct {
	Name     *string
	Email    *string
	Birthday *Birthday
}

// Profile returns the customer's profile. It returns ErrNotEnrolled
// without a membership.
func (s *Service) Profile(ctx context.Context, c Customer) (Profile, error) {
	var p Profile
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		if p.Card, err = s.cardOf(ctx, tx, m); err != nil {
			return err
		}
		st, err := tx.GameState(ctx, m.ProgramID, m.ID)
		p.Birthday = birthdayOf(st.Birthday)
		return err
	})
	return p, err
}

// UpdateProfile changes the fields u names and returns the profile. A name
// or e-mail address needs the customer's consent to PurposeProfile, a
// birthday to PurposeBirthday; removing needs none. It returns ErrInvalid
// for an empty update or a malformed value, ErrFailedPrecondition without
// the consent and ErrNotEnrolled without a membership.
func (s *Service) UpdateProfile(ctx context.Context, c Customer, u ProfileUpdate) (Profile, error) {
	if u.Name == nil && u.Email == nil && u.Birthday == nil {
		return Profile{}, errorf(ErrInvalid, "nothing to update: name at least one of name, email, birthday")
	}
	var name, email string
	if u.Name != nil {
		name = strings.TrimSpace(*u.Name)
		if err := validateName(name); err != nil {
			return Profile{}, err
		}
	}
	if u.Email != nil {
		var err error
		if email, err = normalizeEmail(*u.Email); err != nil {
			return Profile{}, err
		}
	}
	if u.Birthday != nil {
		if err := u.Birthday.validate(); err != nil {
			return Profile{}, err
		}
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		// The account first: it serializes the member's writes.
		if _, err := tx.Account(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		records, err := tx.Consents(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		granted := map[Purpose]bool{}
		for _, st := range CurrentConsents(records) {
			granted[st.Purpose] = st.Granted
		}
		if (name != "" || email != "") && !granted[PurposeProfile] {
			return errorf(ErrFailedPrecondition, "a name or e-mail address is kept only with consent: grant %s first", PurposeProfile)
		}
		if u.Birthday != nil && !u.Birthday.IsZero() && !granted[PurposeBirthday] {
			return errorf(ErrFailedPrecondition, "a birthday is kept only with consent: grant %s first", PurposeBirthday)
		}
		if u.Name != nil || u.Email != nil {
			if u.Name != nil {
				m.Name = name
			}
			if u.Email != nil {
				m.Email = email
			}
			if err := tx.SaveMemberProfile(ctx, m); err != nil {
				return err
			}
		}
		if u.Birthday != nil {
			return setBirthday(ctx, tx, m, u.Birthday.time())
		}
		return nil
	})
	if err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, c)
}

// forgetWithdrawn removes the data kept under purpose, which the member m
// just withdrew. The caller has read m's account.
func forgetWithdrawn(ctx context.Context, tx Tx, m Member, purpose Purpose) error {
	switch purpose {
	case PurposeProfile:
		if m.Name == "" && m.Email == "" {
			return nil
		}
		m.Name, m.Email = "", ""
		return tx.SaveMemberProfile(ctx, m)
	case PurposeBirthday:
		return setBirthday(ctx, tx, m, time.Time{})
	}
	return nil
}

// setBirthday writes the birthday b (zero: none) into m's game state.
func setBirthday(ctx context.Context, tx Tx, m Member, b time.Time) error {
	st, err := tx.GameState(ctx, m.ProgramID, m.ID)
	if err != nil {
		return err
	}
	if st.Birthday.Equal(b) {
		return nil
	}
	st.Birthday = b
	return tx.SaveGameState(ctx, st)
}

// validateName returns ErrInvalid for a name too long or with control
// characters.
func validateName(name string) error {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen {
		return errorf(ErrInvalid, "name must be valid UTF-8 of at most %d characters", MaxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errorf(ErrInvalid, "name must not contain control characters")
	}
	return nil
}

// normalizeEmail returns the address s without surrounding spaces, "" for
// none, or ErrInvalid when s is not a bare address.
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxEmailLen {
		return "", errorf(ErrInvalid, "email must be at most %d characters", MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", errorf(ErrInvalid, "email is not an address like name@example.com")
	}
	return s, nil
}
