package realtime

import (
	"context"
	"time"

	"github.com/treue/treue/loyalty"
)

// Committed delivers the changes of a committed write to the broker: it
// caches each new card state and publishes the change. It is the
// loyalty.Service's change hook, so a write returns only after its card is
// cached and a read that follows sees it. A change that cannot be delivered
// stays in the outbox for the sweep.
func (h *Hub) Committed(changes []loyalty.CardChange) {
	if h.cacheDown.Load() {
		// The sweep delivers them once the broker is back, in order.
		return
	}
	for i := range changes {
		if err := h.deliver(&changes[i]); err != nil {
			h.brokerFailed("deliver", err)
			h.delivered(changes[:i])
			return
		}
		h.stats.Delivered.Add(1)
		h.markDelivered(changes[i].Seq)
	}
	h.delivered(changes)
}

// delivered passes delivered changes on to Config.Delivered.
func (h *Hub) delivered(changes []loyalty.CardChange) {
	if h.cfg.Delivered != nil && len(changes) > 0 {
		h.cfg.Delivered(changes)
	}
}

// deliver caches c's card state and publishes c.
func (h *Hub) deliver(c *loyalty.CardChange) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.BrokerTimeout)
	defer cancel()
	if _, err := h.broker.PutCard(ctx, c.State); err != nil {
		return err
	}
	h.floor.raise(c.State.Key(), c.State.Version)
	return h.broker.Publish(ctx, *c)
}

// markDelivered queues seq for deletion from the outbox. When the queue is
// full the change stays, and a sweep delivers it once more (consumers are
// idempotent).
func (h *Hub) markDelivered(seq int64) {
	if seq == 0 {
		return
	}
	select {
	case h.deleted <- seq:
	default:
	}
}

// deleteDelivered deletes delivered changes from the outbox in batches.
func (h *Hub) deleteDelivered(ctx context.Context) {
	const maxBatch = 1000
	batch := make([]int64, 0, maxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Deleting must not stop with the server: a delivered change left
		// behind is delivered again.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := h.src.DeleteCardChanges(dctx, batch); err != nil {
			h.log.Warn("realtime: deleting delivered changes failed; they will be delivered again", "n", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case seq := <-h.deleted:
					batch = append(batch, seq)
					if len(batch) == maxBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		case seq := <-h.deleted:
			batch = append(batch, seq)
			if len(batch) == maxBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// sweepLoop sweeps the outbox every SweepInterval.
func (h *Hub) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(h.cfg.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := h.Sweep(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("realtime: outbox sweep failed", "err", err)
			}
		}
	}
}

// Sweep delivers the changes in the outbox that their writers did not:
// those older than SweepAge, or, while the broker is recovering, every
// change written before the sweep started. When the broker has failed and
// a sweep delivers everything, the cache is used again. It returns the
// store's error; broker errors only keep the cache down.
func (h *Hub) Sweep(ctx context.Context) error {
	start := h.src.Now()
	recovering := h.cacheDown.Load()
	before := start.Add(-h.cfg.SweepAge)
	if recovering {
		// Claim nothing that cannot be delivered: a claim keeps other
		// sweeps off the change until its lease runs out.
		if h.probe(ctx) != nil {
			return nil
		}
		before = start
	}
	for {
		changes, err := h.src.ClaimCardChanges(ctx, before, h.cfg.Lease, h.cfg.SweepBatch)
		if err != nil {
			return err
		}
		for i := range changes {
			if err := h.deliver(&changes[i]); err != nil {
				// The claim runs out and a later sweep tries again.
				h.brokerFailed("sweep", err)
				h.delivered(changes[:i])
				return nil
			}
			h.stats.Swept.Add(1)
			h.markDelivered(changes[i].Seq)
		}
		h.delivered(changes)
		if len(changes) < h.cfg.SweepBatch {
			break
		}
	}
	if recovering {
		if h.cacheDown.CompareAndSwap(true, false) {
			h.log.Info("realtime: broker is back; reading cards from the cache again")
		}
	}
	return nil
}

// probe checks that the broker answers.
func (h *Hub) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.BrokerTimeout)
	defer cancel()
	_, _, err := h.broker.Card(ctx, loyalty.CardKey{ProgramID: "-", UID: "-"})
	if err != nil {
		h.brokerFailed("probe", err)
	}
	return err
}
