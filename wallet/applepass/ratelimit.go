package applepass

import (
	"sync"
	"time"
)

// Registration rate limits: a device or a pass may make regBurst
// registration calls at once and one more every regEvery after that. A
// device registers a pass once and again only when its push token changes,
// so honest devices never reach them.
const (
	regBurst        = 10
	regEvery        = 6 * time.Second
	maxLimiterKeys  = 100_000
	deviceLogBurst  = 20
	deviceLogEvery  = 100 * time.Millisecond
	logLimiterKeyID = "\x00log"
)

// registrationLimiter is a set of token buckets keyed by device or pass.
// It holds at most maxLimiterKeys buckets; when full it forgets those that
// are full again, and if none are, it starts over (a flood of new keys is
// then bounded by the store's registration limits).
type registrationLimiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRegistrationLimiter(now func() time.Time) *registrationLimiter {
	return &registrationLimiter{now: now, buckets: map[string]bucket{}}
}

// allow takes a token from each key's bucket with the given burst and
// refill interval. It returns 0 when every bucket had one, else how long
// until the emptiest has one (and takes none).
func (l *registrationLimiter) allow(burst int, every time.Duration, keys ...string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	filled := make([]bucket, len(keys))
	for i, k := range keys {
		b, ok := l.buckets[k]
		if !ok {
			b = bucket{tokens: float64(burst), at: now}
		}
		b.tokens = min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(every))
		b.at = now
		filled[i] = b
		if b.tokens < 1 {
			wait = max(wait, time.Duration((1-b.tokens)*float64(every)))
		}
	}
	if wait > 0 {
		return wait
	}
	if len(l.buckets)+len(keys) > maxLimiterKeys {
		l.forgetFull(now, burst, every)
	}
	for i, k := range keys {
		filled[i].tokens--
		l.buckets[k] = filled[i]
	}
	return 0
}

// forgetFull drops the buckets that have refilled; if that frees nothing,
// it drops them all.
func (l *registrationLimiter) forgetFull(now time.Time, burst int, every time.Duration) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(every) >= float64(burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxLimiterKeys {
		clear(l.buckets)
	}
}
