package bff_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
)

// slowVerifier is a TokenVerifier that, for the token "dev:slow", waits
// for its context to end and records it: the slowest of calls, bounded by
// nothing but the server.
type slowVerifier struct {
	bff.DevTokens
	mu       sync.Mutex
	deadline time.Time
	err      error
}

func (v *slowVerifier) VerifyIDToken(ctx context.Context, token string) (loyalty.Identity, error) {
	if token != "dev:slow" {
		return v.DevTokens.VerifyIDToken(ctx, token)
	}
	<-ctx.Done()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.deadline, _ = ctx.Deadline()
	v.err = ctx.Err()
	return loyalty.Identity{}, ctx.Err()
}

func (v *slowVerifier) VerifyIDTokenAndCheckRevoked(ctx context.Context, token string) (loyalty.Identity, error) {
	return v.VerifyIDToken(ctx, token)
}

func (v *slowVerifier) seen() (time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.deadline, v.err
}

// TestMaxCallDuration makes unary calls that would never end, asking for 10
// seconds in every protocol (Connect-Timeout-Ms, grpc-timeout): the server
// ends them after MaxCallDuration.
func TestMaxCallDuration(t *testing.T) {
	t.Parallel()
	const maxCall = 100 * time.Millisecond
	v := &slowVerifier{}
	e := newEnvWith(t, openSQLite(t), memory.New(), func(c *bff.Config) {
		c.Verifier = v
		c.MaxCallDuration = maxCall
	})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := e.customer("slow", p).account.GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
			end := time.Now()
			if err == nil {
				t.Fatal("a call that never ends succeeded")
			}
			if ctx.Err() != nil {
				t.Fatalf("the client's 10 seconds ran out: %v", err)
			}
			deadline, cerr := v.seen()
			if cerr != context.DeadlineExceeded {
				t.Fatalf("the handler's context ended with %v, want a deadline", cerr)
			}
			// Set at most maxCall after the call started, so before it ended.
			if deadline.After(end.Add(maxCall)) {
				t.Fatalf("handler's deadline %v is beyond the call's end %v plus %v", deadline, end, maxCall)
			}
		})
	}
}

// TestMaxCallDurationSparesStreams watches a card for several times
// MaxCallDuration: the stream goes on.
func TestMaxCallDurationSparesStreams(t *testing.T) {
	t.Parallel()
	const maxCall = 50 * time.Millisecond
	e := newEnvWith(t, openSQLite(t), memory.New(), func(c *bff.Config) {
		c.MaxCallDuration = maxCall
		c.Heartbeat = maxCall
	})
	alice := e.customer("alice", protocols[0])
	enrol(t, alice)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := alice.card.WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{}))
	mustOK(t, err)
	defer stream.Close()
	start := time.Now()
	n := 0
	for time.Since(start) < 6*maxCall {
		if !stream.Receive() {
			t.Fatalf("stream ended after %v and %d messages: %v", time.Since(start), n, stream.Err())
		}
		n++
	}
	t.Logf("%d messages in %v, MaxCallDuration %v", n, time.Since(start), maxCall)
}
