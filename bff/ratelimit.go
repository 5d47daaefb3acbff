package bff

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Default per-caller rates. A member's app makes a handful of calls per
// screen (home, card, activity, rewards), so a burst of 30 lets a burst of
// screens through and 10 a second is far above what a person taps; a till
// makes a few calls per sale (look up, earn or redeem, maybe hold and
// capture), so 50 a second with a burst of 100 covers the busiest counter,
// including a replay of calls queued while offline; an operator's console
// is in between. MaxCallers bounds the buckets' memory to about 25 MB
// (250 bytes a bucket with Firebase's 28-character uids; see
// BenchmarkRateLimit).
const (
	DefaultCustomerRate  = 10
	DefaultCustomerBurst = 30
	DefaultTillRate      = 50
	DefaultTillBurst     = 100
	DefaultOperatorRate  = 20
	DefaultOperatorBurst = 40
	DefaultMaxCallers    = 100_000
)

// DefaultRates are the rates that stand in for Rates' zero fields.
var DefaultRates = Rates{
	Customer: DefaultCustomerRate, CustomerBurst: DefaultCustomerBurst,
	Till: DefaultTillRate, TillBurst: DefaultTillBurst,
	Operator: DefaultOperatorRate, OperatorBurst: DefaultOperatorBurst,
	MaxCallers: DefaultMaxCallers,
}

// withDefaults returns r with its zero (or negative) fields set from
// DefaultRates. A rate of +Inf (math.Inf(1), or rate.Inf) stays: it turns
// the limit off for that kind of caller.
func (r Rates) withDefaults() Rates {
	d := DefaultRates
	pick := func(v *float64, def float64) {
		if *v <= 0 || math.IsNaN(*v) {
			*v = def
		}
	}
	pickInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&r.Customer, d.Customer)
	pick(&r.Till, d.Till)
	pick(&r.Operator, d.Operator)
	pickInt(&r.CustomerBurst, d.CustomerBurst)
	pickInt(&r.TillBurst, d.TillBurst)
	pickInt(&r.OperatorBurst, d.OperatorBurst)
	pickInt(&r.MaxCallers, d.MaxCallers)
	return r
}

// callerKind is the kind of an authenticated caller; each has its rates.
type callerKind uint8

const (
	kindCustomer callerKind = iota
	kindTill
	kindOperator
	numKinds
)

// callerKey names one caller's bucket.
type callerKey struct {
	kind    callerKind
	program string
	id      string
}

// callerOf returns the bucket key of ctx's principal, and false when ctx
// has none.
func callerOf(ctx context.Context) (callerKey, bool) {
	p, _ := ctx.Value(principalKey{}).(principal)
	switch {
	case p.customer.UID != "":
		return callerKey{kindCustomer, p.customer.ProgramID, p.customer.UID}, true
	case p.till.ID != "":
		return callerKey{kindTill, p.till.ProgramID, p.till.ID}, true
	case p.operator.ID != "":
		return callerKey{kindOperator, p.operator.ProgramID, p.operator.ID}, true
	}
	return callerKey{}, false
}

// bucket is one caller's token bucket, in its kind's list of buckets by
// last use.
type bucket struct {
	key        callerKey
	lim        *rate.Limiter
	last       time.Time
	prev, next *bucket
}

// bucketList is a list of buckets, the most recently used first.
type bucketList struct {
	head, tail *bucket
}

func (l *bucketList) pushFront(b *bucket) {
	b.prev, b.next = nil, l.head
	if l.head != nil {
		l.head.prev = b
	} else {
		l.tail = b
	}
	l.head = b
}

func (l *bucketList) remove(b *bucket) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		l.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		l.tail = b.prev
	}
	b.prev, b.next = nil, nil
}

// rateLimiter is the interceptor that refuses a caller's calls beyond its
// rate. It runs right after the authenticator and keys its token buckets
// by the principal: a member (program and uid), a till or an operator. A
// server stream counts once, when it starts. It never waits: a refused
// call fails at once with resource_exhausted and a RetryInfo detail.
type rateLimiter struct {
	rates [numKinds]rate.Limit
	burst [numKinds]int
	max   int
	// now is the clock of the buckets: real time, never the domain's
	// (possibly simulated) clock.
	now func() time.Time

	mu      sync.Mutex
	buckets map[callerKey]*bucket
	// byKind holds each kind's buckets by last use, so the longest idle of
	// each kind is at hand.
	byKind [numKinds]bucketList
}

// newRateLimiter returns a limiter of the rates r (zero fields take the
// defaults).
func newRateLimiter(r Rates) *rateLimiter {
	r = r.withDefaults()
	return &rateLimiter{
		rates:   [numKinds]rate.Limit{rate.Limit(r.Customer), rate.Limit(r.Till), rate.Limit(r.Operator)},
		burst:   [numKinds]int{r.CustomerBurst, r.TillBurst, r.OperatorBurst},
		max:     r.MaxCallers,
		now:     time.Now,
		buckets: make(map[callerKey]*bucket),
	}
}

// allow takes a token from key's bucket. It returns 0 when the call may
// go ahead, or else how long until the bucket holds a token again.
func (l *rateLimiter) allow(key callerKey) time.Duration {
	limit := l.rates[key.kind]
	if limit >= rate.Inf {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{key: key, lim: rate.NewLimiter(limit, l.burst[key.kind])}
		l.buckets[key] = b
	} else {
		l.byKind[key.kind].remove(b)
	}
	b.last = now
	l.byKind[key.kind].pushFront(b)
	if b.lim.AllowN(now, 1) {
		return 0
	}
	// A refused call takes nothing, so the wait is for the one token.
	wait := time.Duration((1 - b.lim.TokensAt(now)) / float64(limit) * float64(time.Second))
	// Rounded up to the millisecond, so that a client that waits exactly
	// this long finds its token.
	return max((wait + time.Millisecond - 1).Truncate(time.Millisecond), time.Millisecond)
}

// evict drops one bucket: the longest idle of those that are full again
// (dropping one loses nothing, a new bucket starts full), or when all are
// still refilling, the longest idle of all. l.mu must be held.
func (l *rateLimiter) evict(now time.Time) {
	var full, oldest *bucket
	for k := range numKinds {
		b := l.byKind[k].tail
		if b == nil {
			continue
		}
		if oldest == nil || b.last.Before(oldest.last) {
			oldest = b
		}
		if b.lim.TokensAt(now) >= float64(l.burst[k]) && (full == nil || b.last.Before(full.last)) {
			full = b
		}
	}
	victim := full
	if victim == nil {
		victim = oldest
	}
	if victim == nil {
		return
	}
	l.byKind[victim.key.kind].remove(victim)
	delete(l.buckets, victim.key)
}

// len returns the number of buckets kept.
func (l *rateLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// check returns nil when ctx's caller may call now, or a resource_exhausted
// error saying when to retry. A call without a principal goes ahead: the
// authenticator let it through, and its handler refuses it.
func (l *rateLimiter) check(ctx context.Context) error {
	key, ok := callerOf(ctx)
	if !ok {
		return nil
	}
	wait := l.allow(key)
	if wait == 0 {
		return nil
	}
	return tooManyCalls(wait)
}

// tooManyCalls returns the error of a refused call: resource_exhausted,
// with the wait in its message (in tenths of a second, rounded up) and as
// a RetryInfo detail.
func tooManyCalls(wait time.Duration) error {
	secs := math.Ceil(wait.Seconds()*10) / 10
	err := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("too many calls: retry in %.1fs", secs))
	if d, derr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); derr == nil {
		err.AddDetail(d)
	}
	return err
}

// WrapUnary limits a unary call.
func (l *rateLimiter) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		if err := l.check(ctx); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient leaves client streams alone.
func (l *rateLimiter) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler limits a stream once, when it starts.
func (l *rateLimiter) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := l.check(ctx); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
