package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

const holdColumns = "program_id, id, member_id, till_id, points, status, captured, created_at, expires_at, closed_at"

func scanHold(row pgx.Row) (loyalty.Hold, error) {
	var (
		h                loyalty.Hold
		status           string
		created, expires time.Time
		closed           *time.Time
	)
	err := row.Scan(&h.ProgramID, &h.ID, &h.MemberID, &h.TillID, &h.Points, &status, &h.Captured, &created, &expires, &closed)
	if err != nil {
		return loyalty.Hold{}, err
	}
	h.Status = loyalty.HoldStatus(status)
	h.CreatedAt, h.ExpiresAt, h.ClosedAt = created.UTC(), expires.UTC(), fromNull(closed)
	return h, nil
}

// CreateHold writes h. It returns ErrConflict when the program has a hold
// with the same id.
func (t *tx) CreateHold(ctx context.Context, h loyalty.Hold) error {
	_, err := t.exec(ctx, "INSERT INTO holds ("+holdColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		h.ProgramID, h.ID, h.MemberID, h.TillID, h.Points, string(h.Status), h.Captured,
		h.CreatedAt, h.ExpiresAt, nullTime(h.ClosedAt))
	if isUnique(err) {
		return conflict(err, "hold %s exists already", h.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create hold %s: %w", h.ID, err)
	}
	return nil
}

// Hold returns the program's hold with the id. In Update it locks the hold.
func (t *tx) Hold(ctx context.Context, programID, id string) (loyalty.Hold, error) {
	var h loyalty.Hold
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { h, err = scanHold(row); return err },
		"SELECT "+holdColumns+" FROM holds WHERE program_id = $1 AND id = $2"+t.forUpdate(), programID, id)
	if err != nil {
		return loyalty.Hold{}, lookupErr(err, "hold "+id)
	}
	return h, nil
}

// SaveHold writes h's status, captured points and closing time.
func (t *tx) SaveHold(ctx context.Context, h loyalty.Hold) error {
	tag, err := t.exec(ctx, `UPDATE holds SET status = $1, captured = $2, closed_at = $3
		WHERE program_id = $4 AND member_id = $5 AND id = $6`,
		string(h.Status), h.Captured, nullTime(h.ClosedAt), h.ProgramID, h.MemberID, h.ID)
	if err != nil {
		return fmt.Errorf("postgres: write hold %s: %w", h.ID, err)
	}
	return mustAffect(tag, "hold "+h.ID)
}

// ActiveHolds returns the member's holds that are active and unexpired at
// now, oldest first.
func (t *tx) ActiveHolds(ctx context.Context, programID, memberID string, now time.Time) ([]loyalty.Hold, error) {
	hs, err := collect(ctx, t, scanHold, "SELECT "+holdColumns+` FROM holds
		WHERE program_id = $1 AND member_id = $2 AND status = 'active' AND expires_at > $3
		ORDER BY created_at, id`, programID, memberID, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: read holds of member %s: %w", memberID, err)
	}
	return hs, nil
}
