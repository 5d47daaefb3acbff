package valkey

import (
	"context"

	vk "github.com/valkey-io/valkey-go"

	"github.com/treue/treue/loyalty"
)

// CardCached reports whether a Card of key is served from the client-side
// cache without asking the server.
func (b *Broker) CardCached(ctx context.Context, key loyalty.CardKey) (bool, error) {
	resp := b.client.DoCache(ctx, b.client.B().Get().Key(b.cardKey(key)).Cache(), b.cfg.LocalTTL)
	if err := resp.Error(); err != nil && !vk.IsValkeyNil(err) {
		return false, err
	}
	return resp.IsCacheHit(), nil
}
