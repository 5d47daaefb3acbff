package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/treue/treue/loyalty"
)

// AppendCardChange writes c to the outbox, stamped with the time its state
// was taken, and sets c.Seq to the seq the database assigned, which is
// larger than every seq before it.
func (t *tx) AppendCardChange(ctx context.Context, c *loyalty.CardChange) error {
	st := c.State
	payload, err := encodeCardChange(*c)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO card_changes (program_id, member_id, version, payload, created_at)
		VALUES (?, ?, ?, ?, ?)`, st.ProgramID, st.MemberID, st.Version, string(payload), micros(st.TakenAt))
	if err != nil {
		return fmt.Errorf("sqlite: append card change of member %s: %w", st.MemberID, err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: append card change of member %s: %w", st.MemberID, err)
	}
	c.Seq = seq
	return nil
}

// CardChanges claims up to limit changes written at or before writtenBefore
// that are unclaimed or whose claim ran out by now, lowest seq first, until
// now plus lease, and returns them. Claiming writes, so it fails in View.
func (t *tx) CardChanges(ctx context.Context, writtenBefore, now time.Time, lease time.Duration, limit int) ([]loyalty.CardChange, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	if lease <= 0 {
		return nil, fmt.Errorf("%w: lease must be positive, got %v", loyalty.ErrInvalid, lease)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), `UPDATE card_changes SET claimed_until = ?1
		WHERE seq IN (
			SELECT seq FROM card_changes
			WHERE created_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?3)
			ORDER BY seq LIMIT ?4)
		RETURNING seq, payload`, micros(now.Add(lease)), micros(writtenBefore), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim card changes: %w", err)
	}
	defer rows.Close()
	var cs []loyalty.CardChange
	for rows.Next() {
		var (
			seq     int64
			payload []byte
		)
		if err := rows.Scan(&seq, &payload); err != nil {
			return nil, fmt.Errorf("sqlite: claim card changes: %w", err)
		}
		c, err := decodeCardChange(seq, payload)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim card changes: %w", err)
	}
	// RETURNING yields the rows in no particular order.
	slices.SortFunc(cs, func(a, b loyalty.CardChange) int { return cmp.Compare(a.Seq, b.Seq) })
	return cs, nil
}

// DeleteCardChanges removes the changes with the seqs, in one statement
// however many there are; unknown seqs are ignored.
func (t *tx) DeleteCardChanges(ctx context.Context, seqs []int64) error {
	if seqs == nil {
		seqs = []int64{}
	}
	list, err := json.Marshal(seqs)
	if err != nil {
		return fmt.Errorf("sqlite: encode card change seqs: %w", err)
	}
	_, err = t.tx.ExecContext(stmtContext(ctx), "DELETE FROM card_changes WHERE seq IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return fmt.Errorf("sqlite: delete %d card changes: %w", len(seqs), err)
	}
	return nil
}

// encodeCardChange returns c as stored: JSON, without its seq.
func encodeCardChange(c loyalty.CardChange) ([]byte, error) {
	c.Seq = 0
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode card change of member %s: %w", c.State.MemberID, err)
	}
	return b, nil
}

// decodeCardChange returns the stored change with the seq.
func decodeCardChange(seq int64, payload []byte) (loyalty.CardChange, error) {
	var c loyalty.CardChange
	if err := json.Unmarshal(payload, &c); err != nil {
		return loyalty.CardChange{}, fmt.Errorf("sqlite: decode card change %d: %w", seq, err)
	}
	c.Seq = seq
	return c, nil
}
