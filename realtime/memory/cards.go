package memory

import (
	"context"

	"github.com/treue/treue/loyalty"
)

// Card returns the cached state of key; ok is false when there is none. It
// returns ctx.Err() if ctx is done and ErrClosed after Close.
func (b *Broker) Card(ctx context.Context, key loyalty.CardKey) (loyalty.CardState, bool, error) {
	if err := ctx.Err(); err != nil {
		return loyalty.CardState{}, false, err
	}
	b.cardsMu.Lock()
	defer b.cardsMu.Unlock()
	if b.cards == nil {
		return loyalty.CardState{}, false, ErrClosed
	}
	st, ok := b.cards[key]
	return st, ok, nil
}

// PutCard caches st unless the cache holds the card at a newer version; a
// state at the cached version replaces it, which refreshes its time-based
// fields. It reports whether st was stored, and returns ctx.Err() if ctx is
// done and ErrClosed after Close.
func (b *Broker) PutCard(ctx context.Context, st loyalty.CardState) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key := st.Key()
	b.cardsMu.Lock()
	defer b.cardsMu.Unlock()
	if b.cards == nil {
		return false, ErrClosed
	}
	cur, ok := b.cards[key]
	if ok && cur.Version > st.Version {
		return false, nil
	}
	if !ok && len(b.cards) >= b.maxCards {
		b.evictOne()
	}
	b.cards[key] = st
	return true, nil
}

// evictOne removes one card, the first that map iteration yields, which Go
// randomises. A random victim keeps eviction O(1) without bookkeeping on
// reads; an evicted card is read again from the store. cardsMu must be held.
func (b *Broker) evictOne() {
	for k := range b.cards {
		delete(b.cards, k)
		return
	}
}

// DeleteCard removes the cached state of key. It returns ctx.Err() if ctx
// is done and ErrClosed after Close.
func (b *Broker) DeleteCard(ctx context.Context, key loyalty.CardKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.cardsMu.Lock()
	defer b.cardsMu.Unlock()
	if b.cards == nil {
		return ErrClosed
	}
	delete(b.cards, key)
	return nil
}
