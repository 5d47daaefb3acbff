package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
	sqlite3 "modernc.org/sqlite/lib"
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

// googlePass reads the pass that googlePassQuery with where and args
// selects; it returns a not-found error described by what when there is
// none.
func googlePass(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, what, where string, args ...any) (googlepass.Pass, error) {
	var (
		p                      googlepass.Pass
		created                int64
		asOf, synced, expiring sql.NullInt64
	)
	err := q.QueryRowContext(ctx, googlePassQuery+" WHERE "+where, args...).Scan(
		&p.ProgramID, &p.MemberID, &p.ObjectID, &created, &p.Saved, &asOf, &synced, &p.Tier, &expiring)
	if err != nil {
		return googlepass.Pass{}, lookupErr(err, what)
	}
	p.CreatedAt = fromMicros(created)
	p.SavedAsOf, p.SyncedAt, p.ExpiryWarned = fromNullMicros(asOf), fromNullMicros(synced), fromNullMicros(expiring)
	return p, nil
}

// fromNullMicros returns the UTC time of a stored nullable integer, NULL as
// the zero time.
func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// CreatePass stores p, not saved and never synced, unless the member has a
// pass already, and returns the member's pass. p.CreatedAt is kept to the
// microsecond. It returns a loyalty.ErrNotFound error when the member does
// not exist, and a loyalty.ErrConflict error when another member's pass
// has p.ObjectID.
func (g *GooglePasses) CreatePass(ctx context.Context, p googlepass.Pass) (googlepass.Pass, error) {
	var out googlepass.Pass
	err := g.s.write(ctx, func(t *tx) error {
		ctx := stmtContext(ctx)
		// Without a conflict target, a taken object id does nothing too;
		// the read below tells it from the member's own pass.
		_, err := t.tx.ExecContext(ctx, `INSERT INTO google_passes (program_id, member_id, object_id, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, p.ProgramID, p.MemberID, p.ObjectID, micros(p.CreatedAt))
		if code(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return notFound("member %s of program %s", p.MemberID, p.ProgramID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: create google pass of member %s: %w", p.MemberID, err)
		}
		out, err = googlePass(ctx, t.tx, "google pass of member "+p.MemberID,
			"program_id = ? AND member_id = ?", p.ProgramID, p.MemberID)
		if errors.Is(err, loyalty.ErrNotFound) {
			return conflict("the object id of member %s's google pass is taken", p.MemberID)
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
	return googlePass(ctx, g.s.reader, "google pass of member "+memberID,
		"program_id = ? AND member_id = ?", programID, memberID)
}

// PassByObject returns the pass with the object id, or a
// loyalty.ErrNotFound error.
func (g *GooglePasses) PassByObject(ctx context.Context, objectID string) (googlepass.Pass, error) {
	return googlePass(ctx, g.s.reader, "google pass "+objectID, "object_id = ?", objectID)
}

// SetSaved records a save (saved true) or delete callback about the object
// whose message expires at asOf, unless asOf is before the latest one
// recorded. It returns the pass as it is afterwards and whether the
// callback changed its Saved or SavedAsOf, or a loyalty.ErrNotFound error
// when no pass has the object id.
func (g *GooglePasses) SetSaved(ctx context.Context, objectID string, saved bool, asOf time.Time) (p googlepass.Pass, changed bool, err error) {
	err = g.s.write(ctx, func(t *tx) error {
		ctx := stmtContext(ctx)
		res, err := t.tx.ExecContext(ctx, `UPDATE google_passes SET saved = ?2, saved_as_of = ?3
			WHERE object_id = ?1 AND (saved_as_of IS NULL OR saved_as_of <= ?3)
				AND (saved <> ?2 OR saved_as_of IS NOT ?3)`, objectID, saved, nullMicros(asOf))
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: record google pass %s saved: %w", objectID, err)
		}
		changed = n > 0
		p, err = googlePass(ctx, t.tx, "google pass "+objectID, "object_id = ?", objectID)
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
		res, err := t.tx.ExecContext(stmtContext(ctx), `UPDATE google_passes
			SET synced_at = ?, tier = ?, expiry_warned = coalesce(?, expiry_warned)
			WHERE program_id = ? AND member_id = ?`,
			nullMicros(at), tier, nullMicros(expiryWarned), programID, memberID)
		if err != nil {
			return fmt.Errorf("sqlite: mark google pass of member %s synced: %w", memberID, err)
		}
		return mustAffect(res, "google pass of member "+memberID)
	})
}

// ReserveNotification records a notification of the member's pass at now
// unless limit were recorded after now-window (later ones included: another
// replica's clock may run ahead); ok reports whether it recorded one. It removes the pass's records older than the
// window. It returns a loyalty.ErrNotFound error when the member has no
// pass. The writer's transactions run one at a time, so the limit holds
// under concurrent calls.
func (g *GooglePasses) ReserveNotification(ctx context.Context, programID, memberID string, now time.Time, window time.Duration, limit int) (ok bool, err error) {
	at, after := micros(now), micros(now.Add(-window))
	err = g.s.write(ctx, func(t *tx) error {
		ok = false
		ctx := stmtContext(ctx)
		var one int
		err := t.tx.QueryRowContext(ctx, "SELECT 1 FROM google_passes WHERE program_id = ? AND member_id = ?",
			programID, memberID).Scan(&one)
		if err != nil {
			return lookupErr(err, "google pass of member "+memberID)
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM google_notifications WHERE program_id = ? AND member_id = ? AND at <= ?",
			programID, memberID, after); err != nil {
			return fmt.Errorf("sqlite: remove old google notifications: %w", err)
		}
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM google_notifications WHERE program_id = ? AND member_id = ? AND at > ?",
			programID, memberID, after).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: count google notifications: %w", err)
		}
		if n >= limit {
			return nil
		}
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO google_notifications (program_id, member_id, at) VALUES (?, ?, ?)",
			programID, memberID, at); err != nil {
			return fmt.Errorf("sqlite: record google notification: %w", err)
		}
		ok = true
		return nil
	})
	return ok, err
}
