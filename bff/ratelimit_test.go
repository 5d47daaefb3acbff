package bff_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
)

// unlimitedRates turn the rate limits off: newEnvWith's default, as the
// tests call far faster than any member or till.
var unlimitedRates = bff.Rates{Customer: math.Inf(1), Till: math.Inf(1), Operator: math.Inf(1)}

// testRates are low enough that back-to-back calls exhaust a bucket even on
// a busy machine (a token per second), and high enough that waiting for the
// next token is quick.
var testRates = bff.Rates{
	Customer: 1, CustomerBurst: 3,
	Till: 1, TillBurst: 3,
	Operator: 1, OperatorBurst: 3,
}

func newLimitedEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, openSQLite(t), memory.New(), func(c *bff.Config) { c.Rates = testRates })
}

// exhaust calls call until it is refused, and returns the refusal.
func exhaust(t testing.TB, call func() error) *connect.Error {
	t.Helper()
	for range 100 {
		err := call()
		var ce *connect.Error
		if connect.CodeOf(err) == connect.CodeResourceExhausted && errors.As(err, &ce) {
			return ce
		}
	}
	t.Fatal("100 calls in a row, none refused")
	return nil
}

// checkRefusal fails unless err refuses a call for its rate, and returns
// its RetryInfo's delay.
func checkRefusal(t testing.TB, err error) time.Duration {
	t.Helper()
	var ce *connect.Error
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !errors.As(err, &ce) {
		t.Fatalf("got %v, want resource_exhausted", err)
	}
	if !strings.HasPrefix(ce.Message(), "too many calls: retry in ") {
		t.Errorf("message %q", ce.Message())
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		mustOK(t, err)
		if ri, ok := v.(*errdetails.RetryInfo); ok {
			delay := ri.GetRetryDelay().AsDuration()
			// At most a token's time (a second) plus the rounding up.
			if delay <= 0 || delay > time.Second+time.Millisecond {
				t.Fatalf("RetryInfo delay %v, want in (0, 1s]", delay)
			}
			return delay
		}
	}
	t.Fatalf("no RetryInfo in %v", ce)
	return 0
}

// notRefused fails if err is a rate limit's refusal.
func notRefused(t testing.TB, err error) {
	t.Helper()
	if connect.CodeOf(err) == connect.CodeResourceExhausted {
		t.Fatalf("refused: %v", err)
	}
}

// TestRateLimitPerCustomer exhausts one member's calls, in every protocol:
// another member, the same uid in another program and a till still get
// through; the member's streams are refused too; after the RetryInfo's
// delay the member calls again.
func TestRateLimitPerCustomer(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			alice := e.customer("alice-"+p.name, p)
			bob := e.customer("bob-"+p.name, p)
			enrol(t, alice)
			enrol(t, bob)
			getCard := func(c customer) error {
				_, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
				return err
			}
			refusal := exhaust(t, func() error { return getCard(alice) })
			checkRefusal(t, refusal)

			// Right after: a stream counts as a call, and is refused.
			stream, err := alice.card.WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{}))
			if err == nil {
				got := stream.Receive()
				err = stream.Err()
				// Closed before failing: the server waits for open streams.
				stream.Close()
				if got {
					t.Fatal("WatchCard of an exhausted member went through")
				}
			}
			delay := checkRefusal(t, err)

			mustOK(t, getCard(bob))
			inB := e.customer("alice-"+p.name, p, headers(bff.ProgramHeader, programB))
			notRefused(t, getCard(inB))
			_, err = e.till(tillKeyA, p).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: "9276 0000 0000 0008"}))
			notRefused(t, err)

			time.Sleep(delay)
			mustOK(t, getCard(alice))
		})
	}
}

// TestRateLimitPerTillAndOperator exhausts program A's till and operator:
// program B's, and members, still get through.
func TestRateLimitPerTillAndOperator(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t)
	ctx := context.Background()
	cardA := enrol(t, e.customer("dave", protocols[0]))
	carol := e.customer("carol", protocols[0], headers(bff.ProgramHeader, programB))
	cardB := enrol(t, carol)
	lookup := func(key, card string) error {
		_, err := e.till(key, protocols[0]).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
		return err
	}
	delay := checkRefusal(t, exhaust(t, func() error { return lookup(tillKeyA, cardA) }))
	mustOK(t, lookup(tillKeyB, cardB))

	getRules := func(key string) error {
		_, err := e.admin(key, protocols[0]).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
		return err
	}
	checkRefusal(t, exhaust(t, func() error { return getRules(operatorKeyA) }))
	mustOK(t, getRules(operatorKeyB))
	_, err := carol.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)

	time.Sleep(delay)
	mustOK(t, lookup(tillKeyA, cardA))
}

// BenchmarkRateLimitHTTP measures a GetCard over HTTP with the limits off
// and on (rates no call reaches).
func BenchmarkRateLimitHTTP(b *testing.B) {
	for _, c := range []struct {
		name  string
		rates bff.Rates
	}{
		{"off", unlimitedRates},
		{"on", bff.Rates{Customer: 1e9, CustomerBurst: 1e9, Till: 1e9, TillBurst: 1e9, Operator: 1e9, OperatorBurst: 1e9}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnvWith(b, openSQLite(b), memory.New(), func(cfg *bff.Config) { cfg.Rates = c.rates })
			alice := e.customer("alice", protocols[0])
			enrol(b, alice)
			ctx := context.Background()
			req := connect.NewRequest(&treuev1.GetCardRequest{})
			for b.Loop() {
				if _, err := alice.card.GetCard(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
