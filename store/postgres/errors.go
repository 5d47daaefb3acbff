package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/treue/treue/loyalty"
)

// PostgreSQL error codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint.
func isUnique(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == codeUniqueViolation
}

// clientError is an error whose text is safe for clients and that wraps a
// loyalty sentinel and the database error behind it.
type clientError struct {
	kind  error
	msg   string
	cause error
}

func (e *clientError) Error() string   { return e.kind.Error() + ": " + e.msg }
func (e *clientError) Unwrap() []error { return []error{e.kind, e.cause} }

// notFound returns an error wrapping loyalty.ErrNotFound; its text is safe
// for clients.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", loyalty.ErrNotFound, fmt.Sprintf(format, args...))
}

// conflict returns an error wrapping loyalty.ErrConflict and cause; its text
// is safe for clients.
func conflict(cause error, format string, args ...any) error {
	return &clientError{kind: loyalty.ErrConflict, msg: fmt.Sprintf(format, args...), cause: cause}
}

// lookupErr turns pgx.ErrNoRows into a not-found error described by what,
// and wraps anything else as an internal error.
func lookupErr(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("%s", what)
	}
	return fmt.Errorf("postgres: read %s: %w", what, err)
}

// mustAffect returns a not-found error described by what when tag counts
// no row.
func mustAffect(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return notFound("%s", what)
	}
	return nil
}

// nullTime returns t as a nullable timestamp, the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull returns a scanned nullable timestamp in UTC, NULL as the zero
// time.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullID returns id as a nullable id, 0 as NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
