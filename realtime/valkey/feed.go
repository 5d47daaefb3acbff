package valkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	vk "github.com/valkey-io/valkey-go"

	"github.com/treue/treue/loyalty"
)

// Publish sends c as JSON with SPUBLISH on the channel of its card. It
// returns valkey-go's errors (ctx.Err() when ctx ends first, ErrClosing
// after Close).
func (b *Broker) Publish(ctx context.Context, c loyalty.CardChange) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("valkey: encode change: %w", err)
	}
	ch := b.channel(c.State.Key())
	cmd := b.client.B().Spublish().Channel(ch).Message(string(data)).Build()
	if err := b.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("valkey: publish to %s: %w", ch, err)
	}
	return nil
}

// Listen subscribes to every change channel with SSUBSCRIBE, calls ready
// (which may be nil) once the server confirmed every subscription, and then
// calls fn with each change, on Listen's goroutine. All changes of a card
// travel on one channel, so they arrive in the order they were published.
//
// The subscriptions run on dedicated connections: one for all channels on a
// single server or behind sentinels, one per channel on a cluster, where
// the channels live in different slots. Unlike Client.Receive, a dedicated
// connection is not resubscribed behind Listen's back when it breaks, so no
// change is lost unnoticed: Listen returns the error instead, and the caller
// reads its cards again and listens anew.
//
// Listen returns ctx.Err() when ctx ends, ErrClosed after Close, the
// connection's error when it breaks, an error when the server ends a
// subscription (a cluster slot moved) and an error for a message it cannot
// decode.
func (b *Broker) Listen(ctx context.Context, ready func(), fn func(loyalty.CardChange)) error {
	select {
	case <-b.done:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	groups := [][]string{b.channels}
	if b.client.Mode() == vk.ClientModeCluster {
		groups = groups[:0]
		for _, ch := range b.channels {
			groups = append(groups, []string{ch})
		}
	}
	subs := newConfirmations(b.channels)
	rctx = vk.WithOnSubscriptionHook(rctx, subs.confirm)
	msgs := make(chan string, 256)
	errc := make(chan error, len(groups))
	for _, g := range groups {
		wg.Go(func() { errc <- b.receive(rctx, g, msgs) })
	}

	confirmed := subs.all
	var in chan string // nil until ready: no change reaches fn before it
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
			return ErrClosed
		case err := <-errc:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case <-b.done:
				return ErrClosed
			default:
			}
			return fmt.Errorf("valkey: listen: %w", err)
		case <-confirmed:
			confirmed, in = nil, msgs
			if ready != nil {
				ready()
			}
		case m := <-in:
			var c loyalty.CardChange
			if err := json.Unmarshal([]byte(m), &c); err != nil {
				return fmt.Errorf("valkey: listen: decode change: %w", err)
			}
			fn(c)
		}
	}
}

// errUnsubscribed is what receive returns when the server ended the
// subscription, which it does when a cluster moves the channel's slot.
var errUnsubscribed = errors.New("subscription ended by the server")

// receive subscribes to channels on a dedicated connection and passes every
// message to msgs, until ctx ends or the subscription or connection does.
// It always returns an error.
func (b *Broker) receive(ctx context.Context, channels []string, msgs chan<- string) error {
	dc, release := b.client.Dedicate()
	// release unsubscribes a healthy connection and returns it to the pool.
	defer release()
	err := dc.Receive(ctx, dc.B().Ssubscribe().Channel(channels...).Build(), func(m vk.PubSubMessage) {
		select {
		case msgs <- m.Message:
		case <-ctx.Done():
		}
	})
	if err == nil {
		err = errUnsubscribed
	}
	return err
}

// confirmations tracks the server's confirmations of the subscriptions of
// one Listen.
type confirmations struct {
	mu      sync.Mutex
	pending map[string]bool
	// all is closed once every channel was confirmed.
	all chan struct{}
}

func newConfirmations(channels []string) *confirmations {
	c := &confirmations{pending: make(map[string]bool, len(channels)), all: make(chan struct{})}
	for _, ch := range channels {
		c.pending[ch] = true
	}
	return c
}

// confirm is the subscription hook. It runs on valkey-go's reading
// goroutine and must not block.
func (c *confirmations) confirm(s vk.PubSubSubscription) {
	if s.Kind != "ssubscribe" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pending[s.Channel] {
		return
	}
	delete(c.pending, s.Channel)
	if len(c.pending) == 0 {
		close(c.all)
	}
}
