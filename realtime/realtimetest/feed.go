package realtimetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// testPublishListen: a change published after ready reaches fn whole.
func testPublishListen(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	r := listen(t, b)
	want := change("cafe", "u1", 7)
	if err := b.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 1)
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("received change mismatch (-want +got):\n%s", diff)
	}
}

// testOrderPerCard: changes of each card arrive in the order they were
// published, also when the changes of several cards interleave.
func testOrderPerCard(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	r := listen(t, b)
	const cards, perCard = 5, 1000
	for v := int64(1); v <= perCard; v++ {
		for c := range cards {
			if err := b.Publish(ctx, change("cafe", fmt.Sprint("u", c), v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	next := map[string]int64{}
	for i, c := range r.wait(t, cards*perCard) {
		uid := c.State.UID
		if want := next[uid] + 1; c.State.Version != want {
			t.Fatalf("change %d: card %s at version %d, want %d", i, uid, c.State.Version, want)
		}
		next[uid] = c.State.Version
	}
}

// testTwoListeners: two replicas' Listens both receive what either
// publishes.
func testTwoListeners(t *testing.T, open Open) {
	a, b := open(t), open(t)
	ctx := testCtx(t)
	ra, rb := listen(t, a), listen(t, b)
	if err := a.Publish(ctx, change("cafe", "u1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, change("cafe", "u1", 2)); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		var got []int64
		for _, c := range r.wait(t, 2) {
			got = append(got, c.State.Version)
		}
		if !cmp.Equal(got, []int64{1, 2}) {
			t.Errorf("replica %s received versions %v, want [1 2]", name, got)
		}
	}
}

// testListenCancel: Listen returns ctx.Err() when its context ends, and a
// new Listen on the same broker works.
func testListenCancel(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	r := listen(t, b)
	r.cancel()
	if err := r.stopped(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Listen after cancel = %v, want context.Canceled", err)
	}

	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := b.Listen(dctx, nil, func(loyalty.CardChange) {})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Listen with a deadline = %v, want context.DeadlineExceeded", err)
	}

	r2 := listen(t, b)
	if err := b.Publish(ctx, change("cafe", "u1", 1)); err != nil {
		t.Fatal(err)
	}
	r2.wait(t, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.changes) != 0 {
		t.Errorf("a cancelled Listen received %d changes", len(r.changes))
	}
}

// testClose: Close ends running Listens with an error, and the broker
// refuses work afterwards.
func testClose(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	r := listen(t, b)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.stopped(t); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("Listen after Close = %v, want the broker's error", err)
	}
	if err := b.Listen(ctx, func() { t.Error("ready called after Close") }, func(loyalty.CardChange) {}); err == nil {
		t.Error("Listen after Close returned nil")
	}
	if err := b.Publish(ctx, change("cafe", "u1", 1)); err == nil {
		t.Error("Publish after Close returned nil")
	}
	if _, err := b.PutCard(ctx, state("cafe", "u1", 1)); err == nil {
		t.Error("PutCard after Close returned nil")
	}
	if _, _, err := b.Card(ctx, loyalty.CardKey{ProgramID: "cafe", UID: "u1"}); err == nil {
		t.Error("Card after Close returned nil")
	}
}
