package loyalty

import (
	"context"
	"slices"
	"strings"
	"time"
)

// RegisterDevice stores the customer's app installation d (its Token,
// Platform, Locale, AppVersion and TimeZone) for pushes, or refreshes it.
// When the member has MaxDevicesPerMember devices already, the one seen
// longest ago is removed. It returns ErrInvalid for malformed fields and
// ErrNotEnrolled without a membership.
func (s *Service) RegisterDevice(ctx context.Context, c Customer, d Device) (Device, error) {
	if d.Token == "" || len(d.Token) > MaxPushTokenLen || strings.IndexFunc(d.Token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return Device{}, errorf(ErrInvalid, "push token must be 1 to %d printable ASCII characters", MaxPushTokenLen)
	}
	if !slices.Contains([]Platform{PlatformIOS, PlatformAndroid, PlatformWeb}, d.Platform) {
		return Device{}, errorf(ErrInvalid, "platform %q is not ios, android or web", d.Platform)
	}
	if d.Locale == "" {
		d.Locale = DefaultLocale
	}
	if _, err := ParseLocale(string(d.Locale)); err != nil {
		return Device{}, err
	}
	if len(d.AppVersion) > MaxAppVersionLen {
		return Device{}, errorf(ErrInvalid, "app_version must be at most %d characters", MaxAppVersionLen)
	}
	if d.TimeZone != "" {
		if len(d.TimeZone) > 64 {
			return Device{}, errorf(ErrInvalid, "time_zone must be at most 64 characters")
		}
		if _, err := time.LoadLocation(d.TimeZone); err != nil || d.TimeZone == "Local" {
			return Device{}, errorf(ErrInvalid, "time_zone %q is not an IANA time zone such as Europe/Berlin", d.TimeZone)
		}
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		d.ProgramID, d.MemberID, d.RegisteredAt, d.SeenAt = m.ProgramID, m.ID, now, now
		devices, err := tx.Devices(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		known := slices.ContainsFunc(devices, func(o Device) bool { return o.Token == d.Token })
		if !known && len(devices) >= MaxDevicesPerMember {
			// Devices are most recently seen first.
			for _, old := range devices[MaxDevicesPerMember-1:] {
				if _, err := tx.DeleteDevice(ctx, m.ProgramID, m.ID, old.Token); err != nil {
					return err
				}
			}
		}
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		// A known token keeps when it was first registered.
		devices, err = tx.Devices(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		for _, o := range devices {
			if o.Token == d.Token {
				d = o
			}
		}
		return nil
	})
	return d, err
}

// UnregisterDevice removes the customer's device with token; removing a
// token that is not registered succeeds. It returns ErrNotEnrolled without
// a membership.
func (s *Service) UnregisterDevice(ctx context.Context, c Customer, token string) error {
	if token == "" || len(token) > MaxPushTokenLen {
		return errorf(ErrInvalid, "push token must be 1 to %d characters", MaxPushTokenLen)
	}
	return s.store.Update(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.DeleteDevice(ctx, m.ProgramID, m.ID, token)
		return err
	})
}

// Devices returns the customer's registered devices, most recently seen
// first.
func (s *Service) Devices(ctx context.Context, c Customer) ([]Device, error) {
	var devices []Device
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		devices, err = tx.Devices(ctx, m.ProgramID, m.ID)
		return err
	})
	return devices, err
}

// Recipient returns what a push to member k needs. It returns ErrNotFound
// for an unknown member.
func (s *Service) Recipient(ctx context.Context, k MemberKey) (Recipient, error) {
	var r Recipient
	err := s.store.View(ctx, func(tx Tx) error {
		p, err := tx.Program(ctx, k.ProgramID)
		if err != nil {
			return err
		}
		if r.Member, err = tx.MemberByID(ctx, k.ProgramID, k.MemberID); err != nil {
			return err
		}
		if r.Devices, err = tx.Devices(ctx, k.ProgramID, k.MemberID); err != nil {
			return err
		}
		records, err := tx.Consents(ctx, k.ProgramID, k.MemberID)
		if err != nil {
			return err
		}
		r.Consents = CurrentConsents(records)
		r.ProgramName, r.TimeZone = p.Name, p.TimeZone
		if r.TimeZone == "" {
			r.TimeZone = DefaultTimeZone
		}
		return nil
	})
	return r, err
}

// RemoveDeviceTokens removes the program's devices with these tokens (FCM
// reported them unregistered), whoever they belong to.
func (s *Service) RemoveDeviceTokens(ctx context.Context, programID string, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error {
		_, err := tx.DeleteDeviceTokens(ctx, programID, tokens)
		return err
	})
}
