// Package applepasstest is the conformance suite every applepass.Store
// passes. A store's tests call Run with a function that opens a fresh,
// empty store:
//
//	func TestApplePassStore(t *testing.T) {
//		applepasstest.Run(t, func(t *testing.T) applepasstest.Harness {
//			s := open(t)
//			return applepasstest.Harness{Store: s, Loyalty: s}
//		})
//	}
package applepasstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
)

// Harness is a store under test.
type Harness struct {
	// Store is the store under test.
	Store applepass.Store
	// Loyalty is the same database as a loyalty.Store: the suite enrolls
	// members and earns points through it, and closes it when the subtest
	// ends.
	Loyalty loyalty.Store
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

var tests = []test{
	{"CreatePass", testCreatePass},
	{"CreatePassConcurrent", testCreatePassConcurrent},
	{"CreatePassUnknownMember", testCreatePassUnknownMember},
	{"NotFound", testNotFound},
	{"UpdatedAt", testUpdatedAt},
	{"UpdatedSince", testUpdatedSince},
	{"Register", testRegister},
	{"RegisterConcurrent", testRegisterConcurrent},
	{"DevicesPerPass", testDevicesPerPass},
	{"PassesPerDevice", testPassesPerDevice},
	{"Unregister", testUnregister},
	{"Registrations", testRegistrations},
	{"DeleteRegistrationsByToken", testDeleteByToken},
}

// Run runs the suite. It calls open once per subtest for a fresh, empty
// store. Subtests run in parallel, so open must be safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newEnv(t, open(t)))
		})
	}
}

const (
	programID = "cafe"
	tillKey   = "till-key-cafe-secret"
	// typeA and typeB are pass type identifiers.
	typeA = "pass.com.example.cafe"
	typeB = "pass.com.example.other"
)

// start is the simulated clock's first reading. It is not in UTC and has
// nanoseconds, which the stores drop.
var start = time.Date(2025, 6, 1, 9, 30, 0, 123_456_789, time.FixedZone("CEST", 2*60*60))

// env is one subtest's store, clock and loyalty Service, with the program
// "cafe" seeded.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   applepass.Store
	loyalty loyalty.Store
	clock   *clock
	svc     *loyalty.Service
	till    loyalty.Till

	mu     sync.Mutex
	serial int // the last serial number drawn
	earns  int
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	if h.Store == nil || h.Loyalty == nil {
		t.Fatal("applepasstest: open returned no Store or no Loyalty store")
	}
	t.Cleanup(func() {
		if err := h.Loyalty.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := &clock{now: start}
	e := &env{
		t: t, ctx: t.Context(), store: h.Store, loyalty: h.Loyalty, clock: c,
		svc: loyalty.NewService(h.Loyalty, loyalty.WithClock(c.Now)),
	}
	e.must(e.svc.ApplySeed(e.ctx, loyalty.Seed{
		Program: loyalty.Program{
			ID: programID, Name: "Café", Currency: "EUR",
			PointName: loyalty.Text{DE: "Sterne", EN: "stars"}, BaseTier: loyalty.Text{DE: "Silber", EN: "Silver"},
			Earn: loyalty.EarnRule{Points: 1, PerMinor: 100}, MaxPurchaseMinor: 10_000_000,
			VoucherValidity: loyalty.Duration(30 * 24 * time.Hour),
		},
		Tills: []loyalty.TillKey{{Till: loyalty.Till{ID: "till-cafe", Name: "Kasse 1"}, Key: tillKey}},
	}))
	var err error
	e.till, err = e.svc.AuthenticateTill(e.ctx, tillKey)
	e.must(err)
	return e
}

// clock is a simulated clock that stands still until moved.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stored returns t as the stores return it: in UTC, to the microsecond.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// must fails the test when err is not nil.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// wantErr fails the test unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %q", err, target)
	}
}

// enroll enrolls a new member with the user id and returns the member.
func (e *env) enroll(uid string) loyalty.Member {
	e.t.Helper()
	card, _, err := e.svc.Enroll(e.ctx, loyalty.Customer{ProgramID: programID, UID: uid}, loyalty.LocaleDE)
	e.must(err)
	return card.Member
}

// earn posts a purchase for the member at the clock's time, which changes
// the member's account, and returns the account's new UpdatedAt.
func (e *env) earn(m loyalty.Member) time.Time {
	e.t.Helper()
	e.mu.Lock()
	e.earns++
	key := fmt.Sprint("earn-", e.earns)
	e.mu.Unlock()
	_, err := e.svc.Earn(e.ctx, e.till, loyalty.EarnRequest{CardNumber: m.CardNumber, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: key})
	e.must(err)
	var updated time.Time
	e.must(e.loyalty.View(e.ctx, func(tx loyalty.Tx) error {
		a, err := tx.Account(e.ctx, m.ProgramID, m.ID)
		updated = a.UpdatedAt
		return err
	}))
	return updated
}

// record returns a new record of the member's pass of passTypeID, created
// at the clock's time, with a serial number and token not used before.
func (e *env) record(m loyalty.Member, passTypeID string) applepass.Record {
	e.mu.Lock()
	e.serial++
	n := e.serial
	e.mu.Unlock()
	return applepass.Record{
		ProgramID: m.ProgramID, MemberID: m.ID, PassTypeID: passTypeID,
		Serial: fmt.Sprintf("%032x", n), AuthToken: fmt.Sprintf("%064x", n), CreatedAt: e.clock.Now(),
	}
}

// create stores r with CreatePass and returns the stored record.
func (e *env) create(r applepass.Record) applepass.Record {
	e.t.Helper()
	got, err := e.store.CreatePass(e.ctx, r)
	e.must(err)
	return got
}

// register registers a device for p with the token at the time and returns
// created.
func (e *env) register(device string, p applepass.Record, token string, at time.Time) bool {
	e.t.Helper()
	created, err := e.store.Register(e.ctx, applepass.Registration{
		DeviceID: device, PassTypeID: p.PassTypeID, Serial: p.Serial, PushToken: token, CreatedAt: at,
	})
	e.must(err)
	return created
}

// registrations returns the registrations of p.
func (e *env) registrations(p applepass.Record) []applepass.Registration {
	e.t.Helper()
	rs, err := e.store.Registrations(e.ctx, p.PassTypeID, p.Serial)
	e.must(err)
	for _, r := range rs {
		checkUTC(e.t, "registration's CreatedAt", r.CreatedAt)
	}
	return rs
}

// wantPass fails the test unless the store's record of p's member and
// type and of p's serial number equal want.
func (e *env) wantPass(p, want applepass.Record) {
	e.t.Helper()
	got, err := e.store.Pass(e.ctx, p.ProgramID, p.MemberID, p.PassTypeID)
	e.must(err)
	if diff := cmp.Diff(want, got); diff != "" {
		e.t.Errorf("Pass (-want +got):\n%s", diff)
	}
	checkUTC(e.t, "Pass", got.CreatedAt, got.UpdatedAt)
	got, err = e.store.PassBySerial(e.ctx, p.PassTypeID, p.Serial)
	e.must(err)
	if diff := cmp.Diff(want, got); diff != "" {
		e.t.Errorf("PassBySerial (-want +got):\n%s", diff)
	}
	checkUTC(e.t, "PassBySerial", got.CreatedAt, got.UpdatedAt)
}

// wantUpdated fails the test unless UpdatedSince returns serials and last.
func (e *env) wantUpdated(device, passTypeID string, since time.Time, serials []string, last time.Time) {
	e.t.Helper()
	got, gotLast, err := e.store.UpdatedSince(e.ctx, device, passTypeID, since)
	e.must(err)
	if len(got) != 0 || len(serials) != 0 {
		if diff := cmp.Diff(serials, got); diff != "" {
			e.t.Errorf("UpdatedSince(%s, %s, %v) serials (-want +got):\n%s", device, passTypeID, since, diff)
		}
	}
	if !gotLast.Equal(last) || (!gotLast.IsZero() && gotLast.Location() != time.UTC) {
		e.t.Errorf("UpdatedSince(%s, %s, %v) last = %v, want %v in UTC", device, passTypeID, since, gotLast, last)
	}
}

// checkUTC fails the test unless every time is in UTC.
func checkUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for _, at := range times {
		if at.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", what, at)
		}
	}
}

// parallel runs fn(0) … fn(n-1) at once and waits for them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			fn(i)
		})
	}
	close(ready)
	wg.Wait()
}

func testCreatePass(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.clock.Advance(time.Minute)
	r := e.record(m, typeA)
	got := e.create(r)
	want := r
	want.CreatedAt = stored(r.CreatedAt)
	want.UpdatedAt = want.CreatedAt // the account last changed at enrollment, before
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreatePass (-want +got):\n%s", diff)
	}
	checkUTC(t, "CreatePass", got.CreatedAt, got.UpdatedAt)
	e.wantPass(r, want)

	// The member has a pass of the type: a second call, later and with
	// another serial number and token, returns it and stores nothing.
	e.clock.Advance(time.Minute)
	again := e.record(m, typeA)
	if diff := cmp.Diff(want, e.create(again)); diff != "" {
		t.Errorf("second CreatePass (-first +second):\n%s", diff)
	}
	_, err := e.store.PassBySerial(e.ctx, typeA, again.Serial)
	wantErr(t, err, loyalty.ErrNotFound)
	e.wantPass(r, want)

	// Another pass type, or another member, gets a pass of its own.
	for _, r := range []applepass.Record{e.record(m, typeB), e.record(e.enroll("u2"), typeA)} {
		want := r
		want.CreatedAt, want.UpdatedAt = stored(r.CreatedAt), stored(r.CreatedAt)
		if diff := cmp.Diff(want, e.create(r)); diff != "" {
			t.Errorf("CreatePass(%s, %s) (-want +got):\n%s", r.MemberID, r.PassTypeID, diff)
		}
		e.wantPass(r, want)
	}
	e.wantPass(r, want)
}

func testCreatePassConcurrent(t *testing.T, e *env) {
	m := e.enroll("u1")
	const n = 8
	records := make([]applepass.Record, n)
	for i := range records {
		records[i] = e.record(m, typeA)
		e.clock.Advance(time.Millisecond)
	}
	got := make([]applepass.Record, n)
	errs := make([]error, n)
	parallel(n, func(i int) { got[i], errs[i] = e.store.CreatePass(e.ctx, records[i]) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreatePass %d: %v", i, err)
		}
		if diff := cmp.Diff(got[0], got[i]); diff != "" {
			t.Errorf("CreatePass %d returned another record than CreatePass 0 (-0 +%d):\n%s", i, i, diff)
		}
	}
	kept := 0
	for _, r := range records {
		_, err := e.store.PassBySerial(e.ctx, typeA, r.Serial)
		switch {
		case err == nil:
			kept++
			if r.Serial != got[0].Serial {
				t.Errorf("serial %s stored, but CreatePass returned %s", r.Serial, got[0].Serial)
			}
		case !errors.Is(err, loyalty.ErrNotFound):
			t.Fatal(err)
		}
	}
	if kept != 1 {
		t.Errorf("%d of %d concurrent CreatePass calls stored a pass, want 1", kept, n)
	}
	e.wantPass(got[0], got[0])
}

func testCreatePassUnknownMember(t *testing.T, e *env) {
	r := e.record(loyalty.Member{ProgramID: programID, ID: "no-such-member"}, typeA)
	if got, err := e.store.CreatePass(e.ctx, r); err == nil {
		t.Errorf("CreatePass for an unknown member = %+v, want an error", got)
	}
	_, err := e.store.PassBySerial(e.ctx, typeA, r.Serial)
	wantErr(t, err, loyalty.ErrNotFound)
}

func testNotFound(t *testing.T, e *env) {
	m := e.enroll("u1")
	p := e.create(e.record(m, typeA))
	for _, c := range []struct{ program, member, passType string }{
		{programID, m.ID, typeB},
		{programID, "other", typeA},
		{"other", m.ID, typeA},
	} {
		_, err := e.store.Pass(e.ctx, c.program, c.member, c.passType)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("Pass(%s, %s, %s): got error %v, want one wrapping %q", c.program, c.member, c.passType, err, loyalty.ErrNotFound)
		}
	}
	for _, c := range []struct{ passType, serial string }{
		{typeA, "00"},
		{typeB, p.Serial},
		{typeA, ""},
	} {
		_, err := e.store.PassBySerial(e.ctx, c.passType, c.serial)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("PassBySerial(%s, %q): got error %v, want one wrapping %q", c.passType, c.serial, err, loyalty.ErrNotFound)
		}
	}
}

func testUpdatedAt(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.clock.Advance(time.Minute)
	p := e.create(e.record(m, typeA))
	if !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Errorf("new pass: UpdatedAt = %v, want CreatedAt %v", p.UpdatedAt, p.CreatedAt)
	}
	e.register("dev", p, "tok", e.clock.Now())
	e.wantUpdated("dev", typeA, time.Time{}, []string{p.Serial}, p.CreatedAt)

	// A change of the member's account after the pass's creation moves
	// UpdatedAt to it.
	e.clock.Advance(time.Hour)
	changed := e.earn(m)
	if !changed.After(p.CreatedAt) {
		t.Fatalf("account changed at %v, not after the pass's creation at %v", changed, p.CreatedAt)
	}
	want := p
	want.UpdatedAt = stored(changed)
	e.wantPass(p, want)
	e.wantUpdated("dev", typeA, p.CreatedAt, []string{p.Serial}, want.UpdatedAt)
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(-time.Nanosecond), []string{p.Serial}, want.UpdatedAt)
	// Nothing changed after the last update.
	e.wantUpdated("dev", typeA, want.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(500*time.Nanosecond), nil, time.Time{})
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(time.Hour), nil, time.Time{})
}

func testUpdatedSince(t *testing.T, e *env) {
	m1, m2, m3 := e.enroll("u1"), e.enroll("u2"), e.enroll("u3")
	// p1's serial number sorts first, but p2 is created first.
	r1, r2 := e.record(m1, typeA), e.record(m2, typeA)
	e.clock.Advance(time.Minute)
	r2.CreatedAt = e.clock.Now()
	p2 := e.create(r2)
	e.clock.Advance(time.Minute)
	r1.CreatedAt = e.clock.Now()
	p1 := e.create(r1)
	p3 := e.create(e.record(m1, typeB))
	p4 := e.create(e.record(m3, typeA)) // dev does not register for it
	for _, p := range []applepass.Record{p1, p2, p3} {
		e.register("dev", p, "tok", e.clock.Now())
	}
	e.register("other-dev", p4, "tok", e.clock.Now())

	both := []string{p1.Serial, p2.Serial}
	e.wantUpdated("dev", typeA, time.Time{}, both, p1.UpdatedAt)
	e.wantUpdated("dev", typeA, p2.UpdatedAt, []string{p1.Serial}, p1.UpdatedAt)
	e.wantUpdated("dev", typeA, p1.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeB, time.Time{}, []string{p3.Serial}, p3.UpdatedAt)
	e.wantUpdated("other-dev", typeA, time.Time{}, []string{p4.Serial}, p4.UpdatedAt)
	e.wantUpdated("unknown-dev", typeA, time.Time{}, nil, time.Time{})
	e.wantUpdated("dev", "pass.com.example.unknown", time.Time{}, nil, time.Time{})

	// One member's account changes: only that member's pass is updated.
	// A since in another time zone is the same instant.
	e.clock.Advance(time.Hour)
	changed := stored(e.earn(m2))
	e.wantUpdated("dev", typeA, p1.UpdatedAt.In(start.Location()), []string{p2.Serial}, changed)
	e.wantUpdated("dev", typeA, time.Time{}, both, changed)
	e.wantUpdated("dev", typeA, changed, nil, time.Time{})
	e.wantUpdated("other-dev", typeA, p4.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeB, p3.UpdatedAt, nil, time.Time{})
}

func testRegister(t *testing.T, e *env) {
	p := e.create(e.record(e.enroll("u1"), typeA))
	t1 := e.clock.Now()
	if !e.register("dev", p, "tok-1", t1) {
		t.Error("first Register: created = false, want true")
	}
	want := []applepass.Registration{{DeviceID: "dev", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-1", CreatedAt: stored(t1)}}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations (-want +got):\n%s", diff)
	}

	// Registering again updates the push token and the time: APNs's
	// verdicts on the token before it no longer apply.
	e.clock.Advance(time.Minute)
	if e.register("dev", p, "tok-2", e.clock.Now()) {
		t.Error("second Register: created = true, want false")
	}
	want[0].PushToken, want[0].CreatedAt = "tok-2", stored(e.clock.Now())
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations after registering again (-want +got):\n%s", diff)
	}

	// Passes that do not exist.
	for _, r := range []applepass.Registration{
		{DeviceID: "dev", PassTypeID: typeA, Serial: "00", PushToken: "tok", CreatedAt: t1},
		{DeviceID: "dev", PassTypeID: typeB, Serial: p.Serial, PushToken: "tok", CreatedAt: t1},
	} {
		created, err := e.store.Register(e.ctx, r)
		if !errors.Is(err, loyalty.ErrNotFound) || created {
			t.Errorf("Register(%s, %s) = %v, %v; want an error wrapping %q", r.PassTypeID, r.Serial, created, err, loyalty.ErrNotFound)
		}
	}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations after refusals (-want +got):\n%s", diff)
	}
}

func testRegisterConcurrent(t *testing.T, e *env) {
	p := e.create(e.record(e.enroll("u1"), typeA))
	const n = 8
	created := make([]bool, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		created[i], errs[i] = e.store.Register(e.ctx, applepass.Registration{
			DeviceID: "dev", PassTypeID: typeA, Serial: p.Serial, PushToken: fmt.Sprint("tok-", i), CreatedAt: e.clock.Now(),
		})
	})
	n1 := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("Register %d: %v", i, err)
		}
		if created[i] {
			n1++
		}
	}
	if n1 != 1 {
		t.Errorf("%d of %d concurrent Registers of one device created the registration, want 1", n1, n)
	}
	if rs := e.registrations(p); len(rs) != 1 {
		t.Errorf("%d registrations, want 1: %+v", len(rs), rs)
	}
}

func testDevicesPerPass(t *testing.T, e *env) {
	m := e.enroll("u1")
	p := e.create(e.record(m, typeA))
	device := func(i int) string { return fmt.Sprint("dev-", i) }
	for i := range applepass.MaxDevicesPerPass {
		if !e.register(device(i), p, "tok", e.clock.Now()) {
			t.Fatalf("Register device %d: created = false", i)
		}
	}
	extra := applepass.Registration{DeviceID: "dev-extra", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok", CreatedAt: e.clock.Now()}
	created, err := e.store.Register(e.ctx, extra)
	if !errors.Is(err, applepass.ErrTooManyRegistrations) || created {
		t.Fatalf("Register of device %d = %v, %v; want an error wrapping %q", applepass.MaxDevicesPerPass+1, created, err, applepass.ErrTooManyRegistrations)
	}
	// A device registered already may register again.
	if e.register(device(0), p, "tok-new", e.clock.Now()) {
		t.Error("registering a registered device again at the limit: created = true")
	}
	if got := len(e.registrations(p)); got != applepass.MaxDevicesPerPass {
		t.Errorf("%d registrations, want %d", got, applepass.MaxDevicesPerPass)
	}
	// Room made, another device fits.
	found, err := e.store.Unregister(e.ctx, device(3), typeA, p.Serial)
	e.must(err)
	if !found {
		t.Fatal("Unregister: found = false")
	}
	if !e.register(extra.DeviceID, p, "tok", e.clock.Now()) {
		t.Error("Register after Unregister: created = false")
	}

	// Concurrent registrations of many devices stop at the limit.
	q := e.create(e.record(m, typeB))
	const n = 2 * applepass.MaxDevicesPerPass
	errs := make([]error, n)
	parallel(n, func(i int) {
		_, errs[i] = e.store.Register(e.ctx, applepass.Registration{
			DeviceID: device(i), PassTypeID: typeB, Serial: q.Serial, PushToken: "tok", CreatedAt: e.clock.Now(),
		})
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, applepass.ErrTooManyRegistrations):
			t.Errorf("concurrent Register %d: %v", i, err)
		}
	}
	if got := len(e.registrations(q)); ok != applepass.MaxDevicesPerPass || got != ok {
		t.Errorf("%d concurrent Registers succeeded and %d registrations stored, want %d", ok, got, applepass.MaxDevicesPerPass)
	}
}

func testPassesPerDevice(t *testing.T, e *env) {
	// One member's passes of many types: the limit counts every type.
	m := e.enroll("u1")
	passes := make([]applepass.Record, applepass.MaxPassesPerDevice+1)
	for i := range passes {
		passes[i] = e.create(e.record(m, fmt.Sprintf("pass.com.example.t%03d", i)))
	}
	for _, p := range passes[:applepass.MaxPassesPerDevice] {
		if !e.register("dev", p, "tok", e.clock.Now()) {
			t.Fatalf("Register for %s: created = false", p.PassTypeID)
		}
	}
	last := passes[applepass.MaxPassesPerDevice]
	r := applepass.Registration{DeviceID: "dev", PassTypeID: last.PassTypeID, Serial: last.Serial, PushToken: "tok", CreatedAt: e.clock.Now()}
	created, err := e.store.Register(e.ctx, r)
	if !errors.Is(err, applepass.ErrTooManyRegistrations) || created {
		t.Fatalf("Register for pass %d = %v, %v; want an error wrapping %q", applepass.MaxPassesPerDevice+1, created, err, applepass.ErrTooManyRegistrations)
	}
	if e.register("dev", passes[0], "tok-new", e.clock.Now()) {
		t.Error("registering again at the limit: created = true")
	}
	// The limit is the device's: another device registers.
	if !e.register("other-dev", last, "tok", e.clock.Now()) {
		t.Error("Register of another device: created = false")
	}
	found, err := e.store.Unregister(e.ctx, "dev", passes[7].PassTypeID, passes[7].Serial)
	e.must(err)
	if !found {
		t.Fatal("Unregister: found = false")
	}
	if !e.register("dev", last, "tok", e.clock.Now()) {
		t.Error("Register after Unregister: created = false")
	}
}

func testUnregister(t *testing.T, e *env) {
	m := e.enroll("u1")
	p, q := e.create(e.record(m, typeA)), e.create(e.record(m, typeB))
	e.register("dev", p, "tok", e.clock.Now())
	e.register("other-dev", p, "tok", e.clock.Now())
	e.register("dev", q, "tok", e.clock.Now())
	unregister := func(device, passType, serial string) bool {
		t.Helper()
		found, err := e.store.Unregister(e.ctx, device, passType, serial)
		e.must(err)
		return found
	}
	if !unregister("dev", typeA, p.Serial) {
		t.Error("Unregister: found = false")
	}
	if unregister("dev", typeA, p.Serial) {
		t.Error("second Unregister: found = true")
	}
	if unregister("unknown-dev", typeA, p.Serial) || unregister("dev", typeA, "00") || unregister("other-dev", typeB, p.Serial) {
		t.Error("Unregister of a registration that does not exist: found = true")
	}
	if rs := e.registrations(p); len(rs) != 1 || rs[0].DeviceID != "other-dev" {
		t.Errorf("registrations of the pass = %+v, want other-dev's", rs)
	}
	if rs := e.registrations(q); len(rs) != 1 || rs[0].DeviceID != "dev" {
		t.Errorf("registrations of the other pass = %+v, want dev's", rs)
	}
	e.wantUpdated("dev", typeA, time.Time{}, nil, time.Time{})
}

func testRegistrations(t *testing.T, e *env) {
	m := e.enroll("u1")
	p, q := e.create(e.record(m, typeA)), e.create(e.record(m, typeB))
	at := func(d time.Duration) time.Time { return start.Add(d) }
	e.register("dev-c", p, "tok-c", at(time.Second))
	e.register("dev-a", p, "tok-a", at(3*time.Second))
	e.register("dev-b", p, "tok-b", at(2*time.Second))
	e.register("dev-d", q, "tok-d", at(0))
	want := []applepass.Registration{
		{DeviceID: "dev-c", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-c", CreatedAt: stored(at(time.Second))},
		{DeviceID: "dev-b", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-b", CreatedAt: stored(at(2 * time.Second))},
		{DeviceID: "dev-a", PassTypeID: typeA, Serial: p.Serial, PushToken: "tok-a", CreatedAt: stored(at(3 * time.Second))},
	}
	if diff := cmp.Diff(want, e.registrations(p)); diff != "" {
		t.Errorf("registrations, oldest first (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ passType, serial string }{{typeA, "00"}, {typeB, p.Serial}} {
		rs, err := e.store.Registrations(e.ctx, c.passType, c.serial)
		if err != nil || len(rs) != 0 {
			t.Errorf("Registrations(%s, %s) = %+v, %v; want none", c.passType, c.serial, rs, err)
		}
	}
}

func testDeleteByToken(t *testing.T, e *env) {
	m1, m2 := e.enroll("u1"), e.enroll("u2")
	p1, p2, p3 := e.create(e.record(m1, typeA)), e.create(e.record(m2, typeA)), e.create(e.record(m1, typeB))
	t0 := start.Add(time.Minute)
	e.register("dev-1", p1, "tok-x", t0)
	e.register("dev-2", p2, "tok-x", t0.Add(2*time.Second))
	e.register("dev-3", p1, "tok-y", t0)
	e.register("dev-4", p3, "tok-x", t0)
	del := func(passType, token string, before time.Time, want int) {
		t.Helper()
		n, err := e.store.DeleteRegistrationsByToken(e.ctx, passType, token, before)
		e.must(err)
		if n != want {
			t.Errorf("DeleteRegistrationsByToken(%s, %s, %v) = %d, want %d", passType, token, before, n, want)
		}
	}
	del(typeA, "tok-x", t0.Add(time.Second), 1)
	// dev-2's registration is kept to the microsecond: a nanosecond
	// before that keeps it, and before is inclusive.
	at2 := stored(t0.Add(2 * time.Second))
	del(typeA, "tok-x", at2.Add(-time.Nanosecond), 0)
	del(typeA, "tok-x", at2, 1)
	del(typeA, "tok-x", t0.Add(time.Hour), 0)
	del(typeA, "tok-unknown", t0.Add(time.Hour), 0)
	for _, c := range []struct {
		p       applepass.Record
		devices []string
	}{{p1, []string{"dev-3"}}, {p2, nil}, {p3, []string{"dev-4"}}} {
		var got []string
		for _, r := range e.registrations(c.p) {
			got = append(got, r.DeviceID)
		}
		if diff := cmp.Diff(c.devices, got); diff != "" {
			t.Errorf("devices of %s %s (-want +got):\n%s", c.p.PassTypeID, c.p.Serial, diff)
		}
	}
}
