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
	"github.com/treue/treue/store/storetest"
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
	clock   *storetest.Clock
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
	c := storetest.NewClock(start)
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
