package sqlite

import (
	"context"
	"fmt"

	"github.com/treue/treue/loyalty"
)

// OperatorByKeyHash returns the operator whose API key hashes to h.
func (t *tx) OperatorByKeyHash(ctx context.Context, h []byte) (loyalty.Operator, error) {
	var o loyalty.Operator
	err := t.tx.QueryRowContext(stmtContext(ctx), "SELECT id, program_id, name, key_hash FROM operators WHERE key_hash = ?", h).
		Scan(&o.ID, &o.ProgramID, &o.Name, &o.KeyHash)
	if err != nil {
		return loyalty.Operator{}, lookupErr(err, "operator with this API key")
	}
	return o, nil
}

// PutOperator creates or replaces o. It returns ErrConflict when another
// operator has the same key hash.
func (t *tx) PutOperator(ctx context.Context, o loyalty.Operator) error {
	_, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO operators (id, program_id, name, key_hash) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET program_id = excluded.program_id, name = excluded.name, key_hash = excluded.key_hash`,
		o.ID, o.ProgramID, o.Name, o.KeyHash)
	if isUnique(err) {
		return conflict("another operator has the API key of operator %q", o.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write operator %q: %w", o.ID, err)
	}
	return nil
}
