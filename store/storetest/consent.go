package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// consentTests check consent records (loyalty.ConsentStore) through the
// Service.
var consentTests = []test{
	{"SetConsent", testConsentSet},
	{"Limit", testConsentLimit},
	{"BadInput", testConsentBadInput},
	{"ConcurrentSameChange", testConsentConcurrent},
}

// deviceTests check devices (loyalty.DeviceStore) through the Service.
var deviceTests = []test{
	{"Register", testDeviceRegister},
	{"MovesToOtherMember", testDeviceMove},
	{"EvictsLeastRecentlySeen", testDeviceEvict},
	{"Unregister", testDeviceUnregister},
	{"RemoveTokens", testDeviceRemoveTokens},
	{"BadInput", testDeviceBadInput},
	{"ConcurrentRegistrations", testDeviceConcurrent},
	{"Recipient", testDeviceRecipient},
}

// reminderTests check the points the reminders read
// (loyalty.ReminderStore).
var reminderTests = []test{
	{"ExpiringPoints", testReminderExpiringPoints},
	{"ExpiringPointsAfterRedeem", testReminderExpiringAfterRedeem},
}

// consents returns the customer's consent states and records.
func (e *env) consents(c loyalty.Customer) ([]loyalty.ConsentState, []loyalty.Consent) {
	e.t.Helper()
	states, records, err := e.svc.Consents(e.ctx, c)
	e.must(err)
	return states, records
}

// setConsent calls SetConsent and fails the test on error.
func (e *env) setConsent(c loyalty.Customer, p loyalty.Purpose, granted bool, version string) loyalty.ConsentState {
	e.t.Helper()
	st, err := e.svc.SetConsent(e.ctx, c, p, granted, version, "app")
	e.must(err)
	return st
}

// defaultConsents are the states of a member who recorded nothing.
func defaultConsents() []loyalty.ConsentState {
	return []loyalty.ConsentState{
		{Purpose: loyalty.PurposeTransactionalPush, Granted: true},
		{Purpose: loyalty.PurposeMarketingPush},
		{Purpose: loyalty.PurposePersonalisedOffers},
		{Purpose: loyalty.PurposeBirthday},
		{Purpose: loyalty.PurposeProfile},
	}
}

func testConsentSet(t *testing.T, e *env) {
	e.seed("cafe-a")
	e.seed("cafe-b")
	card, other := e.enroll("cafe-a", "u1"), e.enroll("cafe-a", "u2")
	elsewhere := e.enroll("cafe-b", "u1")
	c := customer(card)

	states, records := e.consents(c)
	if diff := cmp.Diff(defaultConsents(), states); diff != "" || len(records) != 0 {
		t.Fatalf("consents of a new member: %d records, states (-want +got):\n%s", len(records), diff)
	}

	// A grant is recorded as made.
	e.clock.Advance(time.Minute)
	granted := e.setConsent(c, loyalty.PurposeMarketingPush, true, "push-2025-06")
	first := loyalty.Consent{
		Seq: granted.Latest.Seq, ProgramID: card.Member.ProgramID, MemberID: card.Member.ID,
		Purpose: loyalty.PurposeMarketingPush, Granted: true, TextVersion: "push-2025-06", Source: "app", At: e.now(),
	}
	if diff := cmp.Diff(loyalty.ConsentState{Purpose: loyalty.PurposeMarketingPush, Granted: true, Latest: first}, granted); diff != "" || first.Seq == 0 {
		t.Fatalf("SetConsent (-want +got):\n%s", diff)
	}

	// The same state with the same text again writes nothing and returns
	// the record there is.
	e.clock.Advance(time.Minute)
	if again := e.setConsent(c, loyalty.PurposeMarketingPush, true, "push-2025-06"); !cmp.Equal(granted, again) {
		t.Errorf("SetConsent repeated = %+v, want the first record %+v", again, granted)
	}
	if _, records := e.consents(c); !cmp.Equal([]loyalty.Consent{first}, records) {
		t.Errorf("records after a repeated SetConsent = %+v, want only %+v", records, first)
	}

	// A new text version, a withdrawal and another purpose are records of
	// their own, in order.
	e.clock.Advance(time.Minute)
	renewed := e.setConsent(c, loyalty.PurposeMarketingPush, true, "push-2025-07").Latest
	e.clock.Advance(time.Minute)
	withdrawn := e.setConsent(c, loyalty.PurposeMarketingPush, false, "push-2025-07").Latest
	e.clock.Advance(time.Minute)
	transactional := e.setConsent(c, loyalty.PurposeTransactionalPush, false, "push-2025-07").Latest
	e.clock.Advance(time.Minute)
	birthday := e.setConsent(c, loyalty.PurposeBirthday, true, "birthday-1").Latest
	history := []loyalty.Consent{first, renewed, withdrawn, transactional, birthday}
	for i, r := range history[1:] {
		if r.Seq <= history[i].Seq {
			t.Errorf("record %d has Seq %d, not above the one before (%d)", i+1, r.Seq, history[i].Seq)
		}
		if want := start.UTC().Truncate(time.Microsecond).Add(time.Duration(i+3) * time.Minute); !r.At.Equal(want) || r.At.Location() != time.UTC {
			t.Errorf("record %d At = %v, want %v in UTC", i+1, r.At, want)
		}
	}
	if renewed.TextVersion != "push-2025-07" || !renewed.Granted || withdrawn.Granted || transactional.Granted || !birthday.Granted {
		t.Errorf("records = %+v, want them as set", history)
	}
	states, records = e.consents(c)
	if diff := cmp.Diff(history, records); diff != "" {
		t.Errorf("consent history, oldest first (-want +got):\n%s", diff)
	}
	want := []loyalty.ConsentState{
		{Purpose: loyalty.PurposeTransactionalPush, Granted: false, Latest: transactional},
		{Purpose: loyalty.PurposeMarketingPush, Granted: false, Latest: withdrawn},
		{Purpose: loyalty.PurposePersonalisedOffers},
		{Purpose: loyalty.PurposeBirthday, Granted: true, Latest: birthday},
		{Purpose: loyalty.PurposeProfile},
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("consent states (-want +got):\n%s", diff)
	}

	// Granting again what was withdrawn, with the text of the withdrawal,
	// is a change.
	e.clock.Advance(time.Minute)
	if st := e.setConsent(c, loyalty.PurposeMarketingPush, true, "push-2025-07"); !st.Granted || st.Latest.Seq <= birthday.Seq {
		t.Errorf("granting again after a withdrawal = %+v, want a new granted record", st)
	}

	// Other members, of this program and another, have recorded nothing.
	for _, card := range []loyalty.Card{other, elsewhere} {
		states, records := e.consents(customer(card))
		if diff := cmp.Diff(defaultConsents(), states); diff != "" || len(records) != 0 {
			t.Errorf("consents of %s/%s: %d records, states (-want +got):\n%s", card.Member.ProgramID, card.Member.ID, len(records), diff)
		}
	}
	// Inside Update the store reads the same.
	e.update(func(tx loyalty.Tx) error {
		got, err := tx.Consents(e.ctx, card.Member.ProgramID, card.Member.ID)
		if err == nil && len(got) != len(history)+1 {
			t.Errorf("Consents in Update: %d records, want %d", len(got), len(history)+1)
		}
		return err
	})
}

func testConsentLimit(t *testing.T, e *env) {
	e.seed("cafe-a")
	c := customer(e.enroll("cafe-a", "u1"))
	for i := range loyalty.MaxConsentRecords {
		e.setConsent(c, loyalty.PurposeMarketingPush, i%2 == 0, "push-1")
	}
	_, records := e.consents(c)
	if len(records) != loyalty.MaxConsentRecords {
		t.Fatalf("%d records after %d changes, want %d", len(records), loyalty.MaxConsentRecords, loyalty.MaxConsentRecords)
	}
	last := records[len(records)-1]
	// The member's state stays: repeating it is fine, changing it is not.
	if st := e.setConsent(c, loyalty.PurposeMarketingPush, last.Granted, "push-1"); !cmp.Equal(st.Latest, last) {
		t.Errorf("repeating the state at the limit = %+v, want the last record %+v", st, last)
	}
	_, err := e.svc.SetConsent(e.ctx, c, loyalty.PurposeMarketingPush, !last.Granted, "push-1", "app")
	wantErr(t, err, loyalty.ErrLimit)
	_, err = e.svc.SetConsent(e.ctx, c, loyalty.PurposeMarketingPush, last.Granted, "push-2", "app")
	wantErr(t, err, loyalty.ErrLimit)
	// The limit is per purpose.
	e.setConsent(c, loyalty.PurposeBirthday, true, "push-1")
	if _, records := e.consents(c); len(records) != loyalty.MaxConsentRecords+1 {
		t.Errorf("%d records, want %d", len(records), loyalty.MaxConsentRecords+1)
	}
}

func testConsentBadInput(t *testing.T, e *env) {
	e.seed("cafe-a")
	c := customer(e.enroll("cafe-a", "u1"))
	for _, tc := range []struct {
		purpose         loyalty.Purpose
		version, source string
	}{
		{"sms_marketing", "v1", "app"},
		{"", "v1", "app"},
		{loyalty.PurposeMarketingPush, "", "app"},
		{loyalty.PurposeMarketingPush, "push 2025", "app"},
		{loyalty.PurposeMarketingPush, strings.Repeat("v", loyalty.MaxConsentTextVersionLen+1), "app"},
		{loyalty.PurposeMarketingPush, "v1", ""},
		{loyalty.PurposeMarketingPush, "v1", strings.Repeat("s", loyalty.MaxConsentSourceLen+1)},
	} {
		_, err := e.svc.SetConsent(e.ctx, c, tc.purpose, true, tc.version, tc.source)
		wantErr(t, err, loyalty.ErrInvalid)
	}
	// The longest text version and source are fine.
	_, err := e.svc.SetConsent(e.ctx, c, loyalty.PurposeMarketingPush, true,
		strings.Repeat("v", loyalty.MaxConsentTextVersionLen), strings.Repeat("s", loyalty.MaxConsentSourceLen))
	e.must(err)
	if _, records := e.consents(c); len(records) != 1 {
		t.Errorf("%d records, want only the valid one", len(records))
	}

	stranger := loyalty.Customer{ProgramID: "cafe-a", UID: "never-enrolled"}
	_, err = e.svc.SetConsent(e.ctx, stranger, loyalty.PurposeMarketingPush, true, "v1", "app")
	wantErr(t, err, loyalty.ErrNotEnrolled)
	_, _, err = e.svc.Consents(e.ctx, stranger)
	wantErr(t, err, loyalty.ErrNotEnrolled)
}

func testConsentConcurrent(t *testing.T, e *env) {
	e.seed("cafe-a")
	c := customer(e.enroll("cafe-a", "u1"))
	const n, rounds = 8, 4
	for round := range rounds {
		// Each round is one change, sent n times at once.
		granted, version := round%2 == 0, fmt.Sprintf("push-%d", round/2)
		got := make([]loyalty.ConsentState, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got[i], errs[i] = e.svc.SetConsent(e.ctx, c, loyalty.PurposeMarketingPush, granted, version, "app")
			})
		}
		wg.Wait()
		for i := range n {
			e.must(errs[i])
			if !cmp.Equal(got[i], got[0]) {
				t.Errorf("round %d: call %d returned %+v, call 0 %+v: want the one record", round, i, got[i], got[0])
			}
		}
		if _, records := e.consents(c); len(records) != round+1 {
			t.Fatalf("round %d: %d concurrent identical SetConsent calls left %d records, want %d", round, n, len(records), round+1)
		}
	}
}

// device returns a device of the app with the token, as a customer
// registers it.
func device(token string) loyalty.Device {
	return loyalty.Device{Token: token, Platform: loyalty.PlatformAndroid, Locale: loyalty.LocaleEN, AppVersion: "3.1.0"}
}

// register calls RegisterDevice and fails the test on error.
func (e *env) register(card loyalty.Card, d loyalty.Device) loyalty.Device {
	e.t.Helper()
	got, err := e.svc.RegisterDevice(e.ctx, customer(card), d)
	e.must(err)
	return got
}

// devices returns the card's member's devices.
func (e *env) devices(card loyalty.Card) []loyalty.Device {
	e.t.Helper()
	ds, err := e.svc.Devices(e.ctx, customer(card))
	e.must(err)
	return ds
}

// tokens returns the tokens of devices, in their order.
func tokens(devices []loyalty.Device) []string {
	var out []string
	for _, d := range devices {
		out = append(out, d.Token)
	}
	return out
}

func testDeviceRegister(t *testing.T, e *env) {
	e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	if got := e.devices(card); len(got) != 0 {
		t.Fatalf("devices of a new member = %+v, want none", got)
	}

	e.clock.Advance(time.Minute)
	registered := e.now()
	d := loyalty.Device{Token: "fcm:tok-a", Platform: loyalty.PlatformIOS, AppVersion: "3.1.0", TimeZone: "America/New_York"}
	got := e.register(card, d)
	want := d
	want.ProgramID, want.MemberID, want.Locale = card.Member.ProgramID, card.Member.ID, loyalty.DefaultLocale
	want.RegisteredAt, want.SeenAt = registered, registered
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RegisterDevice (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]loyalty.Device{want}, e.devices(card)); diff != "" {
		t.Errorf("Devices after RegisterDevice (-want +got):\n%s", diff)
	}

	// Registering the token again updates the device and when it was seen,
	// not when it was registered.
	e.clock.Advance(time.Hour)
	upd := loyalty.Device{Token: d.Token, Platform: loyalty.PlatformAndroid, Locale: loyalty.LocaleEN, AppVersion: "3.2.0"}
	e.register(card, upd)
	want2 := upd
	want2.ProgramID, want2.MemberID, want2.RegisteredAt, want2.SeenAt = card.Member.ProgramID, card.Member.ID, registered, e.now()
	if diff := cmp.Diff([]loyalty.Device{want2}, e.devices(card)); diff != "" {
		t.Errorf("Devices after registering again (-want +got):\n%s", diff)
	}

	// Most recently seen first; devices seen at once by token.
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:tok-c"))
	e.register(card, device("fcm:tok-b"))
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:tok-d"))
	if diff := cmp.Diff([]string{"fcm:tok-d", "fcm:tok-b", "fcm:tok-c", "fcm:tok-a"}, tokens(e.devices(card))); diff != "" {
		t.Errorf("device order (-want +got):\n%s", diff)
	}
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:tok-a"))
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.Devices(e.ctx, card.Member.ProgramID, card.Member.ID)
		if diff := cmp.Diff([]string{"fcm:tok-a", "fcm:tok-d", "fcm:tok-b", "fcm:tok-c"}, tokens(got)); err == nil && diff != "" {
			t.Errorf("device order after seeing tok-a again (-want +got):\n%s", diff)
		}
		if err == nil && !got[0].RegisteredAt.Equal(registered) {
			t.Errorf("tok-a RegisteredAt = %v, want %v", got[0].RegisteredAt, registered)
		}
		return err
	})
}

func testDeviceMove(t *testing.T, e *env) {
	e.seed("cafe-a")
	e.seed("cafe-b")
	anna, ben := e.enroll("cafe-a", "anna"), e.enroll("cafe-a", "ben")
	elsewhere := e.enroll("cafe-b", "anna")
	registered := e.now()
	e.register(anna, device("fcm:shared"))
	e.register(anna, device("fcm:anna"))
	e.register(elsewhere, device("fcm:shared")) // another program: a device of its own

	// Ben signs in on Anna's phone: the token is Ben's now, registered when
	// it was.
	e.clock.Advance(time.Hour)
	d := device("fcm:shared")
	d.AppVersion = "4.0.0"
	e.register(ben, d)
	want := d
	want.ProgramID, want.MemberID, want.RegisteredAt, want.SeenAt = "cafe-a", ben.Member.ID, registered, e.now()
	if diff := cmp.Diff([]loyalty.Device{want}, e.devices(ben)); diff != "" {
		t.Errorf("Ben's devices (-want +got):\n%s", diff)
	}
	if got := tokens(e.devices(anna)); !slices.Equal(got, []string{"fcm:anna"}) {
		t.Errorf("Anna's devices = %v, want only fcm:anna", got)
	}
	if got := e.devices(elsewhere); len(got) != 1 || got[0].Token != "fcm:shared" || got[0].MemberID != elsewhere.Member.ID || got[0].AppVersion != "3.1.0" {
		t.Errorf("devices in cafe-b = %+v, want fcm:shared unchanged", got)
	}
}

func testDeviceEvict(t *testing.T, e *env) {
	e.seed("cafe-a")
	card, other := e.enroll("cafe-a", "u1"), e.enroll("cafe-a", "u2")
	e.register(other, device("fcm:other"))
	for i := range loyalty.MaxDevicesPerMember {
		e.clock.Advance(time.Minute)
		e.register(card, device(fmt.Sprintf("fcm:%02d", i)))
	}
	// 00 is seen again, so 01 is the one seen longest ago.
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:00"))
	// Refreshing a known device at the limit removes nothing.
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:05"))
	if got := e.devices(card); len(got) != loyalty.MaxDevicesPerMember {
		t.Fatalf("%d devices after refreshing, want %d", len(got), loyalty.MaxDevicesPerMember)
	}
	e.clock.Advance(time.Minute)
	e.register(card, device("fcm:new"))
	want := []string{"fcm:new", "fcm:05", "fcm:00", "fcm:09", "fcm:08", "fcm:07", "fcm:06", "fcm:04", "fcm:03", "fcm:02"}
	if diff := cmp.Diff(want, tokens(e.devices(card))); diff != "" {
		t.Errorf("devices after the 11th (-want +got):\n%s", diff)
	}
	if got := tokens(e.devices(other)); !slices.Equal(got, []string{"fcm:other"}) {
		t.Errorf("other member's devices = %v, want fcm:other", got)
	}
}

func testDeviceUnregister(t *testing.T, e *env) {
	e.seed("cafe-a")
	card, other := e.enroll("cafe-a", "u1"), e.enroll("cafe-a", "u2")
	e.register(card, device("fcm:a"))
	e.register(card, device("fcm:b"))
	e.register(other, device("fcm:o"))

	e.must(e.svc.UnregisterDevice(e.ctx, customer(card), "fcm:a"))
	e.must(e.svc.UnregisterDevice(e.ctx, customer(card), "fcm:a"))       // gone already
	e.must(e.svc.UnregisterDevice(e.ctx, customer(card), "fcm:o"))       // another member's
	e.must(e.svc.UnregisterDevice(e.ctx, customer(card), "fcm:unknown")) // never registered
	if got := tokens(e.devices(card)); !slices.Equal(got, []string{"fcm:b"}) {
		t.Errorf("devices after unregistering = %v, want fcm:b", got)
	}
	if got := tokens(e.devices(other)); !slices.Equal(got, []string{"fcm:o"}) {
		t.Errorf("other member's devices = %v, want fcm:o untouched", got)
	}
	e.update(func(tx loyalty.Tx) error {
		for _, c := range []struct {
			member, token string
			want          bool
		}{
			{other.Member.ID, "fcm:b", false},
			{card.Member.ID, "fcm:b", true},
			{card.Member.ID, "fcm:b", false},
		} {
			got, err := tx.DeleteDevice(e.ctx, "cafe-a", c.member, c.token)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("DeleteDevice(%s, %s) = %v, want %v", c.member, c.token, got, c.want)
			}
		}
		return nil
	})
	err := e.svc.UnregisterDevice(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"}, "fcm:o")
	wantErr(t, err, loyalty.ErrNotEnrolled)
}

func testDeviceRemoveTokens(t *testing.T, e *env) {
	e.seed("cafe-a")
	e.seed("cafe-b")
	anna, ben := e.enroll("cafe-a", "anna"), e.enroll("cafe-a", "ben")
	elsewhere := e.enroll("cafe-b", "anna")
	e.register(anna, device("fcm:1"))
	e.register(anna, device("fcm:2"))
	e.register(ben, device("fcm:3"))
	e.register(elsewhere, device("fcm:1"))

	e.must(e.svc.RemoveDeviceTokens(e.ctx, "cafe-a", []string{"fcm:1", "fcm:3", "fcm:unknown"}))
	e.must(e.svc.RemoveDeviceTokens(e.ctx, "cafe-a", nil))
	if got := tokens(e.devices(anna)); !slices.Equal(got, []string{"fcm:2"}) {
		t.Errorf("Anna's devices = %v, want fcm:2", got)
	}
	if got := e.devices(ben); len(got) != 0 {
		t.Errorf("Ben's devices = %v, want none", tokens(got))
	}
	if got := tokens(e.devices(elsewhere)); !slices.Equal(got, []string{"fcm:1"}) {
		t.Errorf("devices in cafe-b = %v, want fcm:1 untouched", got)
	}

	// Many tokens at once, the known ones spread through the list.
	var known, many []string
	for i := range 8 {
		known = append(known, fmt.Sprintf("fcm:k%d", i))
		e.register([]loyalty.Card{anna, ben}[i%2], device(known[i]))
	}
	for i := range 1200 {
		many = append(many, fmt.Sprintf("fcm:gone-%d", i))
		if i%150 == 149 {
			many = append(many, known[i/150])
		}
	}
	e.update(func(tx loyalty.Tx) error {
		n, err := tx.DeleteDeviceTokens(e.ctx, "cafe-a", many)
		if err == nil && n != len(known) {
			t.Errorf("DeleteDeviceTokens of %d tokens = %d, want %d", len(many), n, len(known))
		}
		return err
	})
	if got := tokens(e.devices(anna)); !slices.Equal(got, []string{"fcm:2"}) {
		t.Errorf("Anna's devices after removing many = %v, want fcm:2", got)
	}
	if got := e.devices(ben); len(got) != 0 {
		t.Errorf("Ben's devices after removing many = %v, want none", tokens(got))
	}
	e.update(func(tx loyalty.Tx) error {
		n, err := tx.DeleteDeviceTokens(e.ctx, "cafe-a", []string{"fcm:2", "fcm:2"})
		if err == nil && n != 1 {
			t.Errorf("DeleteDeviceTokens(fcm:2 twice) = %d, want 1", n)
		}
		return err
	})
}

func testDeviceBadInput(t *testing.T, e *env) {
	e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	bad := func(f func(d *loyalty.Device)) loyalty.Device {
		d := device("fcm:tok")
		f(&d)
		return d
	}
	for _, d := range []loyalty.Device{
		bad(func(d *loyalty.Device) { d.Token = "" }),
		bad(func(d *loyalty.Device) { d.Token = "fcm tok" }),
		bad(func(d *loyalty.Device) { d.Token = strings.Repeat("t", loyalty.MaxPushTokenLen+1) }),
		bad(func(d *loyalty.Device) { d.Platform = "symbian" }),
		bad(func(d *loyalty.Device) { d.Locale = "fr" }),
		bad(func(d *loyalty.Device) { d.AppVersion = strings.Repeat("1", loyalty.MaxAppVersionLen+1) }),
		bad(func(d *loyalty.Device) { d.TimeZone = "Mars/Olympus" }),
		bad(func(d *loyalty.Device) { d.TimeZone = "Local" }),
	} {
		_, err := e.svc.RegisterDevice(e.ctx, customer(card), d)
		wantErr(t, err, loyalty.ErrInvalid)
	}
	if got := e.devices(card); len(got) != 0 {
		t.Errorf("devices after refused registrations = %+v, want none", got)
	}
	_, err := e.svc.RegisterDevice(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"}, device("fcm:tok"))
	wantErr(t, err, loyalty.ErrNotEnrolled)
	_, err = e.svc.Devices(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"})
	wantErr(t, err, loyalty.ErrNotEnrolled)
}

func testDeviceConcurrent(t *testing.T, e *env) {
	e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	const n = loyalty.MaxDevicesPerMember + 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.svc.RegisterDevice(e.ctx, customer(card), device(fmt.Sprintf("fcm:%02d", i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if got := e.devices(card); len(got) != loyalty.MaxDevicesPerMember {
		t.Errorf("%d concurrent registrations left %d devices, want %d", n, len(got), loyalty.MaxDevicesPerMember)
	}
}

func testDeviceRecipient(t *testing.T, e *env) {
	e.seed("cafe-a")
	s := DemoSeed("cafe-b")
	s.Program.TimeZone = "Europe/Lisbon"
	e.must(e.svc.ApplySeed(e.ctx, s))
	card, quiet := e.enroll("cafe-a", "u1"), e.enroll("cafe-b", "u2")
	d1 := e.register(card, device("fcm:1"))
	e.clock.Advance(time.Minute)
	d2 := e.register(card, device("fcm:2"))
	marketing := e.setConsent(customer(card), loyalty.PurposeMarketingPush, true, "push-1")
	transactional := e.setConsent(customer(card), loyalty.PurposeTransactionalPush, false, "push-1")

	got, err := e.svc.Recipient(e.ctx, loyalty.MemberKey{ProgramID: "cafe-a", MemberID: card.Member.ID})
	e.must(err)
	want := loyalty.Recipient{
		Member:  card.Member,
		Devices: []loyalty.Device{d2, d1},
		Consents: []loyalty.ConsentState{
			transactional, marketing,
			{Purpose: loyalty.PurposePersonalisedOffers},
			{Purpose: loyalty.PurposeBirthday},
			{Purpose: loyalty.PurposeProfile},
		},
		ProgramName: "Café cafe-a", TimeZone: loyalty.DefaultTimeZone,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Recipient (-want +got):\n%s", diff)
	}
	if got.Consented(loyalty.PurposeTransactionalPush) || !got.Consented(loyalty.PurposeMarketingPush) {
		t.Errorf("Recipient consents: transactional %v, marketing %v; want false, true",
			got.Consented(loyalty.PurposeTransactionalPush), got.Consented(loyalty.PurposeMarketingPush))
	}

	got, err = e.svc.Recipient(e.ctx, loyalty.MemberKey{ProgramID: "cafe-b", MemberID: quiet.Member.ID})
	e.must(err)
	want = loyalty.Recipient{Member: quiet.Member, Consents: defaultConsents(), ProgramName: "Café cafe-b", TimeZone: "Europe/Lisbon"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Recipient without devices or consents (-want +got):\n%s", diff)
	}

	_, err = e.svc.Recipient(e.ctx, loyalty.MemberKey{ProgramID: "cafe-b", MemberID: card.Member.ID})
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.Recipient(e.ctx, loyalty.MemberKey{ProgramID: "cafe-x", MemberID: card.Member.ID})
	wantErr(t, err, loyalty.ErrNotFound)
}

// expiring returns the Service's ExpiringPoints and fails the test on
// error.
func (e *env) expiring(programID string, from, to time.Time, after string, limit int) []loyalty.ExpiringPoints {
	e.t.Helper()
	got, err := e.svc.ExpiringPoints(e.ctx, programID, from, to, after, limit)
	e.must(err)
	return got
}

func testReminderExpiringPoints(t *testing.T, e *env) {
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	now := e.now()
	from, to := now.Add(24*time.Hour), now.Add(8*24*time.Hour)
	day := 24 * time.Hour
	never := time.Time{}
	type lot struct {
		points  int64
		expires time.Time
		spend   int64
	}
	members := []struct {
		m    loyalty.Member
		lots []lot
	}{
		{e.createMember(a.ID, 1), []lot{
			{5, from, 0}, {7, from, 0}, {3, from.Add(day), 0},
			{4, to, 0},                          // after the window
			{2, from.Add(-time.Microsecond), 0}, // before it
		}},
		{e.createMember(a.ID, 2), []lot{{6, to.Add(-time.Microsecond), 0}, {9, never, 0}}},
		{e.createMember(a.ID, 3), []lot{{8, from.Add(2 * day), 5}, {4, from.Add(2 * day), 4}, {1, from.Add(3 * day), 0}}},
		{e.createMember(a.ID, 4), []lot{{9, never, 0}}},             // never expires
		{e.createMember(a.ID, 5), []lot{{1, from.Add(3 * day), 0}}}, // inside
		{e.createMember(a.ID, 6), []lot{{5, from, 5}}},              // spent
		{e.createMember(a.ID, 7), nil},                              // no lots
		{e.createMember(b.ID, 8), []lot{{3, from, 0}}},              // another program
	}
	for _, mb := range members {
		e.update(func(tx loyalty.Tx) error {
			for _, l := range mb.lots {
				avail := now.Add(-72 * time.Hour)
				created, err := e.txCredit(tx, mb.m, l.points, avail, avail, l.expires)
				if err != nil {
					return err
				}
				if l.spend > 0 {
					if _, err := e.txSpend(tx, mb.m, loyalty.LotUse{LotID: created.ID, Points: l.spend}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	at := func(i int, t time.Time, points int64) loyalty.ExpiringPoints {
		return loyalty.ExpiringPoints{MemberKey: loyalty.MemberKey{ProgramID: a.ID, MemberID: members[i].m.ID}, At: t, Points: points}
	}
	all := []loyalty.ExpiringPoints{
		at(0, from, 12), at(0, from.Add(day), 3),
		at(1, to.Add(-time.Microsecond), 6),
		at(2, from.Add(2*day), 3), at(2, from.Add(3*day), 1),
		at(4, from.Add(3*day), 1),
	}
	for _, c := range []struct {
		name     string
		from, to time.Time
		after    string
		limit    int
		want     []loyalty.ExpiringPoints
	}{
		{"all", from, to, "", loyalty.MaxReminderPage, all},
		{"first member", from, to, "", 1, all[:2]},
		{"first page", from, to, "", 2, all[:3]},
		{"second page", from, to, members[1].m.ID, 2, all[3:]},
		{"past the last", from, to, members[4].m.ID, 2, nil},
		{"narrow window", from.Add(day), from.Add(2*day + time.Microsecond), "", 10, []loyalty.ExpiringPoints{all[1], all[3]}},
		{"empty window", from, from, "", 10, nil},
	} {
		got := e.expiring(a.ID, c.from, c.to, c.after, c.limit)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: ExpiringPoints (-want +got):\n%s", c.name, diff)
		}
		for _, p := range got {
			if p.At.Location() != time.UTC {
				t.Errorf("%s: At %v is not in UTC", c.name, p.At)
			}
		}
	}
	if got := e.expiring(b.ID, from, to, "", 10); len(got) != 1 || got[0].Points != 3 || got[0].MemberID != members[7].m.ID {
		t.Errorf("ExpiringPoints of cafe-b = %+v, want member 8's 3 points", got)
	}
	// Paging through by the last member got covers every member once.
	var paged []loyalty.ExpiringPoints
	for after := ""; ; {
		page := e.expiring(a.ID, from, to, after, 1)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].MemberID
		if len(paged) > len(all) {
			break
		}
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("ExpiringPoints paged one member at a time (-want +got):\n%s", diff)
	}
	// Inside Update the store reads the same.
	e.update(func(tx loyalty.Tx) error {
		got, err := tx.ExpiringPoints(e.ctx, a.ID, from, to, "", loyalty.MaxReminderPage)
		if diff := cmp.Diff(all, got); err == nil && diff != "" {
			t.Errorf("ExpiringPoints in Update (-want +got):\n%s", diff)
		}
		return err
	})
	for _, limit := range []int{0, -1, loyalty.MaxReminderPage + 1} {
		_, err := e.svc.ExpiringPoints(e.ctx, a.ID, from, to, "", limit)
		wantErr(t, err, loyalty.ErrInvalid)
	}
}

func testReminderExpiringAfterRedeem(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	anna, ben, cleo := e.enroll("cafe-a", "anna"), e.enroll("cafe-a", "ben"), e.enroll("cafe-a", "cleo")
	e.earn(till, anna, 3000, "a1") // 1 June 2025: expires 1 August
	e.earn(till, anna, 2000, "a2") // one more lot expiring then
	e.earn(till, ben, 1000, "b1")
	e.earn(till, cleo, 6000, "c1")
	e.clock.Advance(35 * 24 * time.Hour)
	e.earn(till, anna, 4000, "a3") // 6 July: expires 1 September
	e.redeem(anna, "keks", "r1")   // 10 of the 1 August points
	e.redeem(ben, "keks", "r2")    // all of Ben's
	e.redeem(cleo, "kaffee", "r3") // 50 of Cleo's 60

	aug := time.Date(2025, 8, 1, 0, 0, 0, 0, berlin).UTC()
	sep := time.Date(2025, 9, 1, 0, 0, 0, 0, berlin).UTC()
	point := func(card loyalty.Card, at time.Time, points int64) loyalty.ExpiringPoints {
		return loyalty.ExpiringPoints{MemberKey: loyalty.MemberKey{ProgramID: "cafe-a", MemberID: card.Member.ID}, At: at, Points: points}
	}
	want := []loyalty.ExpiringPoints{point(anna, aug, 40), point(anna, sep, 40), point(cleo, aug, 10)}
	slices.SortStableFunc(want, func(x, y loyalty.ExpiringPoints) int { return strings.Compare(x.MemberID, y.MemberID) })
	if diff := cmp.Diff(want, e.expiring("cafe-a", aug.Add(-time.Hour), sep.Add(time.Hour), "", 10)); diff != "" {
		t.Errorf("ExpiringPoints after redeeming (-want +got):\n%s", diff)
	}
	// Once the August points expired, only September's are left.
	e.clock.Set(aug.Add(time.Minute))
	e.expire()
	want = []loyalty.ExpiringPoints{point(anna, sep, 40)}
	if diff := cmp.Diff(want, e.expiring("cafe-a", aug.Add(-time.Hour), sep.Add(time.Hour), "", 10)); diff != "" {
		t.Errorf("ExpiringPoints after the expiry run (-want +got):\n%s", diff)
	}
}
