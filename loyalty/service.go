package loyalty

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"io"
	"time"
)

// Service applies the program's rules to the ledger. It is safe for
// concurrent use; every write runs in one Store transaction.
type Service struct {
	store Store
	clock func() time.Time
	rand  io.Reader
	// onCommit receives the card changes of every committed write.
	onCommit func([]CardChange)
	onErase  func(context.Context, Erasure)
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the Service read the time from now (tests use a simulated
// clock).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithRandom makes the Service draw card numbers, codes and ids from r.
func WithRandom(r io.Reader) Option { return func(s *Service) { s.rand = r } }

// WithChangeHook makes the Service call fn with the card changes of every
// write right after its commit, before the write returns. fn must not block
// for long; the changes are in the store's outbox too, for the ones fn
// cannot deliver.
func WithChangeHook(fn func([]CardChange)) Option {
	return func(s *Service) { s.onCommit = fn }
}

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, clock: time.Now, rand: randomReader}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now returns the time in the precision every store keeps.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random identifier such as "m_2x7…" with 100 bits of
// randomness.
func (s *Service) newID(prefix string) (string, error) {
	var b [13]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])[:20], nil
}

// Seed is a program's configuration as an operator writes it: the program,
// its reward catalog and its tills with their API keys.
type Seed struct {
	Program Program
	Rewards []Reward
	Tills   []TillKey
	// Operators are the program's operator API keys (AdminService).
	Operators []OperatorKey
}

// OperatorKey is an operator with the API key it authenticates with:
// either Key in plain text, or only its hash in Operator.KeyHash.
type OperatorKey struct {
	Operator Operator
	Key      string
}

// TillKey is a till with the API key it authenticates with: either Key in
// plain text, or only its hash in Till.KeyHash.
type TillKey struct {
	Till Till
	Key  string
}

// minAPIKeyLen bounds how short a till's API key may be.
const minAPIKeyLen = 12

// ApplySeed creates or replaces the seed's program, rewards and tills in one
// transaction. It returns ErrInvalid when any of them is malformed, and then
// writes nothing. Rules operators changed since (RulesRevision > 0) are
// kept.
func (s *Service) ApplySeed(ctx context.Context, seed Seed) error {
	if err := seed.Program.Validate(); err != nil {
		return err
	}
	for _, r := range seed.Rewards {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	for _, t := range seed.Tills {
		if err := validateKeyHolder("till", t.Till.ID, t.Key, t.Till.KeyHash); err != nil {
			return err
		}
	}
	for _, o := range seed.Operators {
		if err := validateKeyHolder("operator", o.Operator.ID, o.Key, o.Operator.KeyHash); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx Tx) error {
		p := seed.Program
		// Rules operators changed outlive a restart with the same seed.
		if prev, err := tx.Program(ctx, p.ID); err == nil && prev.RulesRevision > 0 {
			p.Rules, p.RulesRevision = prev.Rules, prev.RulesRevision
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.PutProgram(ctx, p); err != nil {
			return err
		}
		for _, r := range seed.Rewards {
			r.ProgramID = seed.Program.ID
			if err := tx.PutReward(ctx, r); err != nil {
				return err
			}
		}
		for _, t := range seed.Tills {
			t.Till.ProgramID = seed.Program.ID
			if t.Key != "" {
				t.Till.KeyHash = HashAPIKey(t.Key)
			}
			if err := tx.PutTill(ctx, t.Till); err != nil {
				return err
			}
		}
		for _, o := range seed.Operators {
			o.Operator.ProgramID = seed.Program.ID
			if o.Key != "" {
				o.Operator.KeyHash = HashAPIKey(o.Key)
			}
			if err := tx.PutOperator(ctx, o.Operator); err != nil {
				return err
			}
		}
		return nil
	})
}

// validateKeyHolder returns ErrInvalid unless a till or operator (what)
// has an id of 1 to 64 characters and either an API key of at least
// minAPIKeyLen characters or the SHA-256 hash of one.
func validateKeyHolder(what, id, key string, hash []byte) error {
	switch {
	case id == "" || len(id) > 64:
		return errorf(ErrInvalid, "%s id must be 1 to 64 characters", what)
	case key == "" && len(hash) != sha256.Size:
		return errorf(ErrInvalid, "%s %q needs an API key or its SHA-256 hash", what, id)
	case key != "" && len(key) < minAPIKeyLen:
		return errorf(ErrInvalid, "%s %q: API keys must have at least %d characters", what, id, minAPIKeyLen)
	}
	return nil
}

// HashAPIKey returns the hash under which a till's API key is stored.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// AuthenticateTill returns the till whose API key is key. It returns
// ErrUnauthenticated for an unknown key.
func (s *Service) AuthenticateTill(ctx context.Context, key string) (Till, error) {
	return authenticateKey(ctx, s, "store", key, Tx.TillByKeyHash, func(t Till) []byte { return t.KeyHash })
}

// authenticateKey returns the holder (a till, an operator) of API key key,
// found by its hash with byHash; what names the kind of key in errors. It
// returns ErrUnauthenticated for a missing, malformed or unknown key.
func authenticateKey[T any](ctx context.Context, s *Service, what, key string,
	byHash func(Tx, context.Context, []byte) (T, error), hashOf func(T) []byte) (T, error) {
	var holder T
	if key == "" || len(key) > 256 {
		return holder, errorf(ErrUnauthenticated, "%s API key missing or malformed", what)
	}
	want := HashAPIKey(key)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		holder, err = byHash(tx, ctx, want)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && !constantTimeEqual(hashOf(holder), want)) {
		var zero T
		return zero, errorf(ErrUnauthenticated, "unknown %s API key", what)
	}
	return holder, err
}

// constantTimeEqual reports whether a and b are equal, in time that depends
// only on their lengths.
func constantTimeEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Program returns the program with the given id, or an ErrNotFound error.
func (s *Service) Program(ctx context.Context, id string) (Program, error) {
	var p Program
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p, err = tx.Program(ctx, id)
		return err
	})
	return p, err
}
