package sqlite

import (
	"context"
	"fmt"

	"github.com/treue/treue/loyalty"
)

// IdempotencyRecord returns the record of the caller's key.
func (t *tx) IdempotencyRecord(ctx context.Context, programID, caller, key string) (loyalty.IdempotencyRecord, error) {
	r := loyalty.IdempotencyRecord{ProgramID: programID, Caller: caller, Key: key}
	var (
		fp      []byte
		created int64
	)
	err := t.tx.QueryRowContext(ctx, "SELECT fingerprint, result, created_at FROM idempotency WHERE program_id = ? AND caller = ? AND key = ?",
		programID, caller, key).Scan(&fp, &r.Result, &created)
	if err != nil {
		return loyalty.IdempotencyRecord{}, lookupErr(err, fmt.Sprintf("idempotency key %q", key))
	}
	if len(fp) != len(r.Fingerprint) {
		return loyalty.IdempotencyRecord{}, fmt.Errorf("sqlite: idempotency key %q: fingerprint has %d bytes", key, len(fp))
	}
	copy(r.Fingerprint[:], fp)
	r.CreatedAt = fromMicros(created)
	return r, nil
}

// PutIdempotencyRecord writes r. It returns ErrConflict when the caller's
// key has a record already.
func (t *tx) PutIdempotencyRecord(ctx context.Context, r loyalty.IdempotencyRecord) error {
	result := r.Result
	if result == nil {
		result = []byte{}
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO idempotency (program_id, caller, key, fingerprint, result, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.ProgramID, r.Caller, r.Key, r.Fingerprint[:], result, micros(r.CreatedAt))
	if isUnique(err) {
		return conflict("idempotency_key %q was used before", r.Key)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write idempotency key %q: %w", r.Key, err)
	}
	return nil
}
