package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// code returns the SQLite result code in err's chain, extended where SQLite
// gives one, or 0.
func code(err error) int {
	var e *sqlitedrv.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isBusy reports whether err is SQLite's "database is locked": another
// connection held a lock longer than the busy timeout.
func isBusy(err error) bool { return code(err)&0xff == sqlite3.SQLITE_BUSY }

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint.
func isUnique(err error) bool {
	c := code(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// notFound returns an error wrapping loyalty.ErrNotFound; its text is safe
// for clients.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", loyalty.ErrNotFound, fmt.Sprintf(format, args...))
}

// conflict returns an error wrapping loyalty.ErrConflict; its text is safe
// for clients.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", loyalty.ErrConflict, fmt.Sprintf(format, args...))
}

// lookupErr turns sql.ErrNoRows into a not-found error described by what,
// and wraps anything else as an internal error.
func lookupErr(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("%s", what)
	}
	return fmt.Errorf("sqlite: read %s: %w", what, err)
}

// mustAffect returns a not-found error described by what when res changed
// no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: write %s: %w", what, err)
	}
	if n == 0 {
		return notFound("%s", what)
	}
	return nil
}

// micros returns t as the stored integer: unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the UTC time of a stored integer.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
