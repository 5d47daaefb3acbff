package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/postgres/pgtest"
)

// appendChanges writes n changes of one member, taken at at, and returns
// their seqs.
func appendChanges(t *testing.T, s *Store, n int, at time.Time) []int64 {
	t.Helper()
	var seqs []int64
	err := s.Update(t.Context(), func(tx loyalty.Tx) error {
		seqs = seqs[:0]
		for i := range n {
			c := loyalty.CardChange{State: loyalty.CardState{ProgramID: "cafe-a", MemberID: "m_1", Version: int64(i + 1), TakenAt: at}}
			if err := tx.AppendCardChange(t.Context(), &c); err != nil {
				return err
			}
			seqs = append(seqs, c.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// claimSeqs claims up to limit changes in a transaction of its own and
// returns their seqs.
func claimSeqs(ctx context.Context, s *Store, at time.Time, limit int) ([]int64, error) {
	var seqs []int64
	err := s.Update(ctx, func(tx loyalty.Tx) error {
		cs, err := tx.CardChanges(ctx, at, at, time.Hour, limit)
		seqs = seqs[:0]
		for _, c := range cs {
			seqs = append(seqs, c.Seq)
		}
		return err
	})
	return seqs, err
}

// TestCardChangesSkipLocked: while one dispatcher's claim is uncommitted, a
// second one neither waits for it nor claims its changes; it takes the next
// ones. When the first rolls back, its changes are free again.
func TestCardChangesSkipLocked(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	at := time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)
	all := appendChanges(t, s, 6, at)

	claimed, release, done := make(chan []int64, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx loyalty.Tx) error {
			cs, err := tx.CardChanges(ctx, at, at, time.Hour, 2)
			if err != nil {
				claimed <- nil
				return err
			}
			var seqs []int64
			for _, c := range cs {
				seqs = append(seqs, c.Seq)
			}
			claimed <- seqs
			<-release
			return fmt.Errorf("roll back")
		})
	}()
	first := <-claimed
	if !slices.Equal(first, all[:2]) {
		close(release)
		t.Fatalf("first dispatcher claimed %v, want %v", first, all[:2])
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	second, err := claimSeqs(wctx, s, at, 3)
	cancel()
	close(release)
	if err != nil {
		t.Fatalf("second dispatcher, while the first holds its claim: %v", err)
	}
	if !slices.Equal(second, all[2:5]) {
		t.Errorf("second dispatcher claimed %v, want %v", second, all[2:5])
	}
	if err := <-done; err == nil || err.Error() != "roll back" {
		t.Fatalf("first dispatcher: %v, want its own error", err)
	}
	third, err := claimSeqs(ctx, s, at, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{all[0], all[1], all[5]}; !slices.Equal(third, want) {
		t.Errorf("after the first rolled back: claimed %v, want %v", third, want)
	}
}

// TestCardChangesConcurrentClaimers: dispatchers on several connections
// claim one to three changes at a time as fast as they can; no change is
// claimed twice and none is missed.
func TestCardChangesConcurrentClaimers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	at := time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)
	const n = 200
	appendChanges(t, s, n, at)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[int64]int{}
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seqs, err := claimSeqs(ctx, s, at, 1+w%3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(seqs) == 0 {
					return
				}
				mu.Lock()
				for _, seq := range seqs {
					claimed[seq]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for seq, k := range claimed {
		if k != 1 {
			t.Errorf("change %d claimed %d times", seq, k)
		}
	}
	if len(claimed) != n {
		t.Errorf("%d changes claimed, want %d", len(claimed), n)
	}
}

// TestMigrateEntryVersions migrates a ledger written before entries had
// versions: the newest entry of each member gets the account's version,
// each older one one less.
func TestMigrateEntryVersions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.NewDatabase(t, nil)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	init, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		string(init),
		`INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init.sql')`,
		`INSERT INTO programs VALUES ('p', '{}')`,
		`INSERT INTO members VALUES ('p', 'm1', 'u1', '1', 'de', now()), ('p', 'm2', 'u2', '2', 'de', now()), ('p', 'm3', 'u3', '3', 'de', now())`,
		// m1's version moved once more than its entries: a hold.
		`INSERT INTO accounts VALUES ('p', 'm1', 18, 5, now()), ('p', 'm2', 7, 1, now()), ('p', 'm3', 0, 0, now())`,
		`INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, detail) VALUES
			('p', 'm1', 'adjust', 10, 10, now(), '{}'),
			('p', 'm2', 'adjust', 7, 7, now(), '{}'),
			('p', 'm1', 'adjust', 20, 30, now(), '{}'),
			('p', 'm1', 'adjust', -15, 15, now(), '{}'),
			('p', 'm1', 'adjust', 3, 18, now(), '{}')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx loyalty.Tx) error {
		for _, c := range []struct {
			member string
			want   []int64
		}{{"m1", []int64{2, 3, 4, 5}}, {"m2", []int64{1}}, {"m3", nil}} {
			es, err := tx.EntriesSince(ctx, "p", c.member, 0, 10)
			if err != nil {
				return err
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.Version)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: entries at versions %v, want %v", c.member, got, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
