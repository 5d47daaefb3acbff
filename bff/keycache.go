package bff

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// keyCache remembers recently authenticated API keys and whom they belong
// to (a till, an operator), so that a till posting purchases in a row costs
// one key lookup per TTL rather than one per call. A revoked or replaced
// key therefore keeps working for at most TTL. Unknown keys are never
// cached: every wrong guess reaches the store. Each kind of key has its own
// cache, so a key of one kind never passes for another.
type keyCache[T any] struct {
	lookup func(ctx context.Context, key string) (T, error)
	now    func() time.Time
	ttl    time.Duration
	max    int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedKey[T]
}

type cachedKey[T any] struct {
	holder  T
	expires time.Time
}

// Bounds of the key caches.
const (
	keyCacheTTL = 30 * time.Second
	keyCacheMax = 10_000
)

// newKeyCache returns a cache over lookup with the default bounds.
func newKeyCache[T any](lookup func(context.Context, string) (T, error), now func() time.Time) *keyCache[T] {
	return &keyCache[T]{lookup: lookup, now: now, ttl: keyCacheTTL, max: keyCacheMax}
}

// authenticate returns the holder of key, from the cache while fresh.
func (c *keyCache[T]) authenticate(ctx context.Context, key string) (T, error) {
	h := sha256.Sum256([]byte(key))
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.holder, nil
	}
	v, err := c.lookup(ctx, key)
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= c.max {
		// Dropping everything is crude but bounded; a deployment has far
		// fewer tills and operators than max.
		c.entries = make(map[[sha256.Size]byte]cachedKey[T])
	}
	c.entries[h] = cachedKey[T]{holder: v, expires: now.Add(c.ttl)}
	return v, nil
}
