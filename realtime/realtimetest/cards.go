package realtimetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// testCardMiss: an unknown card is a miss, not an error.
func testCardMiss(t *testing.T, open Open) {
	b := open(t)
	st, ok, err := b.Card(testCtx(t), loyalty.CardKey{ProgramID: "cafe", UID: "nobody"})
	if err != nil || ok {
		t.Fatalf("Card(unknown) = %+v, %v, %v; want miss", st, ok, err)
	}
}

// testCardRoundTrip: Card returns what PutCard stored, every field equal and
// times still in UTC; cards of other users and programs stay apart.
func testCardRoundTrip(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	want := state("cafe", "u1", 3)
	if stored, err := b.PutCard(ctx, want); err != nil || !stored {
		t.Fatalf("PutCard = %v, %v; want stored", stored, err)
	}
	other := state("cafe", "u2", 9)
	if stored, err := b.PutCard(ctx, other); err != nil || !stored {
		t.Fatalf("PutCard(other) = %v, %v; want stored", stored, err)
	}
	wantVersion(t, b, want.Key(), 3)
	got, _, err := b.Card(ctx, want.Key())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Card mismatch (-want +got):\n%s", diff)
	}
	for name, tm := range map[string]time.Time{"NextExpiry": got.NextExpiry, "ValidUntil": got.ValidUntil, "TakenAt": got.TakenAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s is in %v, want UTC", name, tm.Location())
		}
	}
	if _, ok, err := b.Card(ctx, loyalty.CardKey{ProgramID: "bakery", UID: "u1"}); err != nil || ok {
		t.Errorf("Card(other program) = %v, %v; want miss", ok, err)
	}
	wantVersion(t, b, other.Key(), 9)
}

// testPutCardVersions: an older version is refused, the same version
// replaces the cached one, a newer one is stored.
func testPutCardVersions(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	put := func(st loyalty.CardState, want bool) {
		t.Helper()
		stored, err := b.PutCard(ctx, st)
		if err != nil || stored != want {
			t.Fatalf("PutCard(version %d) = %v, %v; want %v", st.Version, stored, err, want)
		}
	}
	v5 := state("cafe", "u1", 5)
	put(v5, true)
	wantVersion(t, b, v5.Key(), 5)

	put(state("cafe", "u1", 4), false)
	if st, ok, err := b.Card(ctx, v5.Key()); err != nil || !ok || st.Version != 5 {
		t.Fatalf("after an older put: Card = version %d, %v, %v; want 5", st.Version, ok, err)
	}

	refreshed := v5
	refreshed.TakenAt = v5.TakenAt.Add(time.Minute)
	refreshed.ValidUntil = v5.ValidUntil.Add(time.Hour)
	put(refreshed, true)
	eventually(t, func() string {
		st, _, err := b.Card(ctx, v5.Key())
		if err != nil || !st.TakenAt.Equal(refreshed.TakenAt) {
			return fmt.Sprintf("after a put at the same version: Card TakenAt %v, %v; want %v", st.TakenAt, err, refreshed.TakenAt)
		}
		return ""
	})

	put(state("cafe", "u1", 6), true)
	wantVersion(t, b, v5.Key(), 6)
	put(state("cafe", "u1", 1), false)
}

// testPutCardConcurrent: many replicas putting many versions of one card at
// once leave the highest version.
func testPutCardConcurrent(t *testing.T, open Open) {
	a, b := open(t), open(t)
	ctx := testCtx(t)
	const versions = 200
	key := loyalty.CardKey{ProgramID: "cafe", UID: "u1"}
	order := rand.Perm(versions)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[int64]bool{}
	)
	// A reader never sees the card go back to an older version.
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		var last int64
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, ok, err := a.Card(ctx, key)
			if err != nil {
				t.Errorf("Card during puts: %v", err)
				return
			}
			if ok && st.Version < last {
				t.Errorf("Card went back from version %d to %d", last, st.Version)
				return
			}
			last = max(last, st.Version)
		}
	}()
	for i, v := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := a
			if i%2 == 1 {
				br = b
			}
			st := state("cafe", "u1", int64(v+1))
			ok, err := br.PutCard(ctx, st)
			if err != nil {
				t.Errorf("PutCard(version %d): %v", st.Version, err)
				return
			}
			mu.Lock()
			stored[st.Version] = ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	reader.Wait()
	if !stored[versions] {
		t.Errorf("PutCard of the highest version %d reported not stored", versions)
	}
	wantVersion(t, a, key, versions)
	wantVersion(t, b, key, versions)
}

// testSharedCache: a card one replica puts is the card the other reads, and
// a newer version put by one replaces what the other has read.
func testSharedCache(t *testing.T, open Open) {
	a, b := open(t), open(t)
	ctx := testCtx(t)
	key := loyalty.CardKey{ProgramID: "cafe", UID: "u1"}
	if _, ok, err := b.Card(ctx, key); err != nil || ok {
		t.Fatalf("Card before any put = %v, %v; want miss", ok, err)
	}
	if _, err := a.PutCard(ctx, state("cafe", "u1", 1)); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, b, key, 1)
	if _, err := a.PutCard(ctx, state("cafe", "u1", 2)); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, b, key, 2)
	if stored, err := b.PutCard(ctx, state("cafe", "u1", 1)); err != nil || stored {
		t.Fatalf("PutCard of a version older than the other replica's = %v, %v; want refused", stored, err)
	}
}

// testDeleteCard: a deleted card is a miss, on every broker sharing the
// cache; other cards stay, and deleting a missing card succeeds.
func testDeleteCard(t *testing.T, open Open) {
	b := open(t)
	ctx := testCtx(t)
	gone, kept := state("cafe", "u1", 3), state("cafe", "u2", 4)
	for _, st := range []loyalty.CardState{gone, kept} {
		if stored, err := b.PutCard(ctx, st); err != nil || !stored {
			t.Fatalf("PutCard = %v, %v; want stored", stored, err)
		}
	}
	wantVersion(t, b, gone.Key(), 3)
	if err := b.DeleteCard(ctx, gone.Key()); err != nil {
		t.Fatal(err)
	}
	// A client-side cache drops its copy when the server's invalidation
	// arrives, about a round trip later.
	eventually(t, func() string {
		if _, ok, err := b.Card(ctx, gone.Key()); err != nil || ok {
			return fmt.Sprintf("Card after DeleteCard = %v, %v; want miss", ok, err)
		}
		return ""
	})
	wantVersion(t, b, kept.Key(), 4)
	if err := b.DeleteCard(ctx, gone.Key()); err != nil {
		t.Errorf("DeleteCard of a missing card: %v", err)
	}
}
