package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
)

// CreateLot writes l and sets l.ID to the id the database assigned, which is
// larger than every id before it.
func (t *tx) CreateLot(ctx context.Context, l *loyalty.Lot) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO lots
		(program_id, member_id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ProgramID, l.MemberID, l.EntryID, l.PurchaseID, l.Points, l.Remaining,
		micros(l.AvailableAt), nullMicros(l.ExpiresAt), micros(l.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create lot for member %s: %w", l.MemberID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create lot for member %s: %w", l.MemberID, err)
	}
	l.ID = id
	return nil
}

// lotColumns are the columns scanLots reads.
const lotColumns = "id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at"

// OpenLots returns the member's lots with points remaining, soonest expiry
// first, never-expiring ones last, then by id.
func (t *tx) OpenLots(ctx context.Context, programID, memberID string) ([]loyalty.Lot, error) {
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+lotColumns+`
		FROM lots WHERE program_id = ? AND member_id = ? AND remaining > 0
		ORDER BY expires_at IS NULL, expires_at, id`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read lots of member %s: %w", memberID, err)
	}
	return scanLots(rows, programID, memberID)
}

// scanLots reads the member's lots, selected as lotColumns, from rows and
// closes them.
func scanLots(rows *sql.Rows, programID, memberID string) ([]loyalty.Lot, error) {
	defer rows.Close()
	var lots []loyalty.Lot
	for rows.Next() {
		l := loyalty.Lot{ProgramID: programID, MemberID: memberID}
		var (
			avail, created int64
			expires        sql.NullInt64
		)
		if err := rows.Scan(&l.ID, &l.EntryID, &l.PurchaseID, &l.Points, &l.Remaining, &avail, &expires, &created); err != nil {
			return nil, fmt.Errorf("sqlite: read lots of member %s: %w", memberID, err)
		}
		l.AvailableAt, l.CreatedAt, l.ExpiresAt = fromMicros(avail), fromMicros(created), fromNullMicros(expires)
		lots = append(lots, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read lots of member %s: %w", memberID, err)
	}
	return lots, nil
}

// MembersWithDueLots returns up to limit members with points remaining in
// lots whose expiry is at or before now, those that have waited longest
// first.
func (t *tx) MembersWithDueLots(ctx context.Context, now time.Time, limit int) ([]loyalty.MemberKey, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), `SELECT program_id, member_id FROM lots
		WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?
		GROUP BY program_id, member_id
		ORDER BY min(expires_at), program_id, member_id LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read members with due lots: %w", err)
	}
	defer rows.Close()
	var keys []loyalty.MemberKey
	for rows.Next() {
		var k loyalty.MemberKey
		if err := rows.Scan(&k.ProgramID, &k.MemberID); err != nil {
			return nil, fmt.Errorf("sqlite: read members with due lots: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read members with due lots: %w", err)
	}
	return keys, nil
}
