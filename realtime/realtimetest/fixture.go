package realtimetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
)

// timeout bounds every wait of the suite.
const timeout = 10 * time.Second

// base is the time the fixtures are taken at: UTC with nanoseconds, which a
// broker must keep.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// state returns a card state with every field set.
func state(program, uid string, version int64) loyalty.CardState {
	return loyalty.CardState{
		ProgramID:        program,
		MemberID:         "m-" + uid,
		UID:              uid,
		CardNumber:       "4000 1234 " + uid,
		Locale:           loyalty.LocaleEN,
		ProgramName:      "Café Süd",
		PointName:        loyalty.Text{DE: "Bohnen", EN: "Beans"},
		TierName:         loyalty.Text{DE: "Gold", EN: "Gold"},
		Version:          version,
		Balance:          1000 + version,
		Available:        900 + version,
		Pending:          100,
		NextExpiry:       base.Add(90 * 24 * time.Hour),
		NextExpiryPoints: 50,
		ValidUntil:       base.Add(time.Hour),
		TakenAt:          base.Add(time.Duration(version) * time.Second),
	}
}

// change returns a change of the card to version, with one ledger entry.
func change(program, uid string, version int64) loyalty.CardChange {
	return loyalty.CardChange{
		Seq:   version,
		State: state(program, uid, version),
		Entries: []loyalty.Entry{{
			ID:           version,
			ProgramID:    program,
			MemberID:     "m-" + uid,
			Kind:         loyalty.EntryEarn,
			Points:       10,
			BalanceAfter: 1000 + version,
			Version:      version,
			CreatedAt:    base,
			PurchaseID:   "p-1",
			Detail:       loyalty.EntryDetail{AmountMinor: 1250, Currency: "EUR", ReceiptID: "r-1"},
			Uses:         []loyalty.LotUse{{LotID: 7, Points: 3}},
		}},
	}
}

// testCtx returns a context that ends with the test or after timeout.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it returns "" or timeout passes, then fails
// the test with cond's last complaint. Brokers with client-side caches see
// their own writes only once the server's invalidation has arrived, which
// takes a round trip.
func eventually(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wantVersion waits until b's Card of key shows version.
func wantVersion(t *testing.T, b realtime.Broker, key loyalty.CardKey, version int64) {
	t.Helper()
	ctx := testCtx(t)
	eventually(t, func() string {
		st, ok, err := b.Card(ctx, key)
		switch {
		case err != nil:
			return fmt.Sprintf("Card(%v): %v", key, err)
		case !ok:
			return fmt.Sprintf("Card(%v): miss, want version %d", key, version)
		case st.Version != version:
			return fmt.Sprintf("Card(%v): version %d, want %d", key, st.Version, version)
		}
		return ""
	})
}

// recorder is a running Listen and what it received.
type recorder struct {
	mu      sync.Mutex
	changes []loyalty.CardChange
	more    chan struct{} // signalled after each change
	cancel  context.CancelFunc
	done    chan error // Listen's result
}

// listen starts b.Listen and waits until it has called ready. The Listen is
// cancelled when the test ends.
func listen(t *testing.T, b realtime.Broker) *recorder {
	t.Helper()
	lctx, cancel := context.WithCancel(context.Background())
	r := &recorder{more: make(chan struct{}, 1), cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		r.done <- b.Listen(lctx, func() { close(ready) }, r.add)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(timeout):
			t.Error("Listen did not return after its context was cancelled")
		}
	})
	select {
	case <-ready:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Listen returned before ready: %v", err)
	case <-time.After(timeout):
		t.Fatal("Listen did not call ready")
	}
	return r
}

// add records c; it is the Listen's fn.
func (r *recorder) add(c loyalty.CardChange) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// wait returns the first n changes once they arrived; it fails the test if
// they do not arrive within timeout or Listen returns.
func (r *recorder) wait(t *testing.T, n int) []loyalty.CardChange {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		got := len(r.changes)
		if got >= n {
			cs := append([]loyalty.CardChange(nil), r.changes[:n]...)
			r.mu.Unlock()
			return cs
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case err := <-r.done:
			r.done <- err
			t.Fatalf("Listen returned after %d of %d changes: %v", got, n, err)
		case <-deadline:
			t.Fatalf("received %d of %d changes within %v", got, n, timeout)
		}
	}
}

// stopped waits for Listen to return and returns its error.
func (r *recorder) stopped(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(timeout):
		t.Fatal("Listen did not return")
		return nil
	}
}
