package realtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/treue/treue/loyalty"
)

// Errors of watches; the bff maps them to resource_exhausted.
var (
	// ErrTooManyWatches: the card or the replica has as many watches as it
	// allows.
	ErrTooManyWatches = errors.New("too many watches")
	// ErrTooSlow: the watcher fell too far behind and was dropped.
	ErrTooSlow = errors.New("watcher too slow")
	// ErrDraining: the replica is shutting down; the app reconnects.
	ErrDraining = errors.New("server shutting down")
)

// Cause says why an Update was sent.
type Cause int

// The causes of updates.
const (
	CauseInitial Cause = iota + 1
	CauseChange
	CauseTime
	CauseResync
)

// Update is what a watch reports: the card after a change and the ledger
// entries written since the previous update.
type Update struct {
	Cause   Cause
	State   loyalty.CardState
	Entries []loyalty.Entry
	// Truncated says that more entries were written than Entries holds.
	Truncated bool
}

// Watch follows one customer's card. Its methods are for one goroutine.
type Watch struct {
	hub      *Hub
	customer loyalty.Customer
	key      loyalty.CardKey
	// changes carries changes from the feed; nil asks for a resync.
	changes chan *loyalty.CardChange
	// dropped is closed when the watch fell too far behind.
	dropped   chan struct{}
	dropOnce  sync.Once
	last      loyalty.CardState
	timer     *time.Timer
	closeOnce sync.Once
}

// Watch starts following the customer's card and returns the first
// update: the card as it is, with the entries written after sinceVersion
// when resume is set. The caller must Close the watch. It returns
// ErrTooManyWatches, or the store's errors (loyalty.ErrNotEnrolled,
// loyalty.ErrInvalid for a negative version).
func (h *Hub) Watch(ctx context.Context, c loyalty.Customer, sinceVersion int64, resume bool) (*Watch, Update, error) {
	if sinceVersion < 0 {
		return nil, Update{}, fmt.Errorf("%w: since_version must not be negative", loyalty.ErrInvalid)
	}
	w := &Watch{
		hub: h, customer: c, key: loyalty.CardKey(c),
		changes: make(chan *loyalty.CardChange, h.cfg.WatchBuffer),
		dropped: make(chan struct{}),
	}
	// Registered first, so that no change between the read and the
	// registration is lost; the version check drops what the read saw.
	select {
	case <-h.draining:
		return nil, Update{}, ErrDraining
	default:
	}
	if err := h.register(w); err != nil {
		return nil, Update{}, err
	}
	u := Update{Cause: CauseInitial}
	var err error
	if resume {
		u.State, u.Entries, u.Truncated, err = h.src.CardSince(ctx, c, sinceVersion)
	} else {
		u.State, err = h.Card(ctx, c, 0)
	}
	if err != nil {
		w.Close()
		return nil, Update{}, err
	}
	w.last = u.State
	return w, u, nil
}

func (h *Hub) register(w *Watch) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nWatches >= h.cfg.MaxWatchers {
		return fmt.Errorf("%w: this server follows %d cards, its limit", ErrTooManyWatches, h.nWatches)
	}
	if len(h.watches[w.key]) >= h.cfg.MaxWatchersPerCard {
		return fmt.Errorf("%w: %d streams of this card are open, the limit", ErrTooManyWatches, len(h.watches[w.key]))
	}
	h.watches[w.key] = append(h.watches[w.key], w)
	h.nWatches++
	return nil
}

// Close stops the watch.
func (w *Watch) Close() {
	w.closeOnce.Do(func() {
		h := w.hub
		h.mu.Lock()
		ws := h.watches[w.key]
		for i, o := range ws {
			if o == w {
				ws[i] = ws[len(ws)-1]
				ws = ws[:len(ws)-1]
				h.nWatches--
				break
			}
		}
		if len(ws) == 0 {
			delete(h.watches, w.key)
		} else {
			h.watches[w.key] = ws
		}
		h.mu.Unlock()
		if w.timer != nil {
			w.timer.Stop()
		}
	})
}

// Watches returns how many watches are open on this replica.
func (h *Hub) Watches() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.nWatches
}

// fanOut hands a change from the feed to the watches of its card, without
// blocking: a watch whose buffer is full is dropped.
func (h *Hub) fanOut(c loyalty.CardChange) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ws := h.watches[c.State.Key()]
	if len(ws) == 0 {
		return
	}
	p := &c
	for _, w := range ws {
		w.offer(p)
	}
}

// resyncAll asks every watch to read its card again.
func (h *Hub) resyncAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ws := range h.watches {
		for _, w := range ws {
			w.offer(nil)
		}
	}
}

func (w *Watch) offer(c *loyalty.CardChange) {
	select {
	case w.changes <- c:
	default:
		if c == nil {
			// A resync is already due if the buffer is full of changes
			// the watcher has not read.
			return
		}
		w.dropOnce.Do(func() {
			w.hub.stats.Dropped.Add(1)
			close(w.dropped)
		})
	}
}

// Next waits for the next update of the card. It returns ok false when
// nothing changed within idle (time for a heartbeat), ErrTooSlow when the
// watch was dropped, ctx's error when ctx ends, and the store's errors.
func (w *Watch) Next(ctx context.Context, idle time.Duration) (u Update, ok bool, err error) {
	h := w.hub
	deadline := time.Now().Add(idle)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return Update{}, false, nil
		}
		if !w.last.ValidUntil.IsZero() {
			if d := w.last.ValidUntil.Sub(h.src.Now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !h.listening.Load() {
			// The change feed is down: poll the store.
			wait = min(wait, h.pollInterval())
		}
		if w.timer == nil {
			w.timer = time.NewTimer(wait)
		} else {
			w.timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return Update{}, false, ctx.Err()
		case <-w.dropped:
			return Update{}, false, ErrTooSlow
		case <-h.draining:
			return Update{}, false, ErrDraining
		case c := <-w.changes:
			if c == nil {
				u, ok, err = w.reread(ctx)
			} else {
				u, ok, err = w.apply(ctx, c)
			}
		case <-w.timer.C:
			if time.Now().Before(deadline) {
				u, ok, err = w.reread(ctx)
			}
		}
		if err != nil || ok {
			return u, ok, err
		}
	}
}

// apply turns change c into an update, or reads the card again when a
// change was missed. ok is false when c is old news.
func (w *Watch) apply(ctx context.Context, c *loyalty.CardChange) (Update, bool, error) {
	if c.State.Version <= w.last.Version {
		return Update{}, false, nil
	}
	if c.FromVersion > w.last.Version {
		return w.reread(ctx)
	}
	u := Update{Cause: CauseChange, State: c.State}
	for _, e := range c.Entries {
		if e.Version > w.last.Version {
			u.Entries = append(u.Entries, e)
		}
	}
	w.last = c.State
	return u, true, nil
}

// reread reads the card and the entries since the last update from the
// store; ok is false when nothing changed.
func (w *Watch) reread(ctx context.Context) (Update, bool, error) {
	w.hub.stats.Resyncs.Add(1)
	st, entries, more, err := w.hub.src.CardSince(ctx, w.customer, w.last.Version)
	if err != nil {
		return Update{}, false, err
	}
	prev := w.last
	w.last = st
	if st.Version != prev.Version {
		return Update{Cause: CauseResync, State: st, Entries: entries, Truncated: more}, true, nil
	}
	if st.Available == prev.Available && st.Pending == prev.Pending &&
		st.NextExpiryPoints == prev.NextExpiryPoints && st.NextExpiry.Equal(prev.NextExpiry) {
		return Update{}, false, nil
	}
	return Update{Cause: CauseTime, State: st}, true, nil
}

// pollInterval is how often each watch reads the store while the feed is
// down: PollInterval, stretched so that all watches together stay under
// MaxPollRate.
func (h *Hub) pollInterval() time.Duration {
	n := h.Watches()
	spread := time.Duration(n) * time.Second / time.Duration(h.cfg.MaxPollRate)
	return max(h.cfg.PollInterval, spread)
}

// Drain ends every watch, now and from now on, with ErrDraining: a server
// calls it before it shuts down, so that open streams do not hold it up.
func (h *Hub) Drain() {
	h.drainOnce.Do(func() { close(h.draining) })
}
