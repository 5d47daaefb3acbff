package postgres

import (
	"os"
	"testing"

	"github.com/treue/treue/store/postgres/pgtest"
	"github.com/treue/treue/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Cleanup()
	os.Exit(code)
}

// newDB creates an empty, migrated database for t, dropped when t ends, and
// returns its URL.
func newDB(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t, Migrate)
}

// openTest opens a store on a fresh database and closes it after the test.
func openTest(t *testing.T, cfg config) *Store {
	t.Helper()
	s, err := open(t.Context(), newDB(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s, err := Open(t.Context(), newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, CheckInvariants: s.CheckInvariants}
	})
}
