package bff

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/treue/treue/loyalty"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestLimiter(r Rates) (*rateLimiter, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)}
	l := newRateLimiter(r)
	l.now = clk.now
	return l, clk
}

func customerKey(uid string) callerKey { return callerKey{kindCustomer, "p", uid} }
func tillKey(id string) callerKey      { return callerKey{kindTill, "p", id} }

// checkConsistent fails unless l's lists hold exactly its map's buckets.
func checkConsistent(t *testing.T, l *rateLimiter) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k := range numKinds {
		var prev *bucket
		for b := l.byKind[k].head; b != nil; b = b.next {
			if b.prev != prev || b.key.kind != k || l.buckets[b.key] != b {
				t.Fatalf("bucket %v misplaced in the list of kind %d", b.key, k)
			}
			prev = b
			n++
		}
		if l.byKind[k].tail != prev {
			t.Fatalf("kind %d: tail is not the last bucket", k)
		}
	}
	if n != len(l.buckets) {
		t.Fatalf("%d buckets in the lists, %d in the map", n, len(l.buckets))
	}
	if n > l.max {
		t.Fatalf("%d buckets, at most %d wanted", n, l.max)
	}
}

func TestLimiterRefusesBeyondBurst(t *testing.T) {
	l, clk := newTestLimiter(Rates{Customer: 2, CustomerBurst: 3})
	alice := customerKey("alice")
	for i := range 3 {
		if d := l.allow(alice); d != 0 {
			t.Fatalf("call %d refused for %v", i+1, d)
		}
	}
	// A token every 500ms; refusals take none.
	for range 2 {
		if d := l.allow(alice); d != 500*time.Millisecond {
			t.Fatalf("refused for %v, want 500ms", d)
		}
	}
	clk.advance(200 * time.Millisecond)
	if d := l.allow(alice); d != 300*time.Millisecond {
		t.Fatalf("refused for %v, want 300ms", d)
	}
	clk.advance(300 * time.Millisecond)
	if d := l.allow(alice); d != 0 {
		t.Fatalf("refused for %v after the delay", d)
	}
	// Other callers have their own buckets.
	if d := l.allow(customerKey("bob")); d != 0 {
		t.Fatalf("bob refused for %v", d)
	}
	if d := l.allow(callerKey{kindCustomer, "other", "alice"}); d != 0 {
		t.Fatalf("alice of another program refused for %v", d)
	}
}

func TestLimiterDefaultsAndOff(t *testing.T) {
	l := newRateLimiter(Rates{Till: 5})
	want := [numKinds]int{DefaultCustomerBurst, DefaultTillBurst, DefaultOperatorBurst}
	if l.burst != want || l.rates[kindTill] != 5 || l.rates[kindCustomer] != DefaultCustomerRate || l.max != DefaultMaxCallers {
		t.Fatalf("rates %v bursts %v max %d", l.rates, l.burst, l.max)
	}
	off, _ := newTestLimiter(Rates{Till: 1, TillBurst: 1, Customer: math.Inf(1)})
	for range 100 {
		if d := off.allow(customerKey("alice")); d != 0 {
			t.Fatalf("refused for %v with the customer limit off", d)
		}
	}
	if off.len() != 0 {
		t.Fatalf("%d buckets kept for unlimited callers", off.len())
	}
}

// TestLimiterEvictsIdleFirst fills a limiter of 3 buckets: a new caller
// evicts the longest idle full bucket, and when none is full, the longest
// idle of all.
func TestLimiterEvictsIdleFirst(t *testing.T) {
	// A customer's bucket refills in 2s, a till's in 200ms.
	l, clk := newTestLimiter(Rates{Customer: 1, CustomerBurst: 2, Till: 10, TillBurst: 2, MaxCallers: 3})
	c1, c2, t1 := customerKey("c1"), customerKey("c2"), tillKey("t1")
	l.allow(c1)
	l.allow(c1) // empty
	clk.advance(100 * time.Millisecond)
	l.allow(t1)
	clk.advance(100 * time.Millisecond)
	l.allow(c2)
	clk.advance(200 * time.Millisecond)
	// c1 is the longest idle but refilling; t1 is full again: t1 goes.
	l.allow(customerKey("c3"))
	checkConsistent(t, l)
	if _, ok := l.buckets[t1]; ok {
		t.Fatal("the full till bucket was kept")
	}
	if d := l.allow(c1); d == 0 {
		t.Fatal("c1's bucket was evicted: it was not full")
	}
	// Now all are refilling: the longest idle (c2) goes.
	l.allow(customerKey("c4"))
	checkConsistent(t, l)
	if _, ok := l.buckets[c2]; ok {
		t.Fatal("the longest idle bucket was kept")
	}
}

func TestLimiterBoundsCallers(t *testing.T) {
	l, clk := newTestLimiter(Rates{Customer: 1, Till: 1, Operator: 1, MaxCallers: 100})
	for i := range 10_000 {
		l.allow(callerKey{callerKind(i % 3), "p", fmt.Sprint(i % 777)})
		clk.advance(time.Millisecond)
		if i%97 == 0 {
			checkConsistent(t, l)
		}
	}
	checkConsistent(t, l)
	if l.len() != 100 {
		t.Fatalf("%d buckets, want 100", l.len())
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := newRateLimiter(Rates{Customer: 1000, CustomerBurst: 10, MaxCallers: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				l.allow(customerKey(fmt.Sprint((g*7 + i) % 120)))
			}
		})
	}
	wg.Wait()
	checkConsistent(t, l)
}

// TestRateLimitInterceptor checks the error of a refused unary call and of
// a refused stream, and that calls without a principal go ahead.
func TestRateLimitInterceptor(t *testing.T) {
	l, _ := newTestLimiter(Rates{Till: 1, TillBurst: 1})
	ctx := context.WithValue(context.Background(), principalKey{}, principal{till: loyalty.Till{ID: "t", ProgramID: "p"}})
	calls := 0
	unary := l.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		calls++
		return nil, nil
	})
	stream := l.WrapStreamingHandler(func(context.Context, connect.StreamingHandlerConn) error {
		calls++
		return nil
	})
	req := connect.NewRequest(&emptypb.Empty{})
	if _, err := unary(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err := unary(ctx, req)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || err.Error() != "resource_exhausted: too many calls: retry in 1.0s" {
		t.Fatalf("got %v", err)
	}
	if err := stream(ctx, nil); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("stream got %v", err)
	}
	for range 5 {
		if _, err := unary(context.Background(), req); err != nil {
			t.Fatalf("call without a principal: %v", err)
		}
	}
	if calls != 6 {
		t.Fatalf("%d calls reached the handler, want 6", calls)
	}
}

// BenchmarkRateLimit measures the limiter on the hot path: a unary call's
// interceptor with a no-op handler, without the limiter ("none") and with
// it, for one caller, for 100,000 callers in turn (a full table), for
// 200,000 callers in turn (every call evicts), and in parallel.
func BenchmarkRateLimit(b *testing.B) {
	next := func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) { return nil, nil }
	req := connect.NewRequest(&emptypb.Empty{})
	callers := func(n int) []context.Context {
		ctxs := make([]context.Context, n)
		for i := range ctxs {
			ctxs[i] = context.WithValue(context.Background(), principalKey{}, principal{customer: loyalty.Customer{ProgramID: "cafe-a", UID: fmt.Sprintf("uid-%022d", i)}})
		}
		return ctxs
	}
	// Rates no caller reaches.
	rates := Rates{Customer: 1e9, CustomerBurst: 1e9}
	run := func(b *testing.B, f connect.UnaryFunc, ctxs []context.Context) {
		i := 0
		for b.Loop() {
			if _, err := f(ctxs[i], req); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(ctxs) {
				i = 0
			}
		}
	}
	one := callers(1)
	many := callers(200_000)
	b.Run("none", func(b *testing.B) { run(b, next, one) })
	b.Run("one-caller", func(b *testing.B) { run(b, newRateLimiter(rates).WrapUnary(next), one) })
	b.Run("100k-callers", func(b *testing.B) {
		l := newRateLimiter(rates)
		f := l.WrapUnary(next)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, ctx := range many[:DefaultMaxCallers] {
			_, _ = f(ctx, req)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perBucket := float64(after.HeapAlloc-before.HeapAlloc) / float64(l.len())
		run(b, f, many[:DefaultMaxCallers])
		// After the loop: b.Loop's first call drops reported metrics.
		b.ReportMetric(perBucket, "B/bucket")
	})
	b.Run("evicting", func(b *testing.B) { run(b, newRateLimiter(rates).WrapUnary(next), many) })
	parallel := func(b *testing.B, f connect.UnaryFunc) {
		ctxs := many[:1000]
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := f(ctxs[i], req); err != nil {
					b.Error(err)
					return
				}
				if i++; i == len(ctxs) {
					i = 0
				}
			}
		})
	}
	b.Run("parallel-none", func(b *testing.B) { parallel(b, next) })
	b.Run("parallel-1000-callers", func(b *testing.B) { parallel(b, newRateLimiter(rates).WrapUnary(next)) })
}
