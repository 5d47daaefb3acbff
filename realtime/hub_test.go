package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

const program = "cafe"

// fixture is one replica: a service over a real SQLite store, its hub and
// the broker.
type fixture struct {
	svc    *loyalty.Service
	hub    *realtime.Hub
	broker realtime.Broker
	clock  *storetest.Clock
	till   loyalty.Till
	// hook, when set, replaces delivery by the hub (a crash after commit).
	hook func([]loyalty.CardChange)
}

func newFixture(t *testing.T, broker realtime.Broker, cfg realtime.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{broker: broker, clock: storetest.NewClock(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))}
	f.svc = loyalty.NewService(st, loyalty.WithClock(f.clock.Now), loyalty.WithChangeHook(func(c []loyalty.CardChange) {
		if f.hook != nil {
			f.hook(c)
			return
		}
		f.hub.Committed(c)
	}))
	f.hub = realtime.NewHub(f.svc, broker, cfg)
	if err := f.svc.ApplySeed(ctx, storetest.DemoSeed(program)); err != nil {
		t.Fatal(err)
	}
	if f.till, err = f.svc.AuthenticateTill(ctx, storetest.TillKey(program)); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs the hub until the test ends.
func (f *fixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.hub.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitFor(t, f.hub.Listening)
}

func (f *fixture) enrol(t *testing.T, uid string) (loyalty.Customer, string) {
	t.Helper()
	c := loyalty.Customer{ProgramID: program, UID: uid}
	card, _, err := f.svc.Enroll(context.Background(), c, loyalty.LocaleDE)
	if err != nil {
		t.Fatal(err)
	}
	return c, card.Member.CardNumber
}

func (f *fixture) earn(t *testing.T, card string, minor int64) loyalty.EarnResult {
	t.Helper()
	key := fmt.Sprintf("k-%d", time.Now().UnixNano())
	res, err := f.svc.Earn(context.Background(), f.till, loyalty.EarnRequest{CardNumber: card, AmountMinor: minor, Currency: "EUR", IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCardReadThrough: a card is read from the store once and then from
// the cache, which every write updates before it returns.
func TestCardReadThrough(t *testing.T) {
	f := newFixture(t, memory.New(), realtime.Config{})
	f.run(t)
	ctx := context.Background()
	c, card := f.enrol(t, "alice")
	st, err := f.hub.Card(ctx, c, 0)
	if err != nil || st.Balance != 0 {
		t.Fatalf("Card = %+v, %v", st, err)
	}
	if hits, misses := f.hub.Stats().CacheHits.Load(), f.hub.Stats().CacheMisses.Load(); hits != 0 || misses != 1 {
		t.Fatalf("first read: %d hits, %d misses; want a miss", hits, misses)
	}
	for i := range 20 {
		res := f.earn(t, card, 100)
		st, err := f.hub.Card(ctx, c, 0)
		if err != nil || st.Balance != res.Balance {
			t.Fatalf("read %d after an earn to %d: %+v, %v", i, res.Balance, st, err)
		}
	}
	if hits, misses := f.hub.Stats().CacheHits.Load(), f.hub.Stats().CacheMisses.Load(); hits != 20 || misses != 1 {
		t.Fatalf("%d hits, %d misses; want every read after a write from the cache", hits, misses)
	}
	// A version the cache does not have yet is read from the store.
	if _, err := f.hub.Card(ctx, c, st.Version+100); err != nil || f.hub.Stats().CacheMisses.Load() != 2 {
		t.Fatalf("min version above the cache's: err %v, misses %d", err, f.hub.Stats().CacheMisses.Load())
	}
	if _, err := f.hub.Card(ctx, loyalty.Customer{ProgramID: program, UID: "nobody"}, 0); !errors.Is(err, loyalty.ErrNotEnrolled) {
		t.Fatalf("card of a stranger: %v, want ErrNotEnrolled", err)
	}
}

// TestCardChangesByTime: a cached card with a hold is not served after the
// hold ran out.
func TestCardChangesByTime(t *testing.T) {
	f := newFixture(t, memory.New(), realtime.Config{})
	ctx := context.Background()
	c, card := f.enrol(t, "bob")
	f.earn(t, card, 5000)
	if _, err := f.svc.Hold(ctx, f.till, loyalty.HoldRequest{CardNumber: card, Points: 30, TTL: time.Minute, IdempotencyKey: "h"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.hub.Card(ctx, c, 0)
	if err != nil || st.Available != 20 {
		t.Fatalf("card with a hold = %+v, %v; want 20 available", st, err)
	}
	f.clock.Advance(2 * time.Minute)
	if st, err := f.hub.Card(ctx, c, 0); err != nil || st.Available != 50 {
		t.Fatalf("card after the hold ran out = %+v, %v; want 50 available", st, err)
	}
}

// TestOutboxSurvivesCrash: changes whose writer stopped right after the
// commit are delivered by the sweep, and the outbox ends empty.
func TestOutboxSurvivesCrash(t *testing.T) {
	f := newFixture(t, memory.New(), realtime.Config{SweepAge: time.Second})
	ctx := context.Background()
	c, card := f.enrol(t, "carol")
	if _, err := f.hub.Card(ctx, c, 0); err != nil { // cached at version 0
		t.Fatal(err)
	}
	f.hook = func([]loyalty.CardChange) {} // the replica dies before delivery
	var last loyalty.EarnResult
	for range 5 {
		last = f.earn(t, card, 200)
	}
	f.hook = nil
	// The cache still holds version 0: that is what the sweep repairs.
	if st, _, _ := f.broker.Card(ctx, loyalty.CardKey{ProgramID: program, UID: "carol"}); st.Balance != 0 {
		t.Fatalf("cache before the sweep = %+v", st)
	}
	if err := f.hub.Sweep(ctx); err != nil || f.hub.Stats().Swept.Load() != 0 {
		t.Fatalf("sweep of young changes: err %v, swept %d; want them left to their writer", err, f.hub.Stats().Swept.Load())
	}
	f.clock.Advance(2 * time.Second)
	if err := f.hub.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.Stats().Swept.Load(); n != 5 {
		t.Fatalf("swept %d changes, want 5", n)
	}
	st, ok, err := f.broker.Card(ctx, loyalty.CardKey{ProgramID: program, UID: "carol"})
	if err != nil || !ok || st.Balance != last.Balance {
		t.Fatalf("cache after the sweep = %+v, %v, %v; want balance %d", st, ok, err, last.Balance)
	}
	// Delivered changes are deleted in the background.
	f.run(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		left, err := f.svc.ClaimCardChanges(ctx, f.clock.Now().Add(time.Hour), time.Millisecond, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d delivered changes still in the outbox", len(left))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSlowWatcherDropped: a watch that does not read its changes is
// dropped instead of holding memory.
func TestSlowWatcherDropped(t *testing.T) {
	f := newFixture(t, memory.New(), realtime.Config{WatchBuffer: 4})
	f.run(t)
	ctx := context.Background()
	c, card := f.enrol(t, "dave")
	w, first, err := f.hub.Watch(ctx, c, 0, false)
	if err != nil || first.Cause != realtime.CauseInitial {
		t.Fatalf("Watch = %+v, %v", first, err)
	}
	defer w.Close()
	waitFor(t, f.hub.Listening)
	for range 10 {
		f.earn(t, card, 100)
	}
	waitFor(t, func() bool { return f.hub.Stats().Dropped.Load() == 1 })
	// What was buffered still comes, then the watch ends.
	var err2 error
	for range 10 {
		if _, _, err2 = w.Next(ctx, time.Second); err2 != nil {
			break
		}
	}
	if !errors.Is(err2, realtime.ErrTooSlow) {
		t.Fatalf("Next after the drop: %v, want ErrTooSlow", err2)
	}
	if n := f.hub.Watches(); n != 1 {
		t.Fatalf("%d watches before Close, want 1", n)
	}
	w.Close()
	if n := f.hub.Watches(); n != 0 {
		t.Fatalf("%d watches after Close, want 0", n)
	}
}

// TestDrainEndsWatches: a replica shutting down ends its streams.
func TestDrainEndsWatches(t *testing.T) {
	f := newFixture(t, memory.New(), realtime.Config{})
	f.run(t)
	ctx := context.Background()
	c, _ := f.enrol(t, "erin")
	w, _, err := f.hub.Watch(ctx, c, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go f.hub.Drain()
	if _, _, err := w.Next(ctx, 5*time.Second); !errors.Is(err, realtime.ErrDraining) {
		t.Fatalf("Next while draining: %v", err)
	}
	if _, _, err := f.hub.Watch(ctx, c, 0, false); !errors.Is(err, realtime.ErrDraining) {
		t.Fatalf("Watch while draining: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeliveredOncePerChange: Config.Delivered sees every change, whether
// its writer delivered it or the sweep did after a crash.
func TestDeliveredOncePerChange(t *testing.T) {
	var seen []int64
	f := newFixture(t, memory.New(), realtime.Config{SweepAge: time.Second, Delivered: func(c []loyalty.CardChange) {
		for _, ch := range c {
			seen = append(seen, ch.State.Version)
		}
	}})
	ctx := context.Background()
	_, card := f.enrol(t, "dora")
	f.earn(t, card, 100)
	f.earn(t, card, 100)
	f.hook = func([]loyalty.CardChange) {} // the replica dies before delivery
	f.earn(t, card, 100)
	f.hook = nil
	if len(seen) != 2 {
		t.Fatalf("delivered versions %v; want the two the writer delivered", seen)
	}
	f.clock.Advance(2 * time.Second)
	if err := f.hub.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.hub.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := slices.Index(seen, 3); n < 2 || slices.Index(seen[n+1:], 3) >= 0 {
		t.Fatalf("delivered versions %v; want the swept version 3 once, after the others", seen)
	}
}
