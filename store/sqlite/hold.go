package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
)

const holdColumns = "program_id, id, member_id, till_id, points, status, captured, created_at, expires_at, closed_at"

func scanHold(row interface{ Scan(...any) error }) (loyalty.Hold, error) {
	var (
		h                loyalty.Hold
		created, expires int64
		closed           sql.NullInt64
	)
	err := row.Scan(&h.ProgramID, &h.ID, &h.MemberID, &h.TillID, &h.Points, &h.Status, &h.Captured, &created, &expires, &closed)
	if err != nil {
		return loyalty.Hold{}, err
	}
	h.CreatedAt, h.ExpiresAt = fromMicros(created), fromMicros(expires)
	if closed.Valid {
		h.ClosedAt = fromMicros(closed.Int64)
	}
	return h, nil
}

// CreateHold writes h. It returns ErrConflict when the program has a hold
// with the same id.
func (t *tx) CreateHold(ctx context.Context, h loyalty.Hold) error {
	_, err := t.tx.ExecContext(stmtContext(ctx), "INSERT INTO holds ("+holdColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		h.ProgramID, h.ID, h.MemberID, h.TillID, h.Points, string(h.Status), h.Captured,
		micros(h.CreatedAt), micros(h.ExpiresAt), nullMicros(h.ClosedAt))
	if isUnique(err) {
		return conflict("hold %s exists already", h.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create hold %s: %w", h.ID, err)
	}
	return nil
}

// Hold returns the program's hold with the id.
func (t *tx) Hold(ctx context.Context, programID, id string) (loyalty.Hold, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+holdColumns+" FROM holds WHERE program_id = ? AND id = ?", programID, id)
	h, err := scanHold(row)
	if err != nil {
		return loyalty.Hold{}, lookupErr(err, "hold "+id)
	}
	return h, nil
}

// SaveHold writes h's status, captured points and closing time.
func (t *tx) SaveHold(ctx context.Context, h loyalty.Hold) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), "UPDATE holds SET status = ?, captured = ?, closed_at = ? WHERE program_id = ? AND id = ?",
		string(h.Status), h.Captured, nullMicros(h.ClosedAt), h.ProgramID, h.ID)
	if err != nil {
		return fmt.Errorf("sqlite: write hold %s: %w", h.ID, err)
	}
	return mustAffect(res, "hold "+h.ID)
}

// ActiveHolds returns the member's holds that are active and unexpired at
// now, oldest first.
func (t *tx) ActiveHolds(ctx context.Context, programID, memberID string, now time.Time) ([]loyalty.Hold, error) {
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+holdColumns+` FROM holds
		WHERE program_id = ? AND member_id = ? AND status = 'active' AND expires_at > ?
		ORDER BY created_at, id`, programID, memberID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read holds of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var hs []loyalty.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read holds of member %s: %w", memberID, err)
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read holds of member %s: %w", memberID, err)
	}
	return hs, nil
}
