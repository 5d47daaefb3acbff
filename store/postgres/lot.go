package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// CreateLot writes l and sets l.ID to the id the database assigned.
func (t *tx) CreateLot(ctx context.Context, l *loyalty.Lot) error {
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&l.ID) }, `INSERT INTO lots
		(program_id, member_id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		l.ProgramID, l.MemberID, l.EntryID, l.PurchaseID, l.Points, l.Remaining,
		l.AvailableAt, nullTime(l.ExpiresAt), l.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create lot for member %s: %w", l.MemberID, err)
	}
	return nil
}

// lotColumns are the columns lotScanner reads.
const lotColumns = "id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at"

// lotScanner returns a function that scans a lot of the member, selected
// as lotColumns.
func lotScanner(programID, memberID string) func(pgx.Row) (loyalty.Lot, error) {
	return func(row pgx.Row) (loyalty.Lot, error) {
		l := loyalty.Lot{ProgramID: programID, MemberID: memberID}
		var (
			avail, created time.Time
			expires        *time.Time
		)
		if err := row.Scan(&l.ID, &l.EntryID, &l.PurchaseID, &l.Points, &l.Remaining, &avail, &expires, &created); err != nil {
			return loyalty.Lot{}, err
		}
		l.AvailableAt, l.ExpiresAt, l.CreatedAt = avail.UTC(), fromNull(expires), created.UTC()
		return l, nil
	}
}

// OpenLots returns the member's lots with points remaining, soonest expiry
// first, never-expiring ones last, then by id. The caller holds the
// member's account lock in Update, under which every change of the
// member's lots happens, so the lots read stay as read.
func (t *tx) OpenLots(ctx context.Context, programID, memberID string) ([]loyalty.Lot, error) {
	lots, err := collect(ctx, t, lotScanner(programID, memberID), "SELECT "+lotColumns+`
		FROM lots WHERE program_id = $1 AND member_id = $2 AND remaining > 0
		ORDER BY expires_at ASC NULLS LAST, id`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read lots of member %s: %w", memberID, err)
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
	scan := func(row pgx.Row) (loyalty.MemberKey, error) {
		var k loyalty.MemberKey
		err := row.Scan(&k.ProgramID, &k.MemberID)
		return k, err
	}
	keys, err := collect(ctx, t, scan, `SELECT program_id, member_id FROM lots
		WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1
		GROUP BY program_id, member_id
		ORDER BY min(expires_at), program_id, member_id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read members with due lots: %w", err)
	}
	return keys, nil
}
