package bff_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/realtime/valkey"
	"github.com/treue/treue/realtime/valkey/valkeytest"
)

// brokers are the card caches the API is tested over: in process, and a
// real Valkey/Redis server (TREUE_TEST_VALKEY_ADDR).
var brokers = []struct {
	name string
	open func(t testing.TB) realtime.Broker
}{
	{"memory", func(testing.TB) realtime.Broker { return memory.New() }},
	{"valkey", func(t testing.TB) realtime.Broker {
		addr := valkeytest.Addr(t)
		return valkeytest.NewBroker(t, valkey.Config{Addrs: []string{addr}, Prefix: valkeytest.Prefix(t, addr)})
	}},
}

// TestReadAfterWrite posts earns and reads the card right after each, as
// the member's app does: no read may show a balance older than the earn's.
func TestReadAfterWrite(t *testing.T) {
	const members = 8
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			// The full count on Valkey, whose invalidations race the reads.
			earns := 10_000
			if testing.Short() || b.name == "memory" {
				earns = 1_000
			}
			e := newEnvWith(t, openSQLite(t), b.open(t))
			ctx := context.Background()
			till := e.till(tillKeyA, protocols[0])
			var (
				wg       sync.WaitGroup
				stale    atomic.Int64
				hitsFrom = e.hub.Stats().CacheHits.Load()
			)
			for m := range members {
				c := e.customer(fmt.Sprint("raw-", m), protocols[0])
				card := enrol(t, c)
				wg.Go(func() {
					for i := m; i < earns; i += members {
						res, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
							CardNumber: card, AmountMinor: 100, Currency: "EUR", IdempotencyKey: fmt.Sprint("raw-", i),
						}))
						if err != nil {
							t.Error(err)
							return
						}
						got, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
						if err != nil {
							t.Error(err)
							return
						}
						if got.Msg.GetCard().GetBalance() < res.Msg.GetBalance() {
							stale.Add(1)
						}
					}
				})
			}
			wg.Wait()
			hits := e.hub.Stats().CacheHits.Load() - hitsFrom
			t.Logf("%d earns each followed by GetCard: %d stale reads, %d served from the cache", earns, stale.Load(), hits)
			if stale.Load() != 0 {
				t.Errorf("%d stale reads, want 0", stale.Load())
			}
			if hits < int64(earns)*9/10 {
				t.Errorf("only %d of %d reads came from the cache", hits, earns)
			}
		})
	}
}
