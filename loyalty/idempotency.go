package loyalty

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// IdempotencyRecord remembers the result of one write, so that a retry with
// the same key returns the same result and writes nothing.
type IdempotencyRecord struct {
	ProgramID string
	// Caller scopes the key: "till:<id>" or "member:<id>".
	Caller string
	Key    string
	// Fingerprint is a hash of the operation and its parameters.
	Fingerprint [sha256.Size]byte
	// Result is the first result, encoded as JSON.
	Result []byte
	// EntryID is the ledger entry the operation wrote, if any: an audit
	// checks that no entry belongs to two keys.
	EntryID   int64
	CreatedAt time.Time
}

// entryWriter is a result that names the ledger entry it wrote.
type entryWriter interface{ writtenEntry() int64 }

// maxIdempotencyKeyLen bounds an idempotency key.
const maxIdempotencyKeyLen = 128

// validateIdempotencyKey returns ErrInvalid unless key is 1 to 128 printable
// ASCII characters.
func validateIdempotencyKey(key string) error {
	if key == "" {
		return errorf(ErrInvalid, "idempotency_key is required: send a unique key per operation (e.g. a UUID) and the same key on retries")
	}
	if len(key) > maxIdempotencyKeyLen {
		return errorf(ErrInvalid, "idempotency_key is %d characters long; at most %d are allowed", len(key), maxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return errorf(ErrInvalid, "idempotency_key may hold only printable ASCII characters without spaces")
		}
	}
	return nil
}

// fingerprint returns a hash of an operation's name and parameters.
func fingerprint(op string, params any) [sha256.Size]byte {
	b, err := json.Marshal(params)
	if err != nil {
		// params are plain structs of this package; Marshal cannot fail.
		panic(fmt.Sprintf("loyalty: fingerprint %s: %v", op, err))
	}
	return sha256.Sum256(append([]byte(op+"\x00"), b...))
}

// once runs do at most once per idempotency key within tx: when the key was
// used before with the same operation and parameters, it returns the first
// result instead; with other parameters, ErrConflict. do's result is stored
// in the same transaction as its writes, so both commit or neither does.
func once[T any](ctx context.Context, tx Tx, rec IdempotencyRecord, do func() (T, error)) (T, error) {
	var zero T
	prev, err := tx.IdempotencyRecord(ctx, rec.ProgramID, rec.Caller, rec.Key)
	switch {
	case err == nil:
		if prev.Fingerprint != rec.Fingerprint {
			return zero, errorf(ErrConflict, "idempotency_key %q was already used with other parameters: use a new key for a new operation", rec.Key)
		}
		var res T
		if err := json.Unmarshal(prev.Result, &res); err != nil {
			return zero, fmt.Errorf("decode stored result of key %q: %w", rec.Key, err)
		}
		return res, nil
	case !errors.Is(err, ErrNotFound):
		return zero, err
	}
	res, err := do()
	if err != nil {
		return zero, err
	}
	if rec.Result, err = json.Marshal(res); err != nil {
		return zero, err
	}
	if w, ok := any(res).(entryWriter); ok {
		rec.EntryID = w.writtenEntry()
	}
	if err := tx.PutIdempotencyRecord(ctx, rec); err != nil {
		return zero, err
	}
	return res, nil
}
