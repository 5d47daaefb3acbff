// Package googlepasstest is the conformance suite every googlepass.Store
// passes. A store's tests call Run with a function that opens a fresh,
// empty store:
//
//	func TestGooglePassStore(t *testing.T) {
//		googlepasstest.Run(t, func(t *testing.T) googlepasstest.Harness {
//			s := open(t)
//			return googlepasstest.Harness{Store: s.GooglePasses(), Loyalty: s}
//		})
//	}
package googlepasstest

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
	"github.com/treue/treue/wallet/googlepass"
)

// Harness is a store under test.
type Harness struct {
	// Store is the store under test.
	Store googlepass.Store
	// Loyalty is the same database as a loyalty.Store: the suite enrolls
	// members through it, and closes it when the subtest ends.
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
	{"CreatePassObjectTaken", testCreatePassObjectTaken},
	{"NotFound", testNotFound},
	{"SetSaved", testSetSaved},
	{"SetSavedUnknownObject", testSetSavedUnknownObject},
	{"MarkSynced", testMarkSynced},
	{"ReserveNotification", testReserve},
	{"ReserveNotificationPerPass", testReservePerPass},
	{"ReserveNotificationConcurrent", testReserveConcurrent},
	{"ReserveNotificationUnknownPass", testReserveUnknownPass},
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
	issuerID  = "3388000000012345678"
	// window and limit are Google's bound on notifying updates of an
	// object: 3 a day.
	window = 24 * time.Hour
	limit  = 3
)

// start is the simulated clock's first reading. It is not in UTC and has
// nanoseconds, which the stores drop.
var start = time.Date(2025, 6, 1, 9, 30, 0, 123_456_789, time.FixedZone("CEST", 2*60*60))

// env is one subtest's store and clock, with the program "cafe" seeded.
type env struct {
	t     *testing.T
	ctx   context.Context
	store googlepass.Store
	clock *storetest.Clock
	svc   *loyalty.Service
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	if h.Store == nil || h.Loyalty == nil {
		t.Fatal("googlepasstest: open returned no Store or no Loyalty store")
	}
	t.Cleanup(func() {
		if err := h.Loyalty.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := storetest.NewClock(start)
	e := &env{
		t: t, ctx: t.Context(), store: h.Store, clock: c,
		svc: loyalty.NewService(h.Loyalty, loyalty.WithClock(c.Now)),
	}
	e.must(e.svc.ApplySeed(e.ctx, loyalty.Seed{Program: loyalty.Program{
		ID: programID, Name: "Café", Currency: "EUR",
		PointName: loyalty.Text{DE: "Sterne", EN: "stars"}, BaseTier: loyalty.Text{DE: "Silber", EN: "Silver"},
		Earn: loyalty.EarnRule{Points: 1, PerMinor: 100}, MaxPurchaseMinor: 10_000_000,
		VoucherValidity: loyalty.Duration(30 * 24 * time.Hour),
	}}))
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

// newPass returns a new pass of the member, created at the clock's time,
// with the object id googlepass.ObjectID gives it.
func (e *env) newPass(m loyalty.Member) googlepass.Pass {
	return googlepass.Pass{
		ProgramID: m.ProgramID, MemberID: m.ID,
		ObjectID:  googlepass.ObjectID(issuerID, m.ProgramID, m.ID),
		CreatedAt: e.clock.Now(),
	}
}

// create stores p with CreatePass and returns the pass it returned.
func (e *env) create(p googlepass.Pass) googlepass.Pass {
	e.t.Helper()
	got, err := e.store.CreatePass(e.ctx, p)
	e.must(err)
	checkUTC(e.t, "CreatePass", got)
	return got
}

// wantPass fails the test unless the store's pass of p's member, and its
// pass of p's object id, equal want.
func (e *env) wantPass(p, want googlepass.Pass) {
	e.t.Helper()
	got, err := e.store.Pass(e.ctx, p.ProgramID, p.MemberID)
	e.must(err)
	if diff := cmp.Diff(want, got); diff != "" {
		e.t.Errorf("Pass(%s, %s) (-want +got):\n%s", p.ProgramID, p.MemberID, diff)
	}
	checkUTC(e.t, "Pass", got)
	got, err = e.store.PassByObject(e.ctx, p.ObjectID)
	e.must(err)
	if diff := cmp.Diff(want, got); diff != "" {
		e.t.Errorf("PassByObject(%s) (-want +got):\n%s", p.ObjectID, diff)
	}
	checkUTC(e.t, "PassByObject", got)
}

// checkUTC fails the test unless every time of p that is not zero is in
// UTC.
func checkUTC(t *testing.T, what string, p googlepass.Pass) {
	t.Helper()
	for _, at := range []time.Time{p.CreatedAt, p.SavedAsOf, p.SyncedAt, p.ExpiryWarned} {
		if !at.IsZero() && at.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", what, at)
		}
	}
}

// reserve calls ReserveNotification for p's member at now with the
// suite's window and limit, and returns ok.
func (e *env) reserve(p googlepass.Pass, now time.Time) bool {
	e.t.Helper()
	ok, err := e.store.ReserveNotification(e.ctx, p.ProgramID, p.MemberID, now, window, limit)
	e.must(err)
	return ok
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

// objectID returns an object id no pass of the suite's members has.
func objectID(n int) string { return fmt.Sprintf("%s.other-%d", issuerID, n) }
