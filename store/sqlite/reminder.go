package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
)

// ExpiringPoints returns the points left in the program's lots that expire
// at or after from and before to, summed per member and expiry time, by
// member ID and then time. It covers the first limit members, by ID, that
// sort after afterMemberID and have such points, so that the caller pages
// on with the last member it got; lots that never expire are not counted.
func (t *tx) ExpiringPoints(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]loyalty.ExpiringPoints, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), `SELECT member_id, expires_at, sum(remaining) FROM lots
		WHERE program_id = ?1 AND remaining > 0 AND expires_at >= ?3 AND expires_at < ?4 AND member_id IN (
			SELECT DISTINCT member_id FROM lots
			WHERE program_id = ?1 AND member_id > ?2 AND remaining > 0 AND expires_at >= ?3 AND expires_at < ?4
			ORDER BY member_id LIMIT ?5)
		GROUP BY member_id, expires_at
		ORDER BY member_id, expires_at`, programID, afterMemberID, micros(from), micros(to), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read expiring points of program %q: %w", programID, err)
	}
	defer rows.Close()
	var out []loyalty.ExpiringPoints
	for rows.Next() {
		p := loyalty.ExpiringPoints{MemberKey: loyalty.MemberKey{ProgramID: programID}}
		var at int64
		if err := rows.Scan(&p.MemberID, &at, &p.Points); err != nil {
			return nil, fmt.Errorf("sqlite: read expiring points of program %q: %w", programID, err)
		}
		p.At = fromMicros(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read expiring points of program %q: %w", programID, err)
	}
	return out, nil
}
