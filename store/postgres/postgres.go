// Package postgres is Treue's production store: a loyalty.Store on
// PostgreSQL through github.com/jackc/pgx/v5 (pgxpool).
//
// Update runs its function in a READ COMMITTED transaction. The rows it
// reads to change (an account, a reward, a purchase, a voucher, a hold) are
// read with SELECT … FOR UPDATE, and an idempotency key is locked with a
// transaction-scoped advisory lock before its record is read, so concurrent
// writes to one row, or with one key, run one after the other and each sees
// what the one before committed. When the database aborts a transaction for
// a conflict that a new attempt resolves (a serialization failure, a
// deadlock, a unique key another transaction took first), Update runs the
// function again, a bounded number of times. View runs in a READ ONLY
// REPEATABLE READ transaction: one snapshot, no locks.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/treue/treue/loyalty"
)

// Store is a loyalty.Store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	cfg  config
}

var _ loyalty.Store = (*Store)(nil)

// config holds the knobs tests turn; Open uses defaultConfig.
type config struct {
	// attempts bounds how often Update runs fn after serialization
	// failures and deadlocks.
	attempts int
	// uniqueAttempts bounds how often Update runs fn after a unique key
	// that another transaction took first. One more attempt sees that
	// transaction's row (it committed before the violation was raised), so
	// a violation that persists is a real conflict.
	uniqueAttempts int
	// backoff is the longest first wait between attempts; it doubles up to
	// maxBackoff. Each wait is drawn at random below its bound.
	backoff, maxBackoff time.Duration
}

func defaultConfig() config {
	return config{attempts: 10, uniqueAttempts: 3, backoff: 2 * time.Millisecond, maxBackoff: 100 * time.Millisecond}
}

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// key=value connection string) and brings its schema up to date. The pool
// keeps pgxpool's defaults unless the URL sets them (pool_max_conns: the
// larger of 4 and the number of CPUs; pool_max_conn_lifetime: 1h). Callers
// Close the Store when done.
func Open(ctx context.Context, url string) (*Store, error) {
	return open(ctx, url, defaultConfig())
}

func open(ctx context.Context, url string, cfg config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse connection string: %w", err)
	}
	if err := migrate(ctx, pc.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &Store{pool: pool, cfg: cfg}, nil
}

// Close closes the store's connections, waiting for those in use to be
// returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Update runs fn in a READ COMMITTED transaction and commits it when fn
// returns nil; otherwise it rolls back and returns fn's error unchanged.
// When the transaction failed for a serialization failure, a deadlock or a
// unique key of an idempotency record or a member that a concurrent
// transaction took first, or could not begin on a connection that had
// failed, it runs fn again, a bounded number of times, after a short random
// wait.
func (s *Store) Update(ctx context.Context, fn func(loyalty.Tx) error) error {
	for attempt := 1; ; attempt++ {
		allowed, err := s.update(ctx, fn)
		if err == nil || attempt >= allowed || ctx.Err() != nil {
			return err
		}
		wait := min(s.cfg.backoff<<(attempt-1), s.cfg.maxBackoff)
		t := time.NewTimer(rand.N(wait) + time.Microsecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// attemptsFor returns how many attempts a transaction that failed with
// cause gets in all: 1 for errors another attempt would not cure.
func (s *Store) attemptsFor(cause *pgconn.PgError) int {
	switch {
	case cause == nil:
		return 1
	case cause.Code == codeSerializationFailure || cause.Code == codeDeadlockDetected:
		return s.cfg.attempts
	case cause.Code == codeUniqueViolation && retriedUnique[cause.ConstraintName]:
		return s.cfg.uniqueAttempts
	}
	return 1
}

// retriedUnique are the unique constraints whose violation Update retries:
// a concurrent transaction wrote the same idempotency key or enrolled the
// same user (or, rarely, drew the same card number or referral code), and
// the next attempt finds its row.
var retriedUnique = map[string]bool{
	"idempotency_pkey":              true,
	"members_uid_key":               true,
	"members_card_key":              true,
	"game_states_referral_code_key": true,
}

// update runs fn once. It returns fn's (or begin's or commit's) error and
// how many attempts in all that error allows.
func (s *Store) update(ctx context.Context, fn func(loyalty.Tx) error) (int, error) {
	pt, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		err = fmt.Errorf("postgres: begin: %w", err)
		if pgconn.SafeToRetry(err) {
			// Nothing reached the server (a stale pooled connection).
			return s.cfg.attempts, err
		}
		return s.attemptsFor(pgError(err)), err
	}
	// Rolling back after a commit does nothing; this ends the transaction
	// when fn fails or panics.
	defer func() { _ = pt.Rollback(ctx) }()
	t := &tx{tx: pt, write: true}
	if err := fn(t); err != nil {
		return s.attemptsFor(t.cause(err)), err
	}
	if err := pt.Commit(ctx); err != nil {
		if t.failed != nil {
			err = fmt.Errorf("postgres: commit: %w (the transaction had failed: %w)", err, t.failed)
		} else {
			err = fmt.Errorf("postgres: commit: %w", err)
		}
		return s.attemptsFor(t.cause(err)), err
	}
	return 0, nil
}

// View runs fn in a READ ONLY REPEATABLE READ transaction, which sees one
// snapshot of the database. Writes inside fn fail.
func (s *Store) View(ctx context.Context, fn func(loyalty.Tx) error) error {
	pt, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	defer func() { _ = pt.Rollback(ctx) }()
	if err := fn(&tx{tx: pt}); err != nil {
		return err
	}
	if err := pt.Rollback(ctx); err != nil {
		return fmt.Errorf("postgres: end read: %w", err)
	}
	return nil
}

// tx is one transaction; it implements loyalty.Tx.
type tx struct {
	tx pgx.Tx
	// write is set in Update's transactions: reads of rows to change lock
	// them.
	write bool
	// failed is the first database error a statement returned. After it
	// the transaction is aborted, whatever fn makes of the error.
	failed *pgconn.PgError
}

var _ loyalty.Tx = (*tx)(nil)

// forUpdate returns the locking clause for reads of rows the transaction
// may change: FOR UPDATE in Update, nothing in View.
func (t *tx) forUpdate() string {
	if t.write {
		return " FOR UPDATE"
	}
	return ""
}

// note records err when it is the transaction's first database error, and
// returns it.
func (t *tx) note(err error) error {
	if t.failed == nil {
		t.failed = pgError(err)
	}
	return err
}

// cause returns the error that decides whether to run fn again: the
// transaction's first database error, or else the one in err.
func (t *tx) cause(err error) *pgconn.PgError {
	if t.failed != nil {
		return t.failed
	}
	return pgError(err)
}

func (t *tx) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	return tag, t.note(err)
}

// scanRow runs a query for one row and scans it with scan.
func (t *tx) scanRow(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	return t.note(scan(t.tx.QueryRow(ctx, sql, args...)))
}

// collect runs a query and returns its rows, each scanned with scan.
func collect[T any](ctx context.Context, t *tx, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, t.note(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.note(err)
		}
		out = append(out, v)
	}
	return out, t.note(rows.Err())
}

// pgError returns the PostgreSQL error in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}
