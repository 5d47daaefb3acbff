package bff_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
)

// watcher reads a WatchCard stream in a test, skipping heartbeats unless
// asked for them.
type watcher struct {
	t      testing.TB
	stream *connect.ServerStreamForClient[treuev1.WatchCardResponse]
	cancel context.CancelFunc
}

// watch opens a stream of c's card, resuming after since unless it is
// negative.
func watch(t testing.TB, c customer, since int64) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req := &treuev1.WatchCardRequest{Locale: treuev1.Locale_LOCALE_EN}
	if since >= 0 {
		req.SinceVersion = &since
	}
	s, err := c.card.WatchCard(ctx, connect.NewRequest(req))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w := &watcher{t: t, stream: s, cancel: cancel}
	t.Cleanup(w.close)
	return w
}

func (w *watcher) close() {
	w.cancel()
	w.stream.Close()
}

// next returns the next message, failing the test after 5 s.
func (w *watcher) next() *treuev1.WatchCardResponse {
	w.t.Helper()
	got := make(chan bool, 1)
	go func() { got <- w.stream.Receive() }()
	select {
	case ok := <-got:
		if !ok {
			w.t.Fatalf("stream ended: %v", w.stream.Err())
		}
		return w.stream.Msg()
	case <-time.After(5 * time.Second):
		w.t.Fatal("no message within 5 s")
		return nil
	}
}

// update returns the next card update, skipping heartbeats.
func (w *watcher) update() *treuev1.CardUpdate {
	w.t.Helper()
	for {
		if u := w.next().GetUpdate(); u != nil {
			return u
		}
	}
}

func TestWatchCardStreamsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			c := e.customer("watch-"+p.name, p)
			card := enrol(t, c)
			till := e.till(tillKeyA, p)
			w := watch(t, c, -1)

			first := w.update()
			if first.GetCause() != treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_INITIAL || first.GetCard().GetBalance() != 0 || len(first.GetActivities()) != 0 {
				t.Fatalf("first update = %v, want the initial card with balance 0", first)
			}
			version := first.GetCard().GetVersion()
			for i, amount := range []int64{1250, 800, 4000} {
				_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
					CardNumber: card, AmountMinor: amount, Currency: "EUR", IdempotencyKey: fmt.Sprintf("w-%s-%d", p.name, i),
				}))
				mustOK(t, err)
				u := w.update()
				acts := u.GetActivities()
				if u.GetCause() != treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_CHANGE || len(acts) != 1 || acts[0].GetPoints() != amount/100 {
					t.Fatalf("update %d = %v, want a change with one earn of %d", i, u, amount/100)
				}
				if u.GetCard().GetBalance() != acts[0].GetBalanceAfter() || u.GetCard().GetVersion() <= version {
					t.Fatalf("update %d: card %v after version %d does not match its activity %v", i, u.GetCard(), version, acts[0])
				}
				if u.GetTierProgress().GetTier().GetName() == "" {
					t.Fatalf("update %d has no tier: %v", i, u)
				}
				version = u.GetCard().GetVersion()
			}

			// A hold moves the available balance and writes no entry.
			_, err := till.Hold(ctx, connect.NewRequest(&treuev1.HoldRequest{CardNumber: card, Points: 20, IdempotencyKey: "w-hold-" + p.name}))
			mustOK(t, err)
			u := w.update()
			if u.GetCard().GetAvailableBalance() != 60-20 || u.GetCard().GetBalance() != 60 || len(u.GetActivities()) != 0 {
				t.Fatalf("update after hold = %v, want available 40 of 60 and no activity", u)
			}
		})
	}
}

// TestWatchCardResumes reconnects with the last version seen and gets what
// it missed.
func TestWatchCardResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.customer("resume", protocols[0])
	card := enrol(t, c)
	till := e.till(tillKeyA, protocols[0])
	w := watch(t, c, -1)
	seen := w.update().GetCard().GetVersion()
	w.close()
	for i := range 3 {
		_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
			CardNumber: card, AmountMinor: int64(100 * (i + 1)), Currency: "EUR", IdempotencyKey: fmt.Sprintf("resume-%d", i),
		}))
		mustOK(t, err)
	}
	u := watch(t, c, seen).update()
	acts := u.GetActivities()
	if u.GetCard().GetBalance() != 6 || len(acts) != 3 || acts[0].GetPoints() != 1 || acts[2].GetPoints() != 3 {
		t.Fatalf("resumed update = %v, want balance 6 and the 3 missed earns, oldest first", u)
	}
	if u := watch(t, c, u.GetCard().GetVersion()).update(); len(u.GetActivities()) != 0 {
		t.Fatalf("resuming at the current version brought %d activities, want 0", len(u.GetActivities()))
	}
	bad := int64(-1)
	s, err := c.card.WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{SinceVersion: &bad}))
	mustOK(t, err)
	if s.Receive() {
		t.Fatalf("stream since version -1 got %v", s.Msg())
	}
	checkCode(t, s.Err(), connect.CodeInvalidArgument)
}

// TestWatchCardHeartbeats sends heartbeats on an idle stream.
func TestWatchCardHeartbeats(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, openSQLite(t), memory.New(), func(c *bff.Config) { c.Heartbeat = 50 * time.Millisecond })
	c := e.customer("heart", protocols[2])
	enrol(t, c)
	w := watch(t, c, -1)
	w.update()
	if hb := w.next().GetHeartbeat(); hb == nil || hb.GetServerTime() == nil {
		t.Fatalf("idle stream sent %v, want a heartbeat", hb)
	}
}

// TestWatchCardLimits refuses a sixth stream of one card, and streams of
// members that are not enrolled.
func TestWatchCardLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer("many", protocols[0])
	enrol(t, c)
	for range 5 {
		watch(t, c, -1).update()
	}
	s, err := c.card.WatchCard(context.Background(), connect.NewRequest(&treuev1.WatchCardRequest{}))
	mustOK(t, err)
	if s.Receive() {
		t.Fatalf("sixth stream got %v, want resource_exhausted", s.Msg())
	}
	checkCode(t, s.Err(), connect.CodeResourceExhausted)

	s, err = e.customer("stranger", protocols[0]).card.WatchCard(context.Background(), connect.NewRequest(&treuev1.WatchCardRequest{}))
	mustOK(t, err)
	if s.Receive() {
		t.Fatalf("stream of a non-member got %v", s.Msg())
	}
	checkCode(t, s.Err(), connect.CodeFailedPrecondition)
}
