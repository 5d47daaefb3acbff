// Package realtime keeps members' cards current everywhere: it caches card
// states, delivers committed card changes from the outbox to every replica,
// and fans them out to the apps watching a card.
//
// The Broker is the shared part (Valkey in production, in-process by
// default); the Hub is each replica's part.
package realtime

import (
	"context"

	"github.com/treue/treue/loyalty"
)

// Broker is the cache and change feed that replicas share. Implementations:
// realtime/valkey (github.com/valkey-io/valkey-go) and realtime/memory (one
// process). realtime/realtimetest holds the suite both pass.
type Broker interface {
	// Card returns the cached state of the card key; ok is false when the
	// cache has none.
	Card(ctx context.Context, key loyalty.CardKey) (st loyalty.CardState, ok bool, err error)
	// PutCard caches st unless the cache holds the same card at a newer
	// version. It reports whether st was stored.
	PutCard(ctx context.Context, st loyalty.CardState) (stored bool, err error)
	// DeleteCard removes the cached state of the card key, if any; the
	// erasure of a member calls it.
	DeleteCard(ctx context.Context, key loyalty.CardKey) error
	// Publish sends c to every replica's Listen.
	Publish(ctx context.Context, c loyalty.CardChange) error
	// Listen calls fn with every change published after it called ready,
	// until ctx ends or the connection to the shared server breaks; it
	// returns ctx.Err() or the error that broke it. Changes published while
	// no Listen runs are lost: the Hub reads the cards again after a break.
	// fn runs on Listen's goroutine and must not block.
	Listen(ctx context.Context, ready func(), fn func(loyalty.CardChange)) error
	// Close releases the broker's connections.
	Close() error
}
