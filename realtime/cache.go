package realtime

import (
	"context"

	"github.com/treue/treue/loyalty"
)

// Card returns the customer's card, from the cache when it holds the card
// at minVersion or newer and the card has not changed by itself since, and
// from the store otherwise (then caching it). It returns the store's
// errors, e.g. loyalty.ErrNotEnrolled; a failing cache only makes it read
// the store.
func (h *Hub) Card(ctx context.Context, c loyalty.Customer, minVersion int64) (loyalty.CardState, error) {
	key := loyalty.CardKey(c)
	minVersion = max(minVersion, h.floor.get(key))
	if !h.cacheDown.Load() {
		bctx, cancel := context.WithTimeout(ctx, h.cfg.BrokerTimeout)
		st, ok, err := h.broker.Card(bctx, key)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return loyalty.CardState{}, ctx.Err()
			}
			h.brokerFailed("read", err)
		case ok && st.Version >= minVersion && st.FreshAt(h.src.Now()):
			h.stats.CacheHits.Add(1)
			return st, nil
		}
	}
	h.stats.CacheMisses.Add(1)
	st, err := h.src.CardState(ctx, c)
	if err != nil {
		return loyalty.CardState{}, err
	}
	h.fill(ctx, st)
	return st, nil
}

// fill caches st, read from the store. The broker's version check keeps a
// slow read from replacing a newer state a write cached meanwhile.
func (h *Hub) fill(ctx context.Context, st loyalty.CardState) {
	if h.cacheDown.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.BrokerTimeout)
	defer cancel()
	if _, err := h.broker.PutCard(ctx, st); err != nil {
		h.brokerFailed("fill", err)
		return
	}
	h.floor.raise(st.Key(), st.Version)
}
