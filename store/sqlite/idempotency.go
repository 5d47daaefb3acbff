package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/treue/treue/loyalty"
)

// IdempotencyRecord returns the record of the caller's key. Write
// transactions hold the database's write lock from their start, so the key
// stays locked until the transaction ends.
func (t *tx) IdempotencyRecord(ctx context.Context, programID, caller, key string) (loyalty.IdempotencyRecord, error) {
	r := loyalty.IdempotencyRecord{ProgramID: programID, Caller: caller, Key: key}
	var (
		fp      []byte
		created int64
		entry   sql.NullInt64
	)
	err := t.tx.QueryRowContext(stmtContext(ctx), "SELECT fingerprint, result, entry_id, created_at FROM idempotency WHERE program_id = ? AND caller = ? AND key = ?",
		programID, caller, key).Scan(&fp, &r.Result, &entry, &created)
	if err != nil {
		return loyalty.IdempotencyRecord{}, lookupErr(err, fmt.Sprintf("idempotency key %q", key))
	}
	if len(fp) != len(r.Fingerprint) {
		return loyalty.IdempotencyRecord{}, fmt.Errorf("sqlite: idempotency key %q: fingerprint has %d bytes", key, len(fp))
	}
	copy(r.Fingerprint[:], fp)
	r.EntryID = entry.Int64
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
	var entry sql.NullInt64
	if r.EntryID != 0 {
		entry = sql.NullInt64{Int64: r.EntryID, Valid: true}
	}
	_, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO idempotency (program_id, caller, key, fingerprint, result, entry_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ProgramID, r.Caller, r.Key, r.Fingerprint[:], result, entry, micros(r.CreatedAt))
	if isUnique(err) {
		return conflict("idempotency_key %q was used before", r.Key)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write idempotency key %q: %w", r.Key, err)
	}
	return nil
}
