package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/treue/treue/loyalty"
)

// LeaseName is the store lease the dispatchers of all replicas share: one
// holder sends at a time.
const LeaseName = "notify-dispatcher"

// Limits of a dispatcher.
const (
	// maxBatch bounds Batch: the stores read at most 1000 due messages.
	maxBatch = 1000
	// maxBackoff bounds the wait before a retry.
	maxBackoff = time.Hour
	// maxReasonLen bounds a sender's error kept as a message's Reason.
	maxReasonLen = 200
	// saveTimeout bounds recording what was sent, which goes on after
	// the caller's context ended: pushes that went out must be marked sent.
	saveTimeout = 10 * time.Second
)

// DispatcherConfig configures a Dispatcher. Zero fields take the defaults.
type DispatcherConfig struct {
	// Holder is this replica's lease holder id; default a random one.
	Holder string
	// Lease is how long a round may hold the lease; default 30s.
	Lease time.Duration
	// Batch is the messages one round takes; default 500, at most 1000.
	Batch int
	// QuietStart and QuietEnd are the hours, in the member's zone, in
	// which messages wait until QuietEnd; default 21 and 8. Hours outside
	// 0..23 take the defaults; NoQuietHours turns them off.
	QuietStart, QuietEnd int
	NoQuietHours         bool
	// Cap is how many messages a member gets in any CapWindow; a message
	// over it waits until the window allows it, or expires. Default 3 per
	// 24h; a negative Cap turns it off.
	Cap       int
	CapWindow time.Duration
	// DedupWindow skips a message as a duplicate when one with the same
	// Digest was sent to the member within it; default 6h, negative turns
	// it off.
	DedupWindow time.Duration
	// MaxAttempts is how often a message is tried when sending it fails
	// retryably; default 5. Backoff is the wait after the first failure,
	// doubling with every further one up to an hour; default 1 minute.
	MaxAttempts int
	Backoff     time.Duration
	// SendTimeout bounds one round's Sender.Send; default and at most half
	// the Lease, so that a round ends before another replica may take over.
	SendTimeout time.Duration
	// Clock is the time rounds run at; default time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

// DispatchStats counts what a round did.
type DispatchStats struct {
	// Due is the messages the round took.
	Due int
	// What became of them. Retried ones failed retryably and wait.
	Sent, Deferred, Skipped, Expired, Failed, Retried int
	// Pushes is the pushes sent, one per device.
	Pushes int
	// TokensRemoved is the unregistered tokens removed from devices.
	TokensRemoved int
}

// Dispatcher sends the due messages: within consent, outside quiet hours,
// within the frequency cap, once.
type Dispatcher struct {
	store       Store
	members     Members
	sender      Sender
	holder      string
	lease       time.Duration
	batch       int
	policy      policy
	maxAttempts int
	backoff     time.Duration
	sendTimeout time.Duration
	clock       func() time.Time
	log         *slog.Logger
	poke        chan struct{}
}

// NewDispatcher returns a Dispatcher sending store's due messages to
// members through sender.
func NewDispatcher(store Store, members Members, sender Sender, cfg DispatcherConfig) *Dispatcher {
	d := &Dispatcher{
		store: store, members: members, sender: sender, holder: cfg.Holder,
		lease: positive(cfg.Lease, 30*time.Second), batch: cfg.Batch,
		maxAttempts: cfg.MaxAttempts, backoff: positive(cfg.Backoff, time.Minute),
		clock: cfg.Clock, log: cfg.Logger, poke: make(chan struct{}, 1),
		policy: policy{
			quietStart: cfg.QuietStart, quietEnd: cfg.QuietEnd, cap: cfg.Cap,
			capWindow: positive(cfg.CapWindow, 24*time.Hour), dedup: cfg.DedupWindow,
		},
	}
	if d.holder == "" {
		d.holder = "notify-" + rand.Text()[:10]
	}
	if d.batch <= 0 {
		d.batch = 500
	}
	d.batch = min(d.batch, maxBatch)
	if d.maxAttempts <= 0 {
		d.maxAttempts = 5
	}
	d.sendTimeout = min(positive(cfg.SendTimeout, d.lease/2), d.lease/2)
	if d.clock == nil {
		d.clock = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	p := &d.policy
	switch {
	case cfg.NoQuietHours:
		p.quietStart, p.quietEnd = 0, 0
	case p.quietStart == 0 && p.quietEnd == 0, p.quietStart < 0, p.quietStart > 23, p.quietEnd < 0, p.quietEnd > 23:
		p.quietStart, p.quietEnd = 21, 8
	}
	if p.cap == 0 {
		p.cap = 3
	}
	if p.dedup == 0 {
		p.dedup = 6 * time.Hour
	}
	return d
}

func positive(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Poke makes Run start a round now instead of at its next tick.
func (d *Dispatcher) Poke() {
	select {
	case d.poke <- struct{}{}:
	default: // a round is asked for already
	}
}

// Run runs a round every interval, right away when Poke is called, and
// again at once after a full batch, until ctx ends. It logs the errors of
// rounds.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(positive(interval, 10*time.Second))
	defer t.Stop()
	for {
		st, err := d.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Error("notify: dispatch round failed", "err", err)
		} else if st.Due > 0 {
			d.log.Info("notify: dispatched", "due", st.Due, "sent", st.Sent, "deferred", st.Deferred,
				"skipped", st.Skipped, "expired", st.Expired, "failed", st.Failed, "retried", st.Retried, "pushes", st.Pushes)
		}
		if err == nil && st.Due == d.batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.poke:
		}
	}
}

// Plan returns what RunOnce would do at now with the messages due then,
// sending and writing nothing (it takes no lease). It returns the errors
// of the store and Members.
func (d *Dispatcher) Plan(ctx context.Context, now time.Time) ([]Decision, error) {
	msgs, err := d.store.Due(ctx, now, d.batch)
	if err != nil {
		return nil, fmt.Errorf("notify: due messages: %w", err)
	}
	decisions, _, err := d.decide(ctx, now, msgs)
	return decisions, err
}

// RunOnce runs one round: it takes or renews the lease (and does nothing,
// returning zero stats, when another replica holds it), decides on the due
// messages, sends those to send in one Sender.Send call, records what
// became of each message and removes the tokens FCM reported unregistered.
// It returns the errors of the store, Members and Sender; messages it did
// not record stay due.
func (d *Dispatcher) RunOnce(ctx context.Context) (DispatchStats, error) {
	now := d.clock()
	held, err := d.store.AcquireLease(ctx, LeaseName, d.holder, now, d.lease)
	if err != nil {
		return DispatchStats{}, fmt.Errorf("notify: lease: %w", err)
	}
	if !held {
		return DispatchStats{}, nil
	}
	msgs, err := d.store.Due(ctx, now, d.batch)
	if err != nil {
		return DispatchStats{}, fmt.Errorf("notify: due messages: %w", err)
	}
	st := DispatchStats{Due: len(msgs)}
	decisions, recipients, err := d.decide(ctx, now, msgs)
	if err != nil {
		return st, err
	}

	// Record what is not sent, and collect the pushes of what is.
	type span struct{ decision, from, to int } // pushes[from:to] are decision's
	var (
		pushes []Push
		spans  []span
	)
	for i, dec := range decisions {
		m := dec.Message
		switch dec.Action {
		case ActionSend:
			rec := recipients[loyalty.MemberKey{ProgramID: m.ProgramID, MemberID: m.MemberID}]
			from := len(pushes)
			pushes = appendPushes(pushes, m, *rec, now)
			spans = append(spans, span{i, from, len(pushes)})
			continue
		case ActionDefer:
			m.NotBefore, m.Reason = dec.Until, dec.Reason
			st.Deferred++
		case ActionSkip:
			m.State, m.Reason = StateSkipped, dec.Reason
			st.Skipped++
		case ActionExpire:
			m.State, m.Reason = StateExpired, dec.Reason
			st.Expired++
		}
		if err := d.store.SaveMessage(ctx, m); err != nil {
			return st, fmt.Errorf("notify: saving message %d: %w", m.ID, err)
		}
	}
	if len(pushes) == 0 {
		return st, nil
	}

	sendCtx, cancel := context.WithTimeout(ctx, d.sendTimeout)
	results, err := d.sender.Send(sendCtx, pushes)
	cancel()
	if err == nil && len(results) != len(pushes) {
		err = fmt.Errorf("%d results for %d pushes", len(results), len(pushes))
	}
	if err != nil {
		return st, fmt.Errorf("notify: sending %d pushes: %w", len(pushes), err)
	}
	st.Pushes = len(pushes)

	// What went out must be recorded even when ctx ended meanwhile.
	ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	unregistered := map[string][]string{} // program → tokens
	var errs []error
	for _, sp := range spans {
		m := decisions[sp.decision].Message
		accepted, retryable := false, false
		var failure error
		for j := sp.from; j < sp.to; j++ {
			res := results[j]
			switch {
			case res.Err == nil:
				accepted = true
				continue
			case res.Unregistered:
				unregistered[m.ProgramID] = append(unregistered[m.ProgramID], pushes[j].Token)
			case res.Retryable:
				retryable = true
			}
			if failure == nil {
				failure = res.Err
			}
		}
		switch {
		case accepted:
			m.State, m.SentAt = StateSent, now
			st.Sent++
		default:
			m.Attempts++
			if retryable && m.Attempts < d.maxAttempts {
				m.NotBefore, m.Reason = now.Add(d.backoffAfter(m.Attempts)), reasonOf("retry", failure)
				st.Retried++
			} else {
				m.State, m.Reason = StateFailed, reasonOf("failed", failure)
				st.Failed++
			}
		}
		if err := d.store.SaveMessage(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("notify: saving message %d: %w", m.ID, err))
		}
	}
	for program, tokens := range unregistered {
		if err := d.members.RemoveDeviceTokens(ctx, program, tokens); err != nil {
			errs = append(errs, fmt.Errorf("notify: removing %d unregistered tokens: %w", len(tokens), err))
			continue
		}
		st.TokensRemoved += len(tokens)
		d.log.Info("notify: removed unregistered tokens", "program", program, "tokens", len(tokens))
	}
	return st, errors.Join(errs...)
}

// appendPushes appends m's push to each of r's devices, in the device's
// locale (else the member's).
func appendPushes(pushes []Push, m Message, r loyalty.Recipient, now time.Time) []Push {
	var ttl time.Duration
	if !m.ExpiresAt.IsZero() {
		ttl = max(m.ExpiresAt.Sub(now), time.Second) // zero would be FCM's default of four weeks
	}
	for _, dev := range r.Devices {
		l := dev.Locale
		if l == "" {
			l = r.Member.Locale
		}
		pushes = append(pushes, Push{
			Token: dev.Token, Title: m.Title.In(l), Body: m.Body.In(l), Data: maps.Clone(m.Data),
			Collapse: string(m.Kind), TTL: ttl,
		})
	}
	return pushes
}

// backoffAfter returns the wait after the n-th failed attempt.
func (d *Dispatcher) backoffAfter(n int) time.Duration {
	b := d.backoff
	for i := 1; i < n && b < maxBackoff; i++ {
		b *= 2
	}
	return min(b, maxBackoff)
}

// reasonOf returns "what: err", bounded.
func reasonOf(what string, err error) string {
	s := what
	if err != nil {
		s += ": " + err.Error()
	}
	if len(s) > maxReasonLen {
		n := maxReasonLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}
