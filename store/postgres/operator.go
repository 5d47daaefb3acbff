package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// OperatorByKeyHash returns the operator whose API key hashes to h.
func (t *tx) OperatorByKeyHash(ctx context.Context, h []byte) (loyalty.Operator, error) {
	var o loyalty.Operator
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&o.ID, &o.ProgramID, &o.Name, &o.KeyHash) },
		"SELECT id, program_id, name, key_hash FROM operators WHERE key_hash = $1", h)
	if err != nil {
		return loyalty.Operator{}, lookupErr(err, "operator with this API key")
	}
	return o, nil
}

// PutOperator creates or replaces o. It returns ErrConflict when another
// operator has the same key hash.
func (t *tx) PutOperator(ctx context.Context, o loyalty.Operator) error {
	_, err := t.exec(ctx, `INSERT INTO operators (id, program_id, name, key_hash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET program_id = excluded.program_id, name = excluded.name, key_hash = excluded.key_hash`,
		o.ID, o.ProgramID, o.Name, o.KeyHash)
	if isUnique(err) {
		return conflict(err, "another operator has the API key of operator %q", o.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: write operator %q: %w", o.ID, err)
	}
	return nil
}
