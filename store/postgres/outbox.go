package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// AppendCardChange writes c to the outbox, stamped with the time its state
// was taken, and sets c.Seq to the seq the database assigned.
func (t *tx) AppendCardChange(ctx context.Context, c *loyalty.CardChange) error {
	st := c.State
	payload, err := encodeCardChange(*c)
	if err != nil {
		return err
	}
	var seq int64
	err = t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&seq) }, `INSERT INTO card_changes
		(program_id, member_id, version, payload, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
		st.ProgramID, st.MemberID, st.Version, string(payload), st.TakenAt)
	if err != nil {
		return fmt.Errorf("postgres: append card change of member %s: %w", st.MemberID, err)
	}
	c.Seq = seq
	return nil
}

// CardChanges claims up to limit changes written at or before writtenBefore
// that are unclaimed or whose claim ran out by now, lowest seq first, until
// now plus lease, and returns them. Rows another transaction is claiming
// are skipped rather than waited for, so dispatchers on several replicas
// neither block each other nor claim one change twice. Claiming writes, so
// it fails in View.
func (t *tx) CardChanges(ctx context.Context, writtenBefore, now time.Time, lease time.Duration, limit int) ([]loyalty.CardChange, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	if lease <= 0 {
		return nil, fmt.Errorf("%w: lease must be positive, got %v", loyalty.ErrInvalid, lease)
	}
	scan := func(row pgx.Row) (loyalty.CardChange, error) {
		var (
			seq     int64
			payload []byte
		)
		if err := row.Scan(&seq, &payload); err != nil {
			return loyalty.CardChange{}, err
		}
		return decodeCardChange(seq, payload)
	}
	cs, err := collect(ctx, t, scan, `UPDATE card_changes SET claimed_until = $1
		WHERE seq IN (
			SELECT seq FROM card_changes
			WHERE created_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $3)
			ORDER BY seq LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING seq, payload`, now.Add(lease), writtenBefore, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim card changes: %w", err)
	}
	// RETURNING yields the rows in no particular order.
	slices.SortFunc(cs, func(a, b loyalty.CardChange) int { return cmp.Compare(a.Seq, b.Seq) })
	return cs, nil
}

// DeleteCardChanges removes the changes with the seqs; unknown seqs are
// ignored.
func (t *tx) DeleteCardChanges(ctx context.Context, seqs []int64) error {
	if seqs == nil {
		seqs = []int64{}
	}
	if _, err := t.exec(ctx, "DELETE FROM card_changes WHERE seq = ANY($1)", seqs); err != nil {
		return fmt.Errorf("postgres: delete %d card changes: %w", len(seqs), err)
	}
	return nil
}

// encodeCardChange returns c as stored: JSON, without its seq.
func encodeCardChange(c loyalty.CardChange) ([]byte, error) {
	c.Seq = 0
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode card change of member %s: %w", c.State.MemberID, err)
	}
	return b, nil
}

// decodeCardChange returns the stored change with the seq.
func decodeCardChange(seq int64, payload []byte) (loyalty.CardChange, error) {
	var c loyalty.CardChange
	if err := json.Unmarshal(payload, &c); err != nil {
		return loyalty.CardChange{}, fmt.Errorf("decode card change %d: %w", seq, err)
	}
	c.Seq = seq
	return c, nil
}
