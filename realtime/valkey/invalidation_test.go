package valkey_test

import (
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime/valkey"
	"github.com/treue/treue/realtime/valkey/valkeytest"
)

// TestCrossClientInvalidation: a replica that serves a card from its local
// cache sees another replica's newer version once the server's
// invalidation arrives, well within a second.
func TestCrossClientInvalidation(t *testing.T) {
	addr := valkeytest.Addr(t)
	cfg := valkey.Config{Addrs: []string{addr}, Prefix: valkeytest.Prefix(t, addr)}
	a, b := valkeytest.NewBroker(t, cfg), valkeytest.NewBroker(t, cfg)
	ctx := t.Context()
	key := loyalty.CardKey{ProgramID: "cafe", UID: "u1"}

	if _, err := a.PutCard(ctx, loyalty.CardState{ProgramID: "cafe", UID: "u1", Version: 1}); err != nil {
		t.Fatal(err)
	}
	waitCached(t, a, key, 1)

	if stored, err := b.PutCard(ctx, loyalty.CardState{ProgramID: "cafe", UID: "u1", Version: 2}); err != nil || !stored {
		t.Fatalf("PutCard on b = %v, %v", stored, err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		st, ok, err := a.Card(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if ok && st.Version == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still shows version %d (ok %v) a second after b put version 2", st.Version, ok)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitCached waits until b serves key at version from its local cache, so
// that a later read can only see a change through an invalidation.
func waitCached(t *testing.T, b *valkey.Broker, key loyalty.CardKey, version int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, ok, err := b.Card(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if ok && st.Version == version {
			hit, err := b.CardCached(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if hit {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("card %v not cached locally at version %d (got %d, ok %v)", key, version, st.Version, ok)
		}
		time.Sleep(time.Millisecond)
	}
}
