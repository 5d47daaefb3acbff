package valkey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime/valkey"
	"github.com/treue/treue/realtime/valkey/valkeytest"
)

// TestReconnect kills the server under a replica and starts it again,
// empty. The replica must not serve the card it had cached before (valkey-go
// drops a connection's client-side cache when the connection breaks), its
// Listen must return the break, and a new Listen must work.
func TestReconnect(t *testing.T) {
	srv := valkeytest.StartServer(t)
	a := valkeytest.NewBroker(t, valkey.Config{Addrs: []string{srv.Addr()}})
	ctx := t.Context()
	key := loyalty.CardKey{ProgramID: "cafe", UID: "u1"}
	if _, err := a.PutCard(ctx, loyalty.CardState{ProgramID: "cafe", UID: "u1", Version: 1}); err != nil {
		t.Fatal(err)
	}
	waitCached(t, a, key, 1)

	listened := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		listened <- a.Listen(ctx, func() { close(ready) }, func(loyalty.CardChange) {})
	}()
	<-ready

	srv.Kill()
	select {
	case err := <-listened:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("Listen after the server died = %v, want the connection's error", err)
		}
		t.Logf("Listen returned: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after the server died")
	}
	srv.Start()

	// The first answer after the restart must come from the empty server.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		st, ok, err := a.Card(cctx, key)
		cancel()
		if err == nil {
			if ok {
				t.Fatalf("Card after the restart served version %d from before it", st.Version)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Card did not reconnect within 10s: %v", err)
		}
	}

	// A new Listen works on the new server, and so does the cache.
	r := make(chan loyalty.CardChange, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready = make(chan struct{})
	go func() {
		listened <- a.Listen(lctx, func() { close(ready) }, func(c loyalty.CardChange) { r <- c })
	}()
	select {
	case <-ready:
	case err := <-listened:
		t.Fatalf("Listen after the restart: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Listen after the restart did not call ready")
	}
	want := loyalty.CardChange{State: loyalty.CardState{ProgramID: "cafe", UID: "u1", Version: 2}}
	if err := a.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-r:
		if c.State.Version != 2 {
			t.Errorf("received version %d, want 2", c.State.Version)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the change published after the restart did not arrive")
	}
	if _, err := a.PutCard(ctx, want.State); err != nil {
		t.Fatal(err)
	}
	waitCached(t, a, key, 2)
	cancel()
	if err := <-listened; !errors.Is(err, context.Canceled) {
		t.Errorf("Listen after cancel = %v, want context.Canceled", err)
	}
}
