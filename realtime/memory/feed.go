package memory

import (
	"context"
	"sync"

	"github.com/treue/treue/loyalty"
)

// listener is one running Listen: Publish appends to its queue, the Listen
// goroutine takes the queue over in order. The queue grows only while fn
// falls behind, up to the broker's queue size.
type listener struct {
	mu       sync.Mutex
	queue    []loyalty.CardChange
	overflow bool
	// wake has room for one signal: Publish sends one after appending.
	wake chan struct{}
}

// Publish hands c to every running Listen. It never blocks on a listener:
// each Listen has a queue of up to the broker's queue size, and a Listen
// whose queue is full stops with ErrOverflow, which tells its caller to read
// its cards again. Every Listen receives changes in the order Publish was
// called, so changes of one card published one after another stay in order.
// The listeners share c and must not modify it. Publish returns ctx.Err() if
// ctx is done and ErrClosed after Close.
func (b *Broker) Publish(ctx context.Context, c loyalty.CardChange) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed() {
		return ErrClosed
	}
	// One lock for the whole fan-out gives every listener the same order.
	b.feedMu.Lock()
	defer b.feedMu.Unlock()
	for l := range b.listeners {
		l.mu.Lock()
		if len(l.queue) < b.queueSize {
			l.queue = append(l.queue, c)
		} else {
			l.overflow = true
			delete(b.listeners, l)
		}
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Listen calls fn, on Listen's goroutine, with every change published after
// it called ready (which may be nil). It returns ctx.Err() when ctx ends,
// ErrClosed when the broker is closed and ErrOverflow when fn fell behind by
// more than the queue size.
func (b *Broker) Listen(ctx context.Context, ready func(), fn func(loyalty.CardChange)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l := &listener{wake: make(chan struct{}, 1)}
	b.feedMu.Lock()
	if b.closed() {
		b.feedMu.Unlock()
		return ErrClosed
	}
	b.listeners[l] = struct{}{}
	b.feedMu.Unlock()
	defer func() {
		b.feedMu.Lock()
		delete(b.listeners, l)
		b.feedMu.Unlock()
	}()

	if ready != nil {
		ready()
	}
	var batch []loyalty.CardChange
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
			return ErrClosed
		case <-l.wake:
		}
		l.mu.Lock()
		batch, l.queue = l.queue, batch[:0]
		overflow := l.overflow
		l.mu.Unlock()
		if overflow {
			// The caller reads its cards again, so what is queued need
			// not be delivered.
			return ErrOverflow
		}
		for i, c := range batch {
			if ctx.Err() != nil || b.closed() {
				break
			}
			fn(c)
			batch[i] = loyalty.CardChange{} // let go of the change
		}
	}
}
