package memory_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/realtime/realtimetest"
)

func TestBroker(t *testing.T) {
	var (
		mu      sync.Mutex
		brokers = map[*testing.T]*memory.Broker{}
	)
	// Replicas of one process share the Broker: every open of one test
	// returns the same one.
	realtimetest.Run(t, func(t *testing.T) realtime.Broker {
		mu.Lock()
		defer mu.Unlock()
		b, ok := brokers[t]
		if !ok {
			b = memory.New()
			brokers[t] = b
			t.Cleanup(func() { b.Close() })
		}
		return b
	})
}

func TestMaxCards(t *testing.T) {
	b := memory.New(memory.WithMaxCards(2))
	defer b.Close()
	ctx := t.Context()
	for _, uid := range []string{"u1", "u2", "u3"} {
		if stored, err := b.PutCard(ctx, loyalty.CardState{ProgramID: "cafe", UID: uid, Version: 1}); err != nil || !stored {
			t.Fatalf("PutCard(%s) = %v, %v", uid, stored, err)
		}
	}
	var cached []string
	for _, uid := range []string{"u1", "u2", "u3"} {
		if _, ok, err := b.Card(ctx, loyalty.CardKey{ProgramID: "cafe", UID: uid}); err != nil {
			t.Fatal(err)
		} else if ok {
			cached = append(cached, uid)
		}
	}
	if len(cached) != 2 || cached[len(cached)-1] != "u3" {
		t.Errorf("cached %v, want two cards including the last one put, u3", cached)
	}
	// Replacing a cached card evicts nothing.
	if _, err := b.PutCard(ctx, loyalty.CardState{ProgramID: "cafe", UID: "u3", Version: 2}); err != nil {
		t.Fatal(err)
	}
	for _, uid := range cached {
		if _, ok, _ := b.Card(ctx, loyalty.CardKey{ProgramID: "cafe", UID: uid}); !ok {
			t.Errorf("updating u3 evicted %s", uid)
		}
	}
}

func TestOverflow(t *testing.T) {
	b := memory.New(memory.WithQueueSize(2))
	defer b.Close()
	ctx := t.Context()
	ready, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.Listen(ctx, func() { close(ready) }, func(loyalty.CardChange) { <-release })
	}()
	<-ready
	// fn blocks on the first change it gets; the queue holds two, so one
	// of four changes overflows whatever fn took. Publish never waits for
	// the listener.
	for v := range int64(4) {
		if err := b.Publish(ctx, loyalty.CardChange{State: loyalty.CardState{ProgramID: "cafe", UID: "u1", Version: v}}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	select {
	case err := <-done:
		if !errors.Is(err, memory.ErrOverflow) {
			t.Fatalf("Listen = %v, want ErrOverflow", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not stop after its queue overflowed")
	}
}
