package postgres

import (
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/postgres/pgtest"
	"github.com/treue/treue/store/storetest"
)

// TestMigrations migrates an empty database from several goroutines at
// once, as replicas starting together would: each migration is applied
// once. Migrating again does nothing; a newer schema is refused.
func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("migrations = %+v, want 0001_init.sql first", ms)
	}
	// An empty database, not a clone of the migrated template.
	url := pgtest.NewDatabase(t, nil)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Migrate(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	applied := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := applied(); got != len(ms) {
		t.Errorf("%d migrations recorded, want %d", got, len(ms))
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("Open of a migrated database: %v", err)
	}
	// The schema works: a seed goes in.
	if err := loyalty.NewService(s).ApplySeed(ctx, storetest.DemoSeed("cafe-a")); err != nil {
		t.Error(err)
	}
	s.Close()
	if got := applied(); got != len(ms) {
		t.Errorf("after opening: %d migrations recorded, want %d", got, len(ms))
	}

	if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "9999") {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open of a database with a newer schema: %v, want an error naming version 9999", err)
	}
}

func TestOpenRefusesBadURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"postgres://%zz", "postgres://postgres@127.0.0.1:1/nope?connect_timeout=1"} {
		if s, err := Open(t.Context(), url); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", url)
		}
	}
}
