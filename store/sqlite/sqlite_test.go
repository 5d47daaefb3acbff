package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "treue.db"))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, CheckInvariants: s.CheckInvariants}
	})
}

// openTest opens a store in a fresh directory and closes it after the test.
func openTest(t *testing.T, cfg config) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "treue.db")
	s, err := open(t.Context(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func TestConnectionSettings(t *testing.T) {
	ctx := t.Context()
	s, _ := openTest(t, defaultConfig())
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, c := range []struct {
		db         *sql.DB
		pool, name string
		want       string
	}{
		{s.writer, "writer", "journal_mode", "wal"},
		{s.writer, "writer", "foreign_keys", "1"},
		{s.writer, "writer", "busy_timeout", "10000"},
		{s.writer, "writer", "synchronous", "1"}, // NORMAL
		{s.writer, "writer", "query_only", "0"},
		{s.reader, "reader", "journal_mode", "wal"},
		{s.reader, "reader", "foreign_keys", "1"},
		{s.reader, "reader", "busy_timeout", "10000"},
		{s.reader, "reader", "query_only", "1"},
	} {
		if got := pragma(c.db, c.name); got != c.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", c.pool, c.name, got, c.want)
		}
	}
	if got := s.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool has %d connections, want 1", got)
	}
	if got := s.reader.Stats().MaxOpenConnections; got < 2 {
		t.Errorf("reader pool has %d connections, want several", got)
	}
}

// rawConn opens a connection to path outside the Store, which fails at once
// when the database is locked.
func rawConn(t *testing.T, path string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestUpdateBeginsImmediate checks that a write transaction holds the write
// lock from its start, before it writes anything.
func TestUpdateBeginsImmediate(t *testing.T) {
	ctx := t.Context()
	s, path := openTest(t, defaultConfig())
	other := rawConn(t, path)
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx loyalty.Tx) error {
			_, err := tx.Program(ctx, "nope") // a read only
			close(inside)
			<-release
			if errors.Is(err, loyalty.ErrNotFound) {
				return nil
			}
			return err
		})
	}()
	<-inside
	_, err := other.ExecContext(ctx, "BEGIN IMMEDIATE")
	close(release)
	if !isBusy(err) {
		t.Errorf("BEGIN IMMEDIATE beside a write transaction that only read: %v, want SQLITE_BUSY", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Readers are not blocked by the writer.
	if err := s.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Rewards(ctx, "x"); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateRetriesWhenBusy(t *testing.T) {
	ctx := t.Context()
	cfg := defaultConfig()
	cfg.busyTimeout, cfg.backoff, cfg.attempts = 20*time.Millisecond, 20*time.Millisecond, 5
	s, path := openTest(t, cfg)
	other := rawConn(t, path)
	program := storetest.DemoSeed("cafe-a").Program
	var calls atomic.Int32
	put := func(tx loyalty.Tx) error {
		calls.Add(1)
		return tx.PutProgram(ctx, program)
	}

	// Another process holds the write lock for a while: Update waits it out.
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { _, _ = other.ExecContext(context.Background(), "COMMIT") })
	if err := s.Update(ctx, put); err != nil {
		t.Fatalf("Update while another connection held the lock for 100ms: %v", err)
	}
	if err := s.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Program(ctx, program.ID); return err }); err != nil {
		t.Fatal(err)
	}

	// It holds the lock for good: Update gives up after its attempts.
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = other.ExecContext(context.Background(), "ROLLBACK") }()
	begin := time.Now()
	err := s.Update(ctx, put)
	if !isBusy(err) {
		t.Fatalf("Update against a lock never released: %v, want SQLITE_BUSY", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Update gave up after %v; the attempts are bounded far below", d)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn ran %d times, want once (the BEGINs failed)", n)
	}
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("migrations = %+v, want 0001_init.sql first", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %s after %s", ms[i].Name, ms[i-1].Name)
		}
	}
	path := filepath.Join(t.TempDir(), "data", "nested", "treue.db")
	applied := func(db *sql.DB) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 2 {
		s, err := Open(ctx, path) // creates the directories the first time
		if err != nil {
			t.Fatal(err)
		}
		if got := applied(s.writer); got != len(ms) {
			t.Errorf("%d migrations recorded, want %d", got, len(ms))
		}
		if err := migrate(ctx, s.writer); err != nil {
			t.Errorf("migrating a migrated database: %v", err)
		}
		if got := applied(s.writer); got != len(ms) {
			t.Errorf("after migrating twice: %d migrations recorded, want %d", got, len(ms))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A database from a newer program is refused.
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "9999") {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open of a database with a newer schema: %v, want an error naming version 9999", err)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:treue.db", filepath.Join(t.TempDir(), "a?mode=memory")} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), filepath.Join(dir, "file", "treue.db")); err == nil {
		s.Close()
		t.Error("Open below a regular file succeeded")
	}
}

// TestCheckInvariantsFindsViolations corrupts a ledger behind the Store's
// back and expects CheckInvariants to say what is wrong.
func TestCheckInvariantsFindsViolations(t *testing.T) {
	ctx := t.Context()
	s, _ := openTest(t, defaultConfig())
	svc := loyalty.NewService(s)
	if err := svc.ApplySeed(ctx, storetest.DemoSeed("cafe-a")); err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, storetest.TillKey("cafe-a"))
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k1", "k2", "k3"} {
		if _, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	// A spend, which takes its points from a lot.
	if _, err := svc.RedeemReward(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, "keks", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("CheckInvariants on a consistent ledger: %v", err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	m := card.Member.ID
	cases := []struct {
		name, corrupt, repair, want string
	}{
		{"balance", "UPDATE accounts SET balance = balance + 5", "UPDATE accounts SET balance = balance - 5",
			"balance == sum(entries): account cafe-a/" + m + ": balance 25, entries sum to 20"},
		{"chain", "UPDATE entries SET balance_after = balance_after + 1 WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET balance_after = balance_after - 1 WHERE id = (SELECT min(id) FROM entries)", "balance_after chain"},
		{"points", "UPDATE entries SET points = 11 WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET points = 10 WHERE id = (SELECT min(id) FROM entries)", "balance == sum(entries)"},
		{"lots", "UPDATE lots SET remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)",
			"balance == sum(lots remaining): account cafe-a/" + m + ": balance 20, lots hold 19"},
		{"lot", "UPDATE lots SET remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)", "lot remaining == points - sum(uses): lot"},
		{"use", "UPDATE lot_uses SET points = points - 1", "UPDATE lot_uses SET points = points + 1", "entry uses == -points: entry"},
		{"credit", "UPDATE lots SET points = points + 1, remaining = remaining + 1 WHERE id = (SELECT max(id) FROM lots)",
			"UPDATE lots SET points = points - 1, remaining = remaining - 1 WHERE id = (SELECT max(id) FROM lots)", "credit has one lot: entry"},
		{"purchase", "UPDATE entries SET kind = 'bonus' WHERE id = (SELECT min(id) FROM entries)",
			"UPDATE entries SET kind = 'earn' WHERE id = (SELECT min(id) FROM entries)", "purchase has one earn entry: purchase cafe-a/"},
		{"key", "UPDATE idempotency SET entry_id = entry_id - 1 WHERE key = 'k2'",
			"UPDATE idempotency SET entry_id = entry_id + 1 WHERE key = 'k2'", "2 idempotency records name it"},
		{"key entry", "UPDATE idempotency SET entry_id = entry_id + 1000000 WHERE key = 'k2'",
			"UPDATE idempotency SET entry_id = entry_id - 1000000 WHERE key = 'k2'", "1 idempotency records name it, and it does not exist"},
		{"hold", `INSERT INTO holds (program_id, id, member_id, till_id, points, status, captured, created_at, expires_at)
			VALUES ('cafe-a', 'h1', '` + m + `', 'till-cafe-a', 21, 'active', 0, 0, 32503680000000000)`,
			"DELETE FROM holds", "holds covered by lots: member cafe-a/" + m + ": active holds reserve 21 points, lots hold 20"},
	}
	for _, c := range cases {
		exec(c.corrupt)
		err := s.CheckInvariants(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s corrupted: CheckInvariants = %v, want an error containing %q", c.name, err, c.want)
		}
		exec(c.repair)
		if err := s.CheckInvariants(ctx); err != nil {
			t.Fatalf("after repairing %s: %v", c.name, err)
		}
	}
	// A hold within what the lots hold, and one that expired, are fine.
	exec(`INSERT INTO holds (program_id, id, member_id, till_id, points, status, captured, created_at, expires_at) VALUES
		('cafe-a', 'h1', '` + m + `', 'till-cafe-a', 20, 'active', 0, 0, 32503680000000000),
		('cafe-a', 'h2', '` + m + `', 'till-cafe-a', 1000, 'active', 0, 0, 1)`)
	if err := s.CheckInvariants(ctx); err != nil {
		t.Errorf("holds the lots cover: %v", err)
	}
}

// TestTwoStoresOneFile runs two Stores on one file, as two processes would:
// their writes interleave without errors or lost updates.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := t.Context()
	first, path := openTest(t, defaultConfig())
	second, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	svc1, svc2 := loyalty.NewService(first), loyalty.NewService(second)
	if err := svc1.ApplySeed(ctx, storetest.DemoSeed("cafe-a")); err != nil {
		t.Fatal(err)
	}
	till, err := svc2.AuthenticateTill(ctx, storetest.TillKey("cafe-a"))
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := svc1.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore)
	for i, svc := range []*loyalty.Service{svc1, svc2} {
		for j := range perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 100, Currency: "EUR",
					IdempotencyKey: "k-" + string(rune('a'+i)) + "-" + string(rune('a'+j))})
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := svc2.Card(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Account.Balance != 2*perStore {
		t.Errorf("balance = %d, want %d", got.Account.Balance, 2*perStore)
	}
	if err := first.CheckInvariants(ctx); err != nil {
		t.Error(err)
	}
}

// TestMigrateLegacyLedger migrates a database written before lots existed:
// every credit gets a lot that never expires, the spends are taken from
// those lots oldest first, and the ledger passes CheckInvariants.
func TestMigrateLegacyLedger(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "treue.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	init, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`,
		string(init),
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO programs VALUES ('p', '{}')`,
		`INSERT INTO members VALUES ('p', 'm1', 'u1', '1', 'de', 0), ('p', 'm2', 'u2', '2', 'de', 0), ('p', 'm3', 'u3', '3', 'de', 0)`,
		`INSERT INTO accounts VALUES ('p', 'm1', 11, 6, 0), ('p', 'm2', 7, 1, 0), ('p', 'm3', 0, 0, 0)`,
		`INSERT INTO purchases (program_id, id, member_id, till_id, amount_minor, currency, points, lines, created_at) VALUES
			('p', 'pur1', 'm1', 't', 1000, 'EUR', 10, '[]', 1), ('p', 'pur2', 'm1', 't', 2000, 'EUR', 20, '[]', 2),
			('p', 'pur3', 'm2', 't', 700, 'EUR', 7, '[]', 3)`,
		`INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, purchase_id, detail) VALUES
			('p', 'm1', 'earn', 10, 10, 1, 'pur1', '{}'),
			('p', 'm2', 'earn', 7, 7, 3, 'pur3', '{}'),
			('p', 'm1', 'earn', 20, 30, 2, 'pur2', '{}'),
			('p', 'm1', 'redeem', -15, 15, 4, '', '{}'),
			('p', 'm1', 'bonus', 5, 20, 5, '', '{}'),
			('p', 'm1', 'reverse', -12, 8, 6, 'pur2', '{}'),
			('p', 'm1', 'adjust', 3, 11, 7, '', '{}')`,
		`INSERT INTO idempotency VALUES ('p', 'till:t', 'k1', zeroblob(32), CAST('{}' AS BLOB), 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("after migrating: %v", err)
	}
	// m1's credits of 10, 20, 5 and 3 paid for the spends of 15 and 12,
	// oldest first: 3 of the 20 are left, and all of the 5 and the 3.
	err = s.View(ctx, func(tx loyalty.Tx) error {
		for _, c := range []struct {
			member string
			left   []int64
		}{{"m1", []int64{3, 5, 3}}, {"m2", []int64{7}}, {"m3", nil}} {
			lots, err := tx.OpenLots(ctx, "p", c.member)
			if err != nil {
				return err
			}
			var left []int64
			for _, l := range lots {
				if !l.ExpiresAt.IsZero() || !l.AvailableAt.Equal(l.CreatedAt) {
					t.Errorf("%s: lot %+v, want one available since its entry and never expiring", c.member, l)
				}
				left = append(left, l.Remaining)
			}
			if !slices.Equal(left, c.left) {
				t.Errorf("%s: lots hold %v, want %v", c.member, left, c.left)
			}
		}
		// Entries get versions: m1's newest its account's, each older one
		// one less.
		for _, c := range []struct {
			member   string
			versions []int64
		}{{"m1", []int64{1, 2, 3, 4, 5, 6}}, {"m2", []int64{1}}, {"m3", nil}} {
			es, err := tx.EntriesSince(ctx, "p", c.member, 0, 10)
			if err != nil {
				return err
			}
			var versions []int64
			for _, e := range es {
				versions = append(versions, e.Version)
			}
			if !slices.Equal(versions, c.versions) {
				t.Errorf("%s: entries at versions %v, want %v", c.member, versions, c.versions)
			}
		}
		r, err := tx.IdempotencyRecord(ctx, "p", "till:t", "k1")
		if err == nil && r.EntryID != 0 {
			t.Errorf("a record from before entry ids: EntryID %d, want 0", r.EntryID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
