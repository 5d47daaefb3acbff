// Package sqlite is Treue's embedded default store: a loyalty.Store on one
// SQLite file, through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode, so readers never wait for the writer. Writes
// go through one connection and start with BEGIN IMMEDIATE: write
// transactions queue in Go instead of failing with SQLITE_BUSY, and a
// transaction that read a row can update it without a lock upgrade. Reads go
// through a pool of query-only connections.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/treue/treue/loyalty"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a loyalty.Store on a SQLite database file. It is safe for
// concurrent use.
type Store struct {
	// writer has one connection; its transactions begin immediate.
	writer *sql.DB
	// reader has several query-only connections for View.
	reader *sql.DB
	cfg    config
}

var _ loyalty.Store = (*Store)(nil)

// config holds the knobs tests turn; Open uses defaultConfig.
type config struct {
	// busyTimeout is how long a statement waits for a lock another
	// process holds before it fails with SQLITE_BUSY.
	busyTimeout time.Duration
	// attempts bounds how often Update runs fn when the database is busy.
	attempts int
	// backoff is the first wait between attempts; it doubles each time.
	backoff time.Duration
	// readers is the size of the reader pool.
	readers int
}

func defaultConfig() config {
	return config{
		busyTimeout: 10 * time.Second,
		attempts:    5,
		backoff:     20 * time.Millisecond,
		readers:     max(4, runtime.GOMAXPROCS(0)),
	}
}

// Open opens the SQLite database at path, creating the file and its
// directory when they do not exist, and brings its schema up to date.
// Callers Close the Store when done.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, defaultConfig())
}

func open(ctx context.Context, path string, cfg config) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory of %s: %w", path, err)
	}
	s := &Store{cfg: cfg}
	var err error
	s.writer, err = openPool(ctx, path, writerParams(cfg), 1)
	if err != nil {
		return nil, err
	}
	if err := checkWAL(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := migrate(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	s.reader, err = openPool(ctx, path, readerParams(cfg), cfg.readers)
	if err != nil {
		s.writer.Close()
		return nil, err
	}
	return s, nil
}

// checkPath refuses what the driver would read as something other than a
// file name.
func checkPath(path string) error {
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: path %q: need the path of a database file (tests use a file in t.TempDir())", path)
	case strings.ContainsAny(path, "?#"):
		return fmt.Errorf("sqlite: path %q: must not contain ? or #", path)
	}
	return nil
}

// writerParams are the connection settings of the writer pool.
func writerParams(cfg config) url.Values {
	v := commonParams(cfg)
	v.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode NORMAL loses no committed data on a crash of the process,
	// only possibly the last transactions on a power loss.
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Set("_txlock", "immediate")
	return v
}

// readerParams are the connection settings of the reader pool: any write
// through them fails.
func readerParams(cfg config) url.Values {
	v := commonParams(cfg)
	v.Add("_pragma", "query_only(1)")
	return v
}

func commonParams(cfg config) url.Values {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	v.Add("_pragma", "foreign_keys(1)")
	return v
}

func openPool(ctx context.Context, path string, params url.Values, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// checkWAL returns an error unless the database runs in WAL mode, which the
// reader pool relies on to read while the writer writes.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: journal mode is %q, want wal (is the file on a network file system?)", mode)
	}
	return nil
}

// Close closes the database. Transactions still running fail.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Update runs fn in a write transaction and commits it when fn returns nil;
// otherwise it rolls back and returns fn's error unchanged. When the
// database is busy (another process holds the write lock past the busy
// timeout) it runs fn again, a bounded number of times.
func (s *Store) Update(ctx context.Context, fn func(loyalty.Tx) error) error {
	wait := s.cfg.backoff
	for attempt := 1; ; attempt++ {
		err := s.update(ctx, fn)
		if err == nil || !isBusy(err) || attempt >= s.cfg.attempts {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

func (s *Store) update(ctx context.Context, fn func(loyalty.Tx) error) error {
	conn, err := s.writer.Conn(ctx) // waiting for the writer honours ctx
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer conn.Close()
	t, err := conn.BeginTx(stmtContext(ctx), nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// Rolling back after a commit does nothing; this ends the transaction
	// when fn fails or panics.
	defer func() { _ = t.Rollback() }()
	if err := fn(&tx{tx: t}); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction, which sees one snapshot of the
// database. Writes inside fn fail.
func (s *Store) View(ctx context.Context, fn func(loyalty.Tx) error) error {
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer conn.Close()
	t, err := conn.BeginTx(stmtContext(ctx), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	if err := fn(&tx{tx: t}); err != nil {
		return err
	}
	if err := t.Rollback(); err != nil {
		return fmt.Errorf("sqlite: end read: %w", err)
	}
	return nil
}

// stmtContext returns the context a transaction's statements run under:
// ctx without its cancellation. A transaction, once begun, runs to its end
// (they take milliseconds; a cancelled one would only be rolled back), and
// the driver would otherwise start a goroutine for every statement to watch
// ctx, which costs more than a third of a purchase's time.
func stmtContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// tx is one transaction; it implements loyalty.Tx.
type tx struct {
	tx *sql.Tx
}

var _ loyalty.Tx = (*tx)(nil)
