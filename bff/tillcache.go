package bff

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/treue/treue/loyalty"
)

// tillCache remembers recently authenticated till keys, so that a till
// posting purchases in a row costs one key lookup per TTL rather than one
// per call. A revoked or replaced key therefore keeps working for at most
// TTL. Unknown keys are never cached: every wrong guess reaches the store.
type tillCache struct {
	lookup func(ctx context.Context, key string) (loyalty.Till, error)
	now    func() time.Time
	ttl    time.Duration
	max    int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedTill
}

type cachedTill struct {
	till    loyalty.Till
	expires time.Time
}

// Bounds of the till cache.
const (
	tillCacheTTL = 30 * time.Second
	tillCacheMax = 10_000
)

// authenticate returns the till of key, from the cache while fresh.
func (c *tillCache) authenticate(ctx context.Context, key string) (loyalty.Till, error) {
	h := sha256.Sum256([]byte(key))
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.till, nil
	}
	t, err := c.lookup(ctx, key)
	if err != nil {
		return loyalty.Till{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= c.max {
		// Dropping everything is crude but bounded; a deployment has far
		// fewer tills than max.
		c.entries = make(map[[sha256.Size]byte]cachedTill)
	}
	c.entries[h] = cachedTill{till: t, expires: now.Add(c.ttl)}
	return t, nil
}
