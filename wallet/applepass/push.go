package applepass

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sideshow/apns2"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/redact"
	"github.com/treue/treue/wallet/internal/coalesce"
	"github.com/treue/treue/wallet/internal/ratelog"
)

// What a pass update push looks like. Apple's Wallet guide asks for an
// empty JSON dictionary sent to the registration's push token with the pass
// type identifier as topic; the device then asks the web service which
// passes changed. The payload carries no alert, badge or sound, so by APNs's
// definition of apns-push-type it is a background push, and APNs requires
// priority 5 for those ("Using priority 10 is an error").
const (
	pushType     = apns2.PushTypeBackground
	pushPriority = apns2.PriorityLow
	// pushTTL is how long APNs keeps trying to deliver a push to a device
	// that is offline; later the device picks up changes when Wallet next
	// refreshes the pass.
	pushTTL = 24 * time.Hour
)

var emptyPayload = []byte("{}")

// Defaults of PusherConfig.
const (
	DefaultPushCoalesce  = 500 * time.Millisecond
	DefaultPushWorkers   = 8
	DefaultPushMaxQueued = 100_000
	DefaultPushRetries   = 3
)

// Limits of the Pusher's work.
const (
	// pushTimeout bounds one attempt, store lookups included.
	pushTimeout = 30 * time.Second
	// firstBackoff is the wait before the second attempt; it doubles
	// up to maxBackoff.
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
	// shutdownGrace is how long Run waits for pushes in flight once its
	// context is done.
	shutdownGrace = 5 * time.Second
	// logEvery bounds how often one kind of failure is logged.
	logEvery = time.Minute
)

// PusherConfig configures a Pusher. Store, Notifier and PassTypeID are
// required; zero limits take their defaults.
type PusherConfig struct {
	Store      Store
	Notifier   Notifier
	PassTypeID string
	// Coalesce is how long a card's first change waits for more: a burst
	// of changes of one card within it sends one push (default 500ms).
	Coalesce time.Duration
	// Workers bounds the cards pushed concurrently (default 8).
	Workers int
	// MaxQueued bounds the cards waiting for a push; changes of further
	// cards are dropped and counted (default 100,000).
	MaxQueued int
	// Retries bounds the attempts of one push answered 429 or 5xx or lost
	// to a network error, with exponential backoff between them (default
	// 3); then the push counts as failed.
	Retries int
	Logger  *slog.Logger
}

// PushStats counts the Pusher's work since it was made.
type PushStats struct {
	// Queued is the number of cards waiting for a push now.
	Queued int
	// Sent counts pushes APNs accepted.
	Sent int64
	// Unregistered counts registrations removed because APNs reported
	// their push token unregistered or invalid.
	Unregistered int64
	// Failed counts pushes given up on: retries exhausted, credentials
	// refused, other rejections, or the store unreadable.
	Failed int64
	// Dropped counts card changes dropped because MaxQueued cards were
	// waiting.
	Dropped int64
}

// Pusher sends the empty APNs pushes that make Apple Wallet fetch a pass
// after its card changed. It is safe for concurrent use.
type Pusher struct {
	cfg   PusherConfig
	log   *slog.Logger
	queue *coalesce.Queue[cardKey, struct{}]

	sent, unregistered, failed, dropped atomic.Int64
	limiter                             *ratelog.Limiter
}

// cardKey names a member's card.
type cardKey struct{ programID, memberID string }

// NewPusher returns a Pusher; call Run to send what CardsChanged queues.
// It panics when cfg lacks a Store, Notifier or PassTypeID.
func NewPusher(cfg PusherConfig) *Pusher {
	if cfg.Store == nil || cfg.Notifier == nil || cfg.PassTypeID == "" {
		panic("applepass: NewPusher needs a Store, a Notifier and a PassTypeID")
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = DefaultPushCoalesce
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultPushWorkers
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultPushMaxQueued
	}
	if cfg.Retries <= 0 {
		cfg.Retries = DefaultPushRetries
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pusher{
		cfg:     cfg,
		log:     log,
		queue:   coalesce.New[cardKey, struct{}](cfg.Coalesce, cfg.MaxQueued, nil),
		limiter: ratelog.New(log, logEvery),
	}
}

// CardsChanged queues a push for each changed card. It never blocks: it is
// called from the writer's goroutine after the commit (it fits
// loyalty.WithChangeHook). A card's first change schedules its push after
// Coalesce; later changes before the push are absorbed, and a change while
// the push is in flight schedules one more. Changes of new cards beyond
// MaxQueued are dropped and counted.
func (p *Pusher) CardsChanged(changes []loyalty.CardChange) {
	now := time.Now()
	dropped := 0
	for _, c := range changes {
		if !p.queue.Add(cardKey{programID: c.State.ProgramID, memberID: c.State.MemberID}, struct{}{}, now) {
			dropped++
		}
	}
	if dropped > 0 {
		p.dropped.Add(int64(dropped))
		p.limiter.Log(slog.LevelWarn, "dropped", "applepass: push queue full, card changes dropped; their passes update when Wallet next refreshes them",
			"dropped", dropped, "max_queued", p.cfg.MaxQueued)
	}
}

// Stats returns the Pusher's counters.
func (p *Pusher) Stats() PushStats {
	return PushStats{
		Queued:       p.queue.Len(),
		Sent:         p.sent.Load(),
		Unregistered: p.unregistered.Load(),
		Failed:       p.failed.Load(),
		Dropped:      p.dropped.Load(),
	}
}

// Run sends queued pushes, Workers cards at a time, until ctx is done. Then
// it returns once the pushes in flight are finished, or after a grace
// period abandons them with a log line; cards still waiting are left (their
// passes update when Wallet next refreshes them). Run may be called again
// after it returned, not concurrently.
func (p *Pusher) Run(ctx context.Context) {
	push := func(stop, work context.Context, k cardKey, _ struct{}) { p.pushCard(stop, work, k) }
	if n := p.queue.Serve(ctx, p.cfg.Workers, shutdownGrace, push); n > 0 {
		p.log.Warn("applepass: stopping: abandoned the pushes still in flight", "grace", shutdownGrace, "in_flight", n)
	}
	if n := p.queue.Len(); n > 0 {
		p.log.Info("applepass: stopping with cards waiting for a push", "cards", n)
	}
}

// pushCard pushes to every device registered for k's pass, if it has one.
// stop is Run's context: once it is done, failed pushes are not retried.
// work carries the requests.
func (p *Pusher) pushCard(stop, work context.Context, k cardKey) {
	ctx, cancel := context.WithTimeout(work, pushTimeout)
	rec, err := p.cfg.Store.Pass(ctx, k.programID, k.memberID, p.cfg.PassTypeID)
	var regs []Registration
	if err == nil {
		regs, err = p.cfg.Store.Registrations(ctx, p.cfg.PassTypeID, rec.Serial)
	}
	cancel()
	if errors.Is(err, loyalty.ErrNotFound) {
		return // most members have no pass
	}
	if err != nil {
		if work.Err() == nil {
			p.failed.Add(1)
			p.limiter.Log(slog.LevelError, "store", "applepass: cannot read a pass's registrations; its devices get no push",
				"program", k.programID, "member", k.memberID, "err", err)
		}
		return
	}
	seen := make(map[string]bool, len(regs))
	for _, r := range regs {
		if seen[r.PushToken] {
			continue
		}
		seen[r.PushToken] = true
		p.push(stop, work, r.PushToken)
	}
}

// push sends one pass update push to token and acts on APNs's answer.
func (p *Pusher) push(stop, work context.Context, token string) {
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(work, pushTimeout)
		res, err := p.cfg.Notifier.PushWithContext(ctx, &apns2.Notification{
			DeviceToken: token,
			Topic:       p.cfg.PassTypeID,
			Payload:     emptyPayload,
			PushType:    pushType,
			Priority:    pushPriority,
			Expiration:  time.Now().Add(pushTTL),
		})
		cancel()
		if err == nil && res == nil {
			err = errors.New("no response")
		}
		var why string
		switch {
		case err != nil && work.Err() != nil:
			return // abandoned at shutdown
		case err != nil:
			// The error may quote the request's URL, which holds the token.
			why = redact.TokensIn(err.Error(), token)
		case res.StatusCode == http.StatusOK:
			p.sent.Add(1)
			return
		case res.StatusCode == http.StatusGone:
			before := res.Timestamp.Time
			if before.IsZero() {
				before = time.Now()
			}
			p.unregister(work, token, before, res.Reason)
			return
		case res.StatusCode == http.StatusBadRequest &&
			(res.Reason == apns2.ReasonBadDeviceToken || res.Reason == apns2.ReasonDeviceTokenNotForTopic):
			p.unregister(work, token, time.Now(), res.Reason)
			return
		case res.StatusCode == http.StatusForbidden:
			p.failed.Add(1)
			p.limiter.Log(slog.LevelError, "auth", "applepass: APNs refused our credentials; no pass update pushes go out",
				"status", res.StatusCode, "reason", res.Reason, "topic", p.cfg.PassTypeID)
			return
		case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
			why = res.Reason
		default:
			p.failed.Add(1)
			p.limiter.Log(slog.LevelError, "rejected", "applepass: APNs rejected a push",
				"token", redact.Token(token), "status", res.StatusCode, "reason", res.Reason)
			return
		}
		if attempt >= p.cfg.Retries {
			p.failed.Add(1)
			p.limiter.Log(slog.LevelWarn, "failed", "applepass: push failed after retries",
				"token", redact.Token(token), "attempts", attempt, "last_error", why)
			return
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-t.C:
		case <-stop.Done():
			t.Stop()
			return // not retried at shutdown
		}
	}
}

// unregister removes the registrations of token made at or before before,
// which APNs reported unusable for reason.
func (p *Pusher) unregister(ctx context.Context, token string, before time.Time, reason string) {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	n, err := p.cfg.Store.DeleteRegistrationsByToken(ctx, p.cfg.PassTypeID, token, before)
	if err != nil {
		p.limiter.Log(slog.LevelError, "store", "applepass: cannot remove an unregistered push token",
			"token", redact.Token(token), "reason", reason, "err", err)
		return
	}
	p.unregistered.Add(int64(n))
	p.log.Info("applepass: removed registrations of a push token APNs rejected",
		"token", redact.Token(token), "reason", reason, "as_of", before, "removed", n)
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
