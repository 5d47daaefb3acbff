package sqlite

import (
	"context"
	"fmt"

	"github.com/treue/treue/loyalty"
)

// AppendConsent writes c and sets c.Seq to the id the database assigned,
// which is larger than every one before it. It returns ErrNotFound when the
// member does not exist or was erased.
func (t *tx) AppendConsent(ctx context.Context, c *loyalty.Consent) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO consents
		(program_id, member_id, purpose, granted, text_version, source, at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
		WHERE EXISTS (SELECT 1 FROM members WHERE program_id = ?1 AND id = ?2 AND erased_at IS NULL)`,
		c.ProgramID, c.MemberID, string(c.Purpose), c.Granted, c.TextVersion, c.Source, micros(c.At))
	if err != nil {
		return fmt.Errorf("sqlite: append consent of member %s: %w", c.MemberID, err)
	}
	if err := mustAffect(res, "member "+c.MemberID+" of program "+c.ProgramID); err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: append consent of member %s: %w", c.MemberID, err)
	}
	c.Seq = seq
	return nil
}

// Consents returns the member's consent records, oldest first.
func (t *tx) Consents(ctx context.Context, programID, memberID string) ([]loyalty.Consent, error) {
	rows, err := t.tx.QueryContext(stmtContext(ctx), `SELECT seq, purpose, granted, text_version, source, at
		FROM consents WHERE program_id = ? AND member_id = ? ORDER BY seq`, programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read consents of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var out []loyalty.Consent
	for rows.Next() {
		c := loyalty.Consent{ProgramID: programID, MemberID: memberID}
		var at int64
		if err := rows.Scan(&c.Seq, &c.Purpose, &c.Granted, &c.TextVersion, &c.Source, &at); err != nil {
			return nil, fmt.Errorf("sqlite: read consents of member %s: %w", memberID, err)
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read consents of member %s: %w", memberID, err)
	}
	return out, nil
}
