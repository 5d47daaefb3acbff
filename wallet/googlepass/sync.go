package googlepass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/internal/coalesce"
	"github.com/treue/treue/wallet/internal/ratelog"
)

// Google's limits on updates, from the Wallet API's usage guidelines.
const (
	// NotifyLimit notifying updates of one pass in NotifyWindow; Google
	// drops further notifications.
	NotifyLimit  = 3
	NotifyWindow = 24 * time.Hour
	// DefaultSyncRate is the Wallet API's quota per project, in requests
	// per second.
	DefaultSyncRate = 20
)

// Defaults of SyncerConfig.
const (
	DefaultSyncCoalesce  = 2 * time.Second
	DefaultSyncWorkers   = 4
	DefaultSyncMaxQueued = 100_000
	DefaultSyncRetries   = 5
	// DefaultExpiryWarning is how long before points expire the member is
	// warned through the pass.
	DefaultExpiryWarning = 30 * 24 * time.Hour
)

// Limits of the Syncer's work.
const (
	// syncTimeout bounds one attempt of one call, and one store lookup.
	syncTimeout = 30 * time.Second
	// firstBackoff is the wait after the first failed attempt when Google
	// did not say how long to wait; it doubles up to maxBackoff.
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
	// shutdownGrace is how long Run waits for syncs in flight once its
	// context is done.
	shutdownGrace = 5 * time.Second
	logEvery      = time.Minute
)

// Message types of the Wallet API.
const (
	messageText          = "TEXT"
	messageTextAndNotify = "TEXT_AND_NOTIFY"
)

// SyncerConfig configures a Syncer. Store, API, Cards and IssuerID are
// required; zero limits take their defaults.
type SyncerConfig struct {
	Store Store
	API   WalletAPI
	Cards SyncCards
	// IssuerID is the issuer the objects belong to (ValidIssuerID).
	IssuerID string
	Links    AppLinks
	// Coalesce is how long a card's first change waits for more: a burst
	// of changes of one card within it makes one update (default 2s).
	Coalesce time.Duration
	// Rate bounds the requests per second this replica sends to Google
	// (default DefaultSyncRate, Google's quota for the whole project:
	// with several replicas, give each its share).
	Rate float64
	// Workers bounds the cards synced concurrently (default 4).
	Workers int
	// MaxQueued bounds the cards waiting; changes of further cards are
	// dropped and counted (default 100,000).
	MaxQueued int
	// Retries bounds the attempts of a call answered 429 or 5xx or lost
	// to a network error (default 5).
	Retries int
	// ExpiryWarning is how long before points expire a sync warns the
	// member (default DefaultExpiryWarning).
	ExpiryWarning time.Duration
	// SyncUnsaved also writes the objects of members no callback reported
	// saving them: for development, where Google sends no callbacks.
	SyncUnsaved bool
	// Now is the clock of notifications and expiry warnings; nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// SyncCards is what a Syncer reads of the ledger. *loyalty.Service
// implements it.
type SyncCards interface {
	MemberCardState(ctx context.Context, k loyalty.MemberKey) (loyalty.CardState, error)
	Program(ctx context.Context, id string) (loyalty.Program, error)
}

// SyncStats counts a Syncer's work since it was made.
type SyncStats struct {
	// Queued is the number of cards waiting now.
	Queued int
	// Patched counts objects written (patched, or inserted when Google
	// had none).
	Patched int64
	// Skipped counts card changes of members without the pass in their
	// wallet.
	Skipped int64
	// Notified counts messages sent with a notification; Unnotified those
	// sent as text only because the pass had had NotifyLimit
	// notifications in NotifyWindow.
	Notified, Unnotified int64
	// Failed counts syncs given up on; Dropped card changes dropped
	// because MaxQueued cards were waiting.
	Failed, Dropped int64
}

// Syncer keeps members' Google Wallet objects in step with their cards:
// it patches an object when its card changes, and adds a notifying
// message when the member's tier changed or points are about to expire.
// It is safe for concurrent use.
type Syncer struct {
	cfg   SyncerConfig
	log   *slog.Logger
	logs  *ratelog.Limiter
	queue *coalesce.Queue[syncKey, loyalty.CardState]
	rate  *rate.Limiter

	patched, skipped, notified, unnotified, failed, dropped atomic.Int64
}

// syncKey names a member's card.
type syncKey struct{ programID, memberID string }

// NewSyncer returns a Syncer; call Run to sync what CardsChanged queues.
// It returns an error when cfg lacks a Store, API or Cards, or IssuerID is
// invalid.
func NewSyncer(cfg SyncerConfig) (*Syncer, error) {
	if cfg.Store == nil || cfg.API == nil || cfg.Cards == nil {
		return nil, errors.New("googlepass: NewSyncer needs a Store, an API and Cards")
	}
	if err := ValidIssuerID(cfg.IssuerID); err != nil {
		return nil, err
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = DefaultSyncCoalesce
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultSyncRate
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultSyncWorkers
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultSyncMaxQueued
	}
	if cfg.Retries <= 0 {
		cfg.Retries = DefaultSyncRetries
	}
	if cfg.ExpiryWarning <= 0 {
		cfg.ExpiryWarning = DefaultExpiryWarning
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{
		cfg:   cfg,
		log:   log,
		logs:  ratelog.New(log, logEvery),
		queue: coalesce.New[syncKey](cfg.Coalesce, cfg.MaxQueued, newerState),
		// A burst of one second's worth, then the rate.
		rate: rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate))),
	}, nil
}

// newerState returns the later of two states of a card; a zero state
// (read the card when syncing) loses to any.
func newerState(old, new loyalty.CardState) loyalty.CardState {
	if new.Version >= old.Version {
		return new
	}
	return old
}

// CardsChanged queues a sync of each changed card. It never blocks: it is
// called from the writer's goroutine after the commit, or by the real-time
// hub after delivering (realtime.Config.Delivered).
func (s *Syncer) CardsChanged(changes []loyalty.CardChange) {
	now := time.Now()
	dropped := 0
	for _, c := range changes {
		if !s.queue.Add(syncKey{c.State.ProgramID, c.State.MemberID}, c.State, now) {
			dropped++
		}
	}
	s.countDropped(dropped)
}

// PassSaved queues a sync of the member's object, read from the ledger
// when it is due: after a save callback, so an object saved from a link
// that carried only its essentials gets its texts and links.
func (s *Syncer) PassSaved(programID, memberID string) {
	if !s.queue.Add(syncKey{programID, memberID}, loyalty.CardState{}, time.Now()) {
		s.countDropped(1)
	}
}

func (s *Syncer) countDropped(n int) {
	if n == 0 {
		return
	}
	s.dropped.Add(int64(n))
	s.logs.Log(slog.LevelWarn, "dropped", "googlepass: sync queue full, card changes dropped; their objects update with the next change",
		"dropped", n, "max_queued", s.cfg.MaxQueued)
}

// Stats returns the Syncer's counters.
func (s *Syncer) Stats() SyncStats {
	return SyncStats{
		Queued:     s.queue.Len(),
		Patched:    s.patched.Load(),
		Skipped:    s.skipped.Load(),
		Notified:   s.notified.Load(),
		Unnotified: s.unnotified.Load(),
		Failed:     s.failed.Load(),
		Dropped:    s.dropped.Load(),
	}
}

// Run syncs queued cards, Workers at a time, until ctx is done. Then it
// returns once the syncs in flight are finished, or after a grace period
// abandons them; cards still waiting are left (their objects update with
// the next change). Run may be called again after it returned, not
// concurrently.
func (s *Syncer) Run(ctx context.Context) {
	if n := s.queue.Serve(ctx, s.cfg.Workers, shutdownGrace, s.sync); n > 0 {
		s.log.Warn("googlepass: stopping: abandoned the syncs still in flight", "grace", shutdownGrace, "in_flight", n)
	}
	if n := s.queue.Len(); n > 0 {
		s.log.Info("googlepass: stopping with cards waiting for a sync", "cards", n)
	}
}

// sync writes k's object as st shows the card (read now when st is zero),
// with the messages the change calls for. stop is Run's context: once it
// is done, failed calls are not retried. work carries the calls.
func (s *Syncer) sync(stop, work context.Context, k syncKey, st loyalty.CardState) {
	pass, p, st, err := s.load(work, k, st)
	switch {
	case errors.Is(err, errNotInWallet):
		s.skipped.Add(1)
		return
	case err != nil:
		if work.Err() == nil {
			s.failed.Add(1)
			s.logs.Log(slog.LevelError, "store", "googlepass: cannot read a card to sync; its object stays as it is until the next change",
				"program", k.programID, "member", k.memberID, "err", err)
		}
		return
	}
	obj := NewLoyaltyObject(s.cfg.IssuerID, p, st, s.cfg.Links)
	if err := s.writeObject(stop, work, obj); err != nil {
		s.fail(work, "googlepass: cannot update an object; it shows the card as it was until the next change", obj.Id, err)
		return
	}
	s.patched.Add(1)

	now := s.cfg.Now()
	tier, warned := pass.Tier, time.Time{}
	for _, m := range s.messages(pass, p, st, now) {
		if err := s.sendMessage(stop, work, k, obj.Id, m); err != nil {
			// Left unrecorded, the message is tried again next time.
			s.fail(work, "googlepass: cannot add a message to an object", obj.Id, err)
			continue
		}
		switch m.kind {
		case messageTier:
			tier = m.tier
		case messageExpiry:
			warned = m.expiry
		}
	}
	if pass.SyncedAt.IsZero() {
		tier = tierKey(st) // the first sync shows the tier without a message
	}
	ctx, cancel := context.WithTimeout(work, syncTimeout)
	defer cancel()
	if err := s.cfg.Store.MarkSynced(ctx, k.programID, k.memberID, now, tier, warned); err != nil && work.Err() == nil {
		s.logs.Log(slog.LevelError, "store", "googlepass: cannot record a sync; its messages may be sent again",
			"object", obj.Id, "err", err)
	}
}

// errNotInWallet says a member's object is not to be written: there is no
// pass, or it is not in their wallet.
var errNotInWallet = errors.New("googlepass: not in the member's wallet")

// load returns k's pass, program and card (st, or read now when zero), or
// errNotInWallet when the object is not to be written.
func (s *Syncer) load(ctx context.Context, k syncKey, st loyalty.CardState) (Pass, loyalty.Program, loyalty.CardState, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	pass, err := s.cfg.Store.Pass(ctx, k.programID, k.memberID)
	if errors.Is(err, loyalty.ErrNotFound) || (err == nil && !pass.Saved && !s.cfg.SyncUnsaved) {
		return Pass{}, loyalty.Program{}, st, errNotInWallet
	}
	if err != nil {
		return Pass{}, loyalty.Program{}, st, err
	}
	if st.MemberID == "" {
		if st, err = s.cfg.Cards.MemberCardState(ctx, loyalty.MemberKey{ProgramID: k.programID, MemberID: k.memberID}); err != nil {
			return Pass{}, loyalty.Program{}, st, err
		}
	}
	p, err := s.cfg.Cards.Program(ctx, k.programID)
	return pass, p, st, err
}

// writeObject patches obj, or inserts it when Google has none: it was
// never saved from a link, or Google lost it.
func (s *Syncer) writeObject(stop, work context.Context, obj *walletobjects.LoyaltyObject) error {
	err := s.call(stop, work, func(ctx context.Context) error { return s.cfg.API.PatchObject(ctx, obj) })
	if statusOf(err) != http.StatusNotFound {
		return err
	}
	err = s.call(stop, work, func(ctx context.Context) error { return s.cfg.API.InsertObject(ctx, obj) })
	if statusOf(err) == http.StatusConflict {
		// Saved from a link in the meantime.
		err = s.call(stop, work, func(ctx context.Context) error { return s.cfg.API.PatchObject(ctx, obj) })
	}
	return err
}

// sendMessage adds m to the object, notifying when m may notify and the
// pass has notifications left in the window.
func (s *Syncer) sendMessage(stop, work context.Context, k syncKey, objectID string, m message) error {
	ctx, cancel := context.WithTimeout(work, syncTimeout)
	ok, err := s.cfg.Store.ReserveNotification(ctx, k.programID, k.memberID, s.cfg.Now(), NotifyWindow, NotifyLimit)
	cancel()
	if err != nil {
		return fmt.Errorf("reserve a notification: %w", err)
	}
	m.msg.MessageType = messageText
	if ok {
		m.msg.MessageType = messageTextAndNotify
	}
	if err := s.call(stop, work, func(ctx context.Context) error { return s.cfg.API.AddMessage(ctx, objectID, m.msg) }); err != nil {
		return err
	}
	if ok {
		s.notified.Add(1)
	} else {
		s.unnotified.Add(1)
	}
	return nil
}

// call runs one API call within the rate, trying again with backoff (or
// after the wait Google asked for) while it fails with a 429, a 5xx or a
// network error, up to Retries attempts or until stop is done.
func (s *Syncer) call(stop, work context.Context, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := s.rate.Wait(work); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(work, syncTimeout)
		err := fn(ctx)
		cancel()
		if err == nil || work.Err() != nil {
			return err
		}
		var apiErr *APIError
		wait := backoff(attempt)
		if errors.As(err, &apiErr) {
			if !apiErr.Temporary() {
				return err
			}
			if apiErr.RetryAfter > 0 {
				wait = apiErr.RetryAfter
			}
		}
		if attempt >= s.cfg.Retries {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stop.Done():
			t.Stop()
			return err // not retried at shutdown
		}
	}
}

// fail counts a failed sync and logs it, unless Run abandoned it.
func (s *Syncer) fail(work context.Context, msg, objectID string, err error) {
	if work.Err() != nil {
		return
	}
	s.failed.Add(1)
	kind := "failed"
	if st := statusOf(err); st == http.StatusUnauthorized || st == http.StatusForbidden {
		kind, msg = "auth", "googlepass: Google refused our credentials; no objects are updated"
	}
	s.logs.Log(slog.LevelError, kind, msg, "object", objectID, "err", err)
}

// backoff returns the wait after the attempt-th attempt failed: doubling
// from firstBackoff up to maxBackoff, ±20%.
func backoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 16 {
		d = min(firstBackoff<<(attempt-1), maxBackoff)
	}
	return d*8/10 + rand.N(d*4/10+1)
}
