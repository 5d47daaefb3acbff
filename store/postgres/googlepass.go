package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
)

// GooglePasses is the googlepass.Store on a Store's database. It is a type
// of its own because Store's CreatePass and Pass are applepass.Store's.
type GooglePasses struct{ s *Store }

var _ googlepass.Store = (*GooglePasses)(nil)

// GooglePasses returns the googlepass.Store on s's database, a
// *GooglePasses; it returns the interface so that one interface covers
// every store Treue opens. It is safe for concurrent use; Close s when
// done.
func (s *Store) GooglePasses() googlepass.Store { return &GooglePasses{s: s} }

// googlePassQuery selects the columns of a google_passes row.
const googlePassQuery = `SELECT program_id, member_id, object_id, created_at,
		saved, saved_as_of, synced_at, tier, expiry_warned
	FROM google_passes`

// scanGooglePass scans a row of googlePassQuery.
func scanGooglePass(row pgx.Row) (googlepass.Pass, error) {
	var (
		p                      googlepass.Pass
		asOf, synced, expiring *time.Time
	)
	if err := row.Scan(&p.ProgramID, &p.MemberID, &p.ObjectID, &p.CreatedAt,
		&p.Saved, &asOf, &synced, &p.Tier, &expiring); err != nil {
		return googlepass.Pass{}, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.SavedAsOf, p.SyncedAt, p.ExpiryWarned = fromNull(asOf), fromNull(synced), fromNull(expiring)
	return p, nil
}

// readGooglePass reads in t the pass that googlePassQuery with where and
// args selects; it returns a not-found error described by what when there
// is none.
func (t *tx) readGooglePass(ctx context.Context, what, where string, args ...any) (googlepass.Pass, error) {
	var p googlepass.Pass
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { p, err = scanGooglePass(row); return err },
		googlePassQuery+" WHERE "+where, args...)
	if err != nil {
		return googlepass.Pass{}, lookupErr(err, what)
	}
	return p, nil
}

// pass reads the pass that googlePassQuery with where and args selects; it
// returns a not-found error described by what when there is none.
func (g *GooglePasses) pass(ctx context.Context, what, where string, args ...any) (googlepass.Pass, error) {
	p, err := scanGooglePass(g.s.pool.QueryRow(ctx, googlePassQuery+" WHERE "+where, args...))
	if err != nil {
		return googlepass.Pass{}, lookupErr(err, what)
	}
	return p, nil
}

// CreatePass stores p, not saved and never synced, unless the member has a
// pass already, and returns the member's pass. p.CreatedAt is kept to the
// microsecond. It returns a loyalty.ErrNotFound error when the member does
// not exist, and a loyalty.ErrConflict error when another member's pass
// has p.ObjectID. Concurrent calls for one member wait for each other (the
// unique keys) and return the pass the first stored.
func (g *GooglePasses) CreatePass(ctx context.Context, p googlepass.Pass) (googlepass.Pass, error) {
	var out googlepass.Pass
	err := g.s.write(ctx, func(t *tx) error {
		// Without a conflict target every unique key is an arbiter:
		// concurrent calls with the member's one object id meet on both
		// keys, and a target naming one would let the other fail.
		_, err := t.exec(ctx, `INSERT INTO google_passes (program_id, member_id, object_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, p.ProgramID, p.MemberID, p.ObjectID, p.CreatedAt)
		if e := pgError(err); e != nil && e.Code == codeForeignKeyViolation {
			return notFound("member %s of program %s", p.MemberID, p.ProgramID)
		}
		if err != nil {
			return fmt.Errorf("postgres: create google pass of member %s: %w", p.MemberID, err)
		}
		// READ COMMITTED: this statement sees the pass a concurrent call
		// committed while the insert waited for it.
		out, err = t.readGooglePass(ctx, "google pass of member "+p.MemberID,
			"program_id = $1 AND member_id = $2", p.ProgramID, p.MemberID)
		if errors.Is(err, loyalty.ErrNotFound) {
			return fmt.Errorf("%w: the object id of member %s's google pass is taken", loyalty.ErrConflict, p.MemberID)
		}
		return err
	})
	if err != nil {
		return googlepass.Pass{}, err
	}
	return out, nil
}

// Pass returns the member's pass, or a loyalty.ErrNotFound error.
func (g *GooglePasses) Pass(ctx context.Context, programID, memberID string) (googlepass.Pass, error) {
	return g.pass(ctx, "google pass of member "+memberID, "program_id = $1 AND member_id = $2", programID, memberID)
}

// PassByObject returns the pass with the object id, or a
// loyalty.ErrNotFound error.
func (g *GooglePasses) PassByObject(ctx context.Context, objectID string) (googlepass.Pass, error) {
	return g.pass(ctx, "google pass "+objectID, "object_id = $1", objectID)
}

// SetSaved records a save (saved true) or delete callback about the object
// whose message expires at asOf, unless asOf is before the latest one
// recorded. It returns the pass as it is afterwards and whether the
// callback changed its Saved or SavedAsOf, or a loyalty.ErrNotFound error
// when no pass has the object id. Concurrent callbacks about one object
// wait for each other: the UPDATE checks its condition again on the row
// another committed.
func (g *GooglePasses) SetSaved(ctx context.Context, objectID string, saved bool, asOf time.Time) (p googlepass.Pass, changed bool, err error) {
	err = g.s.write(ctx, func(t *tx) error {
		tag, err := t.exec(ctx, `UPDATE google_passes SET saved = $2, saved_as_of = $3
			WHERE object_id = $1 AND (saved_as_of IS NULL OR saved_as_of <= $3)
				AND (saved <> $2 OR saved_as_of IS DISTINCT FROM $3)`, objectID, saved, nullTime(asOf))
		if err != nil {
			return fmt.Errorf("postgres: record google pass %s saved: %w", objectID, err)
		}
		changed = tag.RowsAffected() > 0
		p, err = t.readGooglePass(ctx, "google pass "+objectID, "object_id = $1", objectID)
		return err
	})
	if err != nil {
		return googlepass.Pass{}, false, err
	}
	return p, changed, nil
}

// MarkSynced records that the member's object was written at at, showing
// tier, and the expiry the member was warned about (a zero expiryWarned
// keeps the one before). It returns a loyalty.ErrNotFound error when the
// member has no pass.
func (g *GooglePasses) MarkSynced(ctx context.Context, programID, memberID string, at time.Time, tier string, expiryWarned time.Time) error {
	return g.s.write(ctx, func(t *tx) error {
		tag, err := t.exec(ctx, `UPDATE google_passes
			SET synced_at = $3, tier = $4, expiry_warned = coalesce($5, expiry_warned)
			WHERE program_id = $1 AND member_id = $2`,
			programID, memberID, nullTime(at), tier, nullTime(expiryWarned))
		if err != nil {
			return fmt.Errorf("postgres: mark google pass of member %s synced: %w", memberID, err)
		}
		return mustAffect(tag, "google pass of member "+memberID)
	})
}

// ReserveNotification records a notification of the member's pass at now
// unless limit were recorded after now-window (later ones included: another
// replica's clock may run ahead); ok reports whether it recorded one. It removes the pass's records older than the
// window. It returns a loyalty.ErrNotFound error when the member has no
// pass.
//
// It locks the pass's row first, so calls for one pass, from any
// connection, count and record one after the other and the limit holds.
func (g *GooglePasses) ReserveNotification(ctx context.Context, programID, memberID string, now time.Time, window time.Duration, limit int) (ok bool, err error) {
	after := now.Add(-window)
	err = g.s.write(ctx, func(t *tx) error {
		ok = false
		var one int
		err := t.scanRow(ctx, func(row pgx.Row) error { return row.Scan(&one) },
			"SELECT 1 FROM google_passes WHERE program_id = $1 AND member_id = $2 FOR NO KEY UPDATE", programID, memberID)
		if err != nil {
			return lookupErr(err, "google pass of member "+memberID)
		}
		if _, err := t.exec(ctx, "DELETE FROM google_notifications WHERE program_id = $1 AND member_id = $2 AND at <= $3",
			programID, memberID, after); err != nil {
			return fmt.Errorf("postgres: remove old google notifications: %w", err)
		}
		var n int
		err = t.scanRow(ctx, func(row pgx.Row) error { return row.Scan(&n) },
			"SELECT count(*) FROM google_notifications WHERE program_id = $1 AND member_id = $2 AND at > $3",
			programID, memberID, after)
		if err != nil {
			return fmt.Errorf("postgres: count google notifications: %w", err)
		}
		if n >= limit {
			return nil
		}
		if _, err := t.exec(ctx, "INSERT INTO google_notifications (program_id, member_id, at) VALUES ($1, $2, $3)",
			programID, memberID, now); err != nil {
			return fmt.Errorf("postgres: record google notification: %w", err)
		}
		ok = true
		return nil
	})
	return ok, err
}
