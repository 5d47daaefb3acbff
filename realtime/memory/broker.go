// Package memory is the in-process realtime.Broker: one process's card cache
// and change feed, the default when Treue runs without Valkey.
//
// Replicas share a Broker by sharing the pointer, so the package serves a
// single process; tests that need two replicas give both the same Broker.
package memory

import (
	"errors"
	"sync"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
)

// ErrClosed is returned by every method of a Broker after Close, and by the
// Listen calls that Close ends.
var ErrClosed = errors.New("memory broker closed")

// ErrOverflow is returned by a Listen whose queue of undelivered changes
// filled up because its fn fell behind Publish; the changes that did not fit
// are lost, as on a broken connection.
var ErrOverflow = errors.New("memory broker: listener fell behind")

// Defaults of the options.
const (
	DefaultMaxCards  = 100_000
	DefaultQueueSize = 65_536
)

// Broker is an in-process realtime.Broker. It is safe for concurrent use.
// The zero value is not usable; call New.
type Broker struct {
	maxCards  int
	queueSize int

	cardsMu sync.Mutex
	cards   map[loyalty.CardKey]loyalty.CardState

	feedMu    sync.Mutex
	listeners map[*listener]struct{}

	closeOnce sync.Once
	done      chan struct{}
}

var _ realtime.Broker = (*Broker)(nil)

// Option configures New.
type Option func(*Broker)

// WithMaxCards bounds how many card states the broker caches (default
// DefaultMaxCards). When it is full, storing a new card evicts another one,
// chosen at random. Values below 1 select the default.
func WithMaxCards(n int) Option {
	return func(b *Broker) {
		if n > 0 {
			b.maxCards = n
		}
	}
}

// WithQueueSize sets how many changes each Listen may have waiting for its
// fn (default DefaultQueueSize). The queue takes memory only while fn falls
// behind. A Listen whose queue is full returns ErrOverflow instead of
// slowing Publish down. Values below 1 select the default.
func WithQueueSize(n int) Option {
	return func(b *Broker) {
		if n > 0 {
			b.queueSize = n
		}
	}
}

// New returns an empty, open Broker.
func New(opts ...Option) *Broker {
	b := &Broker{
		maxCards:  DefaultMaxCards,
		queueSize: DefaultQueueSize,
		cards:     make(map[loyalty.CardKey]loyalty.CardState),
		listeners: make(map[*listener]struct{}),
		done:      make(chan struct{}),
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Close ends every running Listen, which then returns ErrClosed, and makes
// later calls fail with ErrClosed. It drops the cache. Closing twice is a
// no-op; Close always returns nil.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.done)
		b.cardsMu.Lock()
		b.cards = nil
		b.cardsMu.Unlock()
	})
	return nil
}

// closed reports whether Close has been called.
func (b *Broker) closed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}
