package bff_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestDevices registers, refreshes, moves and removes push devices over
// every protocol, and refuses malformed ones with invalid_argument.
func TestDevices(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			alice, bob := e.customer("alice", p), e.customer("bob", p)
			device := &treuev1.Device{PushToken: "tok-1", Platform: treuev1.Platform_PLATFORM_IOS, Locale: treuev1.Locale_LOCALE_EN, AppVersion: "3.4.1", TimeZone: "Europe/Vienna"}
			_, err := alice.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: device}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			for _, c := range []customer{alice, bob} {
				_, err := c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
				mustOK(t, err)
			}
			res, err := alice.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: device}))
			mustOK(t, err)
			got := res.Msg.GetDevice()
			if got.GetPushToken() != "tok-1" || got.GetPlatform() != treuev1.Platform_PLATFORM_IOS || got.GetLocale() != treuev1.Locale_LOCALE_EN ||
				got.GetTimeZone() != "Europe/Vienna" || got.GetAppVersion() != "3.4.1" || got.GetRegisterTime() == nil {
				t.Fatalf("registered device = %v", got)
			}
			_, err = alice.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{PushToken: "tok-2", Platform: treuev1.Platform_PLATFORM_ANDROID}}))
			mustOK(t, err)
			list, err := alice.account.ListDevices(ctx, connect.NewRequest(&treuev1.ListDevicesRequest{}))
			mustOK(t, err)
			if n := len(list.Msg.GetDevices()); n != 2 {
				t.Fatalf("alice has %d devices, want 2", n)
			}
			// The same app installation, signed in as bob: the token moves.
			_, err = bob.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: device}))
			mustOK(t, err)
			list, err = alice.account.ListDevices(ctx, connect.NewRequest(&treuev1.ListDevicesRequest{}))
			mustOK(t, err)
			if ds := list.Msg.GetDevices(); len(ds) != 1 || ds[0].GetPushToken() != "tok-2" {
				t.Fatalf("alice's devices after bob took tok-1: %v", ds)
			}
			_, err = alice.account.UnregisterDevice(ctx, connect.NewRequest(&treuev1.UnregisterDeviceRequest{PushToken: "tok-2"}))
			mustOK(t, err)
			_, err = alice.account.UnregisterDevice(ctx, connect.NewRequest(&treuev1.UnregisterDeviceRequest{PushToken: "tok-1"}))
			mustOK(t, err) // not alice's: nothing happens
			list, err = bob.account.ListDevices(ctx, connect.NewRequest(&treuev1.ListDevicesRequest{}))
			mustOK(t, err)
			if n := len(list.Msg.GetDevices()); n != 1 {
				t.Fatalf("bob has %d devices after alice unregistered his token, want 1", n)
			}

			for name, d := range map[string]*treuev1.Device{
				"no device":    nil,
				"empty token":  {Platform: treuev1.Platform_PLATFORM_IOS},
				"long token":   {PushToken: strings.Repeat("x", 4097), Platform: treuev1.Platform_PLATFORM_IOS},
				"space":        {PushToken: "a b", Platform: treuev1.Platform_PLATFORM_IOS},
				"no platform":  {PushToken: "tok-3"},
				"bad zone":     {PushToken: "tok-3", Platform: treuev1.Platform_PLATFORM_WEB, TimeZone: "Mars/Olympus"},
				"local zone":   {PushToken: "tok-3", Platform: treuev1.Platform_PLATFORM_WEB, TimeZone: "Local"},
				"long version": {PushToken: "tok-3", Platform: treuev1.Platform_PLATFORM_WEB, AppVersion: strings.Repeat("1", 65)},
			} {
				_, err := alice.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: d}))
				if connect.CodeOf(err) != connect.CodeInvalidArgument {
					t.Errorf("%s: %v, want invalid_argument", name, err)
				}
			}
		})
	}
}

// TestConsents grants and withdraws consents and reads their history.
func TestConsents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.customer("alice", protocols[0])
	_, err := c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	mustOK(t, err)
	got, err := c.account.GetConsents(ctx, connect.NewRequest(&treuev1.GetConsentsRequest{}))
	mustOK(t, err)
	want := map[treuev1.ConsentPurpose]bool{
		treuev1.ConsentPurpose_CONSENT_PURPOSE_TRANSACTIONAL_PUSH:  true,
		treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH:      false,
		treuev1.ConsentPurpose_CONSENT_PURPOSE_PERSONALISED_OFFERS: false,
		treuev1.ConsentPurpose_CONSENT_PURPOSE_BIRTHDAY:            false,
		treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE:             false,
	}
	if len(got.Msg.GetConsents()) != len(want) || len(got.Msg.GetHistory()) != 0 {
		t.Fatalf("a new member's consents: %v", got.Msg)
	}
	for _, st := range got.Msg.GetConsents() {
		if st.GetGranted() != want[st.GetPurpose()] || st.GetLatest() != nil {
			t.Errorf("default of %v: %v", st.GetPurpose(), st)
		}
	}
	set := func(p treuev1.ConsentPurpose, granted bool, version string) *treuev1.ConsentState {
		t.Helper()
		res, err := c.account.SetConsent(ctx, connect.NewRequest(&treuev1.SetConsentRequest{Purpose: p, Granted: granted, TextVersion: version}))
		mustOK(t, err)
		return res.Msg.GetConsent()
	}
	marketing := treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH
	st := set(marketing, true, "push-2026-11")
	if !st.GetGranted() || st.GetLatest().GetSource() != "app" || st.GetLatest().GetTextVersion() != "push-2026-11" || st.GetLatest().GetRecordTime() == nil {
		t.Fatalf("granted: %v", st)
	}
	set(marketing, true, "push-2026-11") // the same again: no new record
	if st := set(marketing, false, "push-2026-11"); st.GetGranted() {
		t.Fatalf("withdrawn: %v", st)
	}
	got, err = c.account.GetConsents(ctx, connect.NewRequest(&treuev1.GetConsentsRequest{}))
	mustOK(t, err)
	h := got.Msg.GetHistory()
	if len(h) != 2 || !h[0].GetGranted() || h[1].GetGranted() || h[0].GetPurpose() != marketing {
		t.Fatalf("history = %v, want grant then withdrawal", h)
	}
	for name, req := range map[string]*treuev1.SetConsentRequest{
		"no purpose":     {Granted: true, TextVersion: "v1"},
		"no version":     {Purpose: marketing, Granted: true},
		"long version":   {Purpose: marketing, Granted: true, TextVersion: strings.Repeat("v", 65)},
		"spaced version": {Purpose: marketing, Granted: true, TextVersion: "v 1"},
		"long source":    {Purpose: marketing, Granted: true, TextVersion: "v1", Source: strings.Repeat("s", 33)},
		"unknown enum":   {Purpose: treuev1.ConsentPurpose(99), Granted: true, TextVersion: "v1"},
	} {
		_, err := c.account.SetConsent(ctx, connect.NewRequest(req))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", name, err)
		}
	}
}
