package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// keyLock returns the advisory lock key of an idempotency key: 64 bits of
// the SHA-256 hash of program, caller and key. Two keys that share a lock
// key only wait for each other.
func keyLock(programID, caller, key string) int64 {
	h := sha256.New()
	for _, s := range []string{programID, caller, key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return int64(binary.BigEndian.Uint64(h.Sum(nil)))
}

// IdempotencyRecord returns the record of the caller's key. In Update it
// first takes a transaction-scoped advisory lock on the key, whether or not
// it has a record: a concurrent request with the key waits here until this
// transaction ends, then (READ COMMITTED: each statement sees what was
// committed before it began) reads the record this one wrote.
func (t *tx) IdempotencyRecord(ctx context.Context, programID, caller, key string) (loyalty.IdempotencyRecord, error) {
	if t.write {
		if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock($1)", keyLock(programID, caller, key)); err != nil {
			return loyalty.IdempotencyRecord{}, fmt.Errorf("postgres: lock idempotency key %q: %w", key, err)
		}
	}
	r := loyalty.IdempotencyRecord{ProgramID: programID, Caller: caller, Key: key}
	var (
		fp      []byte
		entry   *int64
		created time.Time
	)
	err := t.scanRow(ctx, func(row pgx.Row) error { return row.Scan(&fp, &r.Result, &entry, &created) },
		"SELECT fingerprint, result, entry_id, created_at FROM idempotency WHERE program_id = $1 AND caller = $2 AND key = $3",
		programID, caller, key)
	if err != nil {
		return loyalty.IdempotencyRecord{}, lookupErr(err, fmt.Sprintf("idempotency key %q", key))
	}
	if len(fp) != len(r.Fingerprint) {
		return loyalty.IdempotencyRecord{}, fmt.Errorf("postgres: idempotency key %q: fingerprint has %d bytes", key, len(fp))
	}
	copy(r.Fingerprint[:], fp)
	if entry != nil {
		r.EntryID = *entry
	}
	r.CreatedAt = created.UTC()
	return r, nil
}

// PutIdempotencyRecord writes r. It returns ErrConflict when the caller's
// key has a record already; Update runs its function again first, since
// the record may be a concurrent request's that the next attempt sees.
func (t *tx) PutIdempotencyRecord(ctx context.Context, r loyalty.IdempotencyRecord) error {
	result := r.Result
	if result == nil {
		result = []byte{}
	}
	_, err := t.exec(ctx, `INSERT INTO idempotency (program_id, caller, key, fingerprint, result, entry_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ProgramID, r.Caller, r.Key, r.Fingerprint[:], result, nullID(r.EntryID), r.CreatedAt)
	if isUnique(err) {
		return conflict(err, "idempotency_key %q was used before", r.Key)
	}
	if err != nil {
		return fmt.Errorf("postgres: write idempotency key %q: %w", r.Key, err)
	}
	return nil
}
