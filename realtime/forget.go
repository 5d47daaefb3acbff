package realtime

import (
	"context"
	"fmt"
	"math"

	"github.com/treue/treue/loyalty"
)

// Forget removes the card of an erased member: from the shared cache, and
// from every replica's watches, which read the card again, find no member
// and end. It returns the broker's errors; the caller logs them (the cached
// card expires after its TTL regardless).
func (h *Hub) Forget(ctx context.Context, key loyalty.CardKey) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.BrokerTimeout)
	defer cancel()
	if err := h.broker.DeleteCard(ctx, key); err != nil {
		return fmt.Errorf("forget card: %w", err)
	}
	// A change from a version no watch has seen makes each read the card
	// again (Watch.apply), which fails now that the member is gone.
	gone := loyalty.CardChange{
		FromVersion: math.MaxInt64,
		State:       loyalty.CardState{ProgramID: key.ProgramID, UID: key.UID, Version: math.MaxInt64},
	}
	h.fanOut(gone)
	if err := h.broker.Publish(ctx, gone); err != nil {
		return fmt.Errorf("forget card: %w", err)
	}
	return nil
}
