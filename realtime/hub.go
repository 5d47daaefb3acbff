package realtime

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/treue/treue/loyalty"
)

// CardSource is where the Hub reads cards and the outbox: the
// loyalty.Service.
type CardSource interface {
	CardState(ctx context.Context, c loyalty.Customer) (loyalty.CardState, error)
	CardSince(ctx context.Context, c loyalty.Customer, afterVersion int64) (loyalty.CardState, []loyalty.Entry, bool, error)
	ClaimCardChanges(ctx context.Context, writtenBefore time.Time, lease time.Duration, limit int) ([]loyalty.CardChange, error)
	DeleteCardChanges(ctx context.Context, seqs []int64) error
	Now() time.Time
}

// Config holds the Hub's limits and intervals. Zero fields take the
// defaults below.
type Config struct {
	// BrokerTimeout bounds one call to the broker (default 250ms).
	BrokerTimeout time.Duration
	// SweepInterval is how often the outbox is swept for changes nobody
	// delivered (default 500ms); SweepAge is how old a change must be
	// before the sweep takes it from the replica that wrote it (default
	// 2s); SweepBatch bounds one sweep (default 500); Lease is how long a
	// sweep's claim lasts (default 15s).
	SweepInterval time.Duration
	SweepAge      time.Duration
	SweepBatch    int
	Lease         time.Duration
	// MaxWatchers bounds the open watches of this replica (default 20,000)
	// and MaxWatchersPerCard those of one card (default 5).
	MaxWatchers        int
	MaxWatchersPerCard int
	// WatchBuffer is how many changes a watch can fall behind before it is
	// dropped as too slow (default 16).
	WatchBuffer int
	// PollInterval is how often a watch reads its card from the store while
	// the broker's change feed is down (default 2s); MaxPollRate bounds
	// those reads per second on this replica (default 200), stretching the
	// interval when many watches are open.
	PollInterval time.Duration
	MaxPollRate  int
	// Delivered, when set, is called with the changes the hub has
	// delivered, on one replica: the writer's, or the sweep's for changes
	// the writer left. A change comes again only when a sweep finds it
	// before its deletion from the outbox. It runs on the writer's
	// goroutine and must not block (wallet pushes queue there).
	Delivered func([]loyalty.CardChange)
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.BrokerTimeout, 250*time.Millisecond)
	def(&c.SweepInterval, 500*time.Millisecond)
	def(&c.SweepAge, 2*time.Second)
	def(&c.Lease, 15*time.Second)
	def(&c.PollInterval, 2*time.Second)
	defInt(&c.SweepBatch, 500)
	defInt(&c.MaxWatchers, 20_000)
	defInt(&c.MaxWatchersPerCard, 5)
	defInt(&c.WatchBuffer, 16)
	defInt(&c.MaxPollRate, 200)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Hub is one replica's part of keeping cards current: it reads cards through
// the broker's cache, delivers committed changes to the broker, sweeps the
// outbox for changes nobody delivered, and fans changes out to watches.
type Hub struct {
	src    CardSource
	broker Broker
	cfg    Config
	log    *slog.Logger

	// cacheDown is set while the broker fails; cards are then read from the
	// store, and the cache is used again only after a sweep has delivered
	// every change written before the broker came back.
	cacheDown atomic.Bool
	// listening is set while the change feed runs.
	listening atomic.Bool

	mu       sync.RWMutex
	watches  map[loyalty.CardKey][]*Watch
	nWatches int

	deleted chan int64
	stats   Stats
	floor   versionFloor

	draining  chan struct{}
	drainOnce sync.Once
}

// Stats counts what a Hub did, for logs and tests.
type Stats struct {
	Delivered   atomic.Int64 // changes delivered to the broker
	Swept       atomic.Int64 // changes the sweep delivered
	CacheHits   atomic.Int64
	CacheMisses atomic.Int64
	Dropped     atomic.Int64 // watches dropped as too slow
	Resyncs     atomic.Int64 // watches that read their card again
}

// NewHub returns a Hub over src and broker. Run must run for changes to
// reach watches and the outbox to be swept.
func NewHub(src CardSource, broker Broker, cfg Config) *Hub {
	cfg.setDefaults()
	return &Hub{
		src: src, broker: broker, cfg: cfg, log: cfg.Logger,
		watches:  map[loyalty.CardKey][]*Watch{},
		deleted:  make(chan int64, 4096),
		draining: make(chan struct{}),
	}
}

// Listening reports whether the change feed runs; while it does not,
// watches poll the store.
func (h *Hub) Listening() bool { return h.listening.Load() }

// CacheUp reports whether cards are read from the cache.
func (h *Hub) CacheUp() bool { return !h.cacheDown.Load() }

// Stats returns the Hub's counters.
func (h *Hub) Stats() *Stats { return &h.stats }

// Run listens to the change feed, sweeps the outbox and deletes delivered
// changes until ctx ends. It returns nil then.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { h.listen(ctx) })
	wg.Go(func() { h.deleteDelivered(ctx) })
	wg.Go(func() { h.sweepLoop(ctx) })
	wg.Wait()
	return nil
}

// listen runs the broker's change feed, starting it again with backoff
// when it breaks. Every start and break makes the watches read their cards
// again, for the changes the feed lost meanwhile.
func (h *Hub) listen(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := h.broker.Listen(ctx, func() {
			h.listening.Store(true)
			backoff = 50 * time.Millisecond
			h.resyncAll()
		}, h.fanOut)
		wasListening := h.listening.Swap(false)
		if ctx.Err() != nil {
			return
		}
		if wasListening {
			h.log.Warn("realtime: change feed broke; watches poll the store until it is back", "err", err)
			h.resyncAll()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// brokerFailed notes that the broker failed; the cache is not used until it
// has recovered.
func (h *Hub) brokerFailed(op string, err error) {
	if !h.cacheDown.Swap(true) {
		h.log.Warn("realtime: broker failed; reading cards from the store", "op", op, "err", err)
	}
}
