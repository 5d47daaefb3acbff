// Package fcm delivers pushes through Firebase Cloud Messaging with the
// Firebase Admin SDK: in SendEach batches of at most 500 messages, never
// faster than a token bucket allows, retrying quota and server errors
// with backoff, and telling the caller which tokens are no longer valid.
// Sender implements notify.Sender.
//
// Tests run it against the local server in package fakefcm.
package fcm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/time/rate"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/redact"
)

// Defaults and limits for Config.
const (
	// DefaultRate is FCM's default quota: 600,000 messages a minute per
	// project.
	DefaultRate = 10000
	// MaxDefaultBurst caps the default Burst.
	MaxDefaultBurst = 1000
	// DefaultMaxRetries is how often a push is retried by default.
	DefaultMaxRetries = 3
	// DefaultMinBackoff is the default delay before the first retry.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff is the default longest delay between retries.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultRequestTimeout bounds one HTTP request by default.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultMaxInFlight is how many SendEach batches run at once by
	// default.
	DefaultMaxInFlight = 16
	// MaxBatch is the most messages one SendEach call takes (the API's
	// limit).
	MaxBatch = 500
	// MaxTTL is the longest TTL FCM accepts; longer ones are cut to it.
	MaxTTL = 28 * 24 * time.Hour
	// MaxDataSize is the most bytes of data (keys and values) FCM accepts
	// in a message.
	MaxDataSize = 4096
)

// scopes are the OAuth2 scopes the SDK asks for (firebase.NewApp's).
var scopes = []string{
	"https://www.googleapis.com/auth/cloud-platform",
	"https://www.googleapis.com/auth/datastore",
	"https://www.googleapis.com/auth/devstorage.full_control",
	"https://www.googleapis.com/auth/firebase",
	"https://www.googleapis.com/auth/identitytoolkit",
	"https://www.googleapis.com/auth/userinfo.email",
}

// ErrInvalidPush is the error (under errors.Is) of a push Send refused
// without sending it: no token, a reserved or empty data key, too much
// data, a negative TTL or a collapse key longer than 64 bytes. Sending it
// again will not help.
var ErrInvalidPush = errors.New("fcm: invalid push")

// Config configures a Sender. Zero values mean the defaults.
type Config struct {
	// ProjectID is the Firebase project; required.
	ProjectID string
	// Options configure the SDK's HTTP client as for firebase.NewApp:
	// credentials in production (option.WithCredentialsFile; none means
	// application default credentials), option.WithEndpoint with
	// option.WithHTTPClient or option.WithTokenSource in tests.
	Options []option.ClientOption
	// Rate is the most messages a second the Sender sends, retries
	// included; default DefaultRate. Send takes tokens from the bucket
	// in chunks of at most a tenth of a second's worth (and at most Burst
	// and MaxBatch), and sends each chunk as one SendEach batch right
	// after taking them, so in any interval T at most Burst + Rate×T
	// messages leave.
	Rate float64
	// Burst is the bucket's size: how many messages may leave at once
	// after a quiet spell; default Rate, at most MaxDefaultBurst, at least
	// 1.
	Burst int
	// MaxRetries is how often a push that failed with 429, 500, 503 or a
	// network error is sent again within one Send; default
	// DefaultMaxRetries, negative for none.
	MaxRetries int
	// MinBackoff is the delay before the first retry; it doubles for each
	// further one, up to MaxBackoff, each with jitter (a random delay
	// between half and all of it). A Retry-After from FCM (seconds or an
	// HTTP date) lengthens the delay; a Retry-After longer than
	// MaxBackoff ends the retries (the pushes are Retryable). Defaults
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one HTTP request to FCM; default
	// DefaultRequestTimeout, or the Timeout of an HTTP client in Options.
	RequestTimeout time.Duration
	// MaxInFlight is how many SendEach batches run at once, over all
	// concurrent Sends; each runs up to 50 requests at a time (the SDK's
	// fixed worker count). Default DefaultMaxInFlight.
	MaxInFlight int
	// Logger receives a line per Send with failures (debug otherwise),
	// and one per retry round; default slog.Default(). Tokens are logged
	// as redact.Token.
	Logger *slog.Logger
}

// withDefaults returns c with defaults filled in, or an error when a value
// is out of range.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.ProjectID == "":
		return c, errors.New("fcm: config: ProjectID is required")
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return c, fmt.Errorf("fcm: config: Rate %v is not a positive number", c.Rate)
	case c.Burst < 0:
		return c, fmt.Errorf("fcm: config: Burst %d is negative", c.Burst)
	case c.MinBackoff < 0 || c.MaxBackoff < 0 || c.RequestTimeout < 0:
		return c, errors.New("fcm: config: negative duration")
	case c.MaxInFlight < 0:
		return c, fmt.Errorf("fcm: config: MaxInFlight %d is negative", c.MaxInFlight)
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Burst == 0 {
		c.Burst = int(min(math.Ceil(c.Rate), MaxDefaultBurst))
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.MinBackoff > c.MaxBackoff {
		return c, fmt.Errorf("fcm: config: MinBackoff %v exceeds MaxBackoff %v", c.MinBackoff, c.MaxBackoff)
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Sender sends pushes through FCM. It is safe for concurrent use; the
// token bucket and MaxInFlight are shared by all Sends.
type Sender struct {
	client     *messaging.Client
	limiter    *rate.Limiter
	chunk      int
	slots      chan struct{}
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	log        *slog.Logger

	sent, unregistered, failed, retried, batches atomic.Int64
	throttled, backoff                           atomic.Int64 // nanoseconds
}

// New returns a Sender for cfg. It returns an error when cfg is invalid
// (no ProjectID, a negative value) or when the SDK's client cannot be
// built (no credentials found, an unreadable credentials file). It does
// not contact FCM.
func New(ctx context.Context, cfg Config) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// Build the HTTP client as the SDK would (messaging.NewClient calls
	// transport.NewHTTPClient with firebase.NewApp's scopes), then put
	// retryGuard around it; see transport.go.
	opts := append([]option.ClientOption{option.WithScopes(scopes...)}, cfg.Options...)
	hc, endpoint, err := htransport.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: http client: %w", err)
	}
	guarded := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	timeout := cfg.RequestTimeout
	if timeout == 0 {
		timeout = hc.Timeout
	}
	if timeout == 0 {
		timeout = DefaultRequestTimeout
	}
	// http.Client.Timeout errors come from Client.Do, past the guard, and
	// the SDK would retry them; the guard applies the timeout instead.
	guarded.Timeout = 0
	guarded.Transport = &retryGuard{base: base, timeout: timeout}
	fbOpts := []option.ClientOption{option.WithHTTPClient(&guarded)}
	if endpoint != "" {
		fbOpts = append(fbOpts, option.WithEndpoint(endpoint))
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, fbOpts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client: %w", err)
	}
	chunk := min(MaxBatch, cfg.Burst, max(1, int(cfg.Rate/10)))
	return &Sender{
		client:     client,
		limiter:    rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst),
		chunk:      chunk,
		slots:      make(chan struct{}, cfg.MaxInFlight),
		maxRetries: cfg.MaxRetries,
		minBackoff: cfg.MinBackoff,
		maxBackoff: cfg.MaxBackoff,
		log:        cfg.Logger,
	}, nil
}

// Stats are a Sender's counters since New.
type Stats struct {
	// Sent counts pushes FCM accepted.
	Sent int64
	// Unregistered counts pushes whose token FCM does not know (any
	// more) or that belongs to another sender.
	Unregistered int64
	// Failed counts the other pushes that ended with an error: refused
	// before sending, refused by FCM, still failing after the retries, or
	// not sent because the context ended.
	Failed int64
	// Retried counts pushes sent again after a retryable failure, once
	// per retry.
	Retried int64
	// Batches counts SendEach calls.
	Batches int64
	// ThrottledWait is the time spent waiting for the token bucket,
	// summed over concurrent Sends.
	ThrottledWait time.Duration
	// BackoffWait is the time spent waiting between retries, summed over
	// concurrent Sends.
	BackoffWait time.Duration
}

// Stats returns the Sender's counters.
func (s *Sender) Stats() Stats {
	return Stats{
		Sent:          s.sent.Load(),
		Unregistered:  s.unregistered.Load(),
		Failed:        s.failed.Load(),
		Retried:       s.retried.Load(),
		Batches:       s.batches.Load(),
		ThrottledWait: time.Duration(s.throttled.Load()),
		BackoffWait:   time.Duration(s.backoff.Load()),
	}
}

// Send delivers pushes and returns one Result per push, in order; it
// implements notify.Sender. A Result's Err is ErrInvalidPush (wrapped) for
// a push refused before sending, an *Error for one FCM did not accept
// (Unregistered for UNREGISTERED, SENDER_ID_MISMATCH, or INVALID_ARGUMENT
// about the token; Retryable for 429, 500, 503 and network errors still
// failing after MaxRetries retries or answered with a Retry-After beyond
// MaxBackoff; neither for other errors), or wraps ctx.Err() (Retryable) for
// one not sent or not answered because ctx ended. Send returns an error,
// wrapping ctx.Err() (context.DeadlineExceeded also when the token bucket
// could not allow the first batch before ctx's deadline), only when ctx
// ended before any push was handed to FCM.
func (s *Sender) Send(ctx context.Context, pushes []notify.Push) ([]notify.Result, error) {
	results := make([]notify.Result, len(pushes))
	if len(pushes) == 0 {
		return results, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fcm: send: %w", err)
	}
	now := time.Now()
	msgs := make([]*messaging.Message, len(pushes))
	pending := make([]int, 0, len(pushes))
	for i, p := range pushes {
		m, err := newMessage(p, now)
		if err != nil {
			results[i].Err = err
			continue
		}
		msgs[i] = m
		pending = append(pending, i)
	}

	outs := make([]outcome, len(pushes))
	handed := false
	var stop error
	for attempt := 1; len(pending) > 0; attempt++ {
		s.dispatch(ctx, msgs, pending, outs)
		var retry []int
		var retryAfter time.Duration
		var code string
		for _, i := range pending {
			o := outs[i]
			if !o.sent {
				stop = o.err
				results[i] = notify.Result{Err: fmt.Errorf("fcm: push to %s not sent: %w", redact.Token(pushes[i].Token), o.err), Retryable: true}
				continue
			}
			handed = true
			if o.err == nil {
				results[i] = notify.Result{}
				continue
			}
			k, err := classify(o.err, pushes[i].Token, attempt)
			switch k {
			case kindUnregistered:
				results[i] = notify.Result{Err: err, Unregistered: true}
			case kindPermanent:
				results[i] = notify.Result{Err: err}
			case kindCanceled:
				stop = o.err
				results[i] = notify.Result{Err: err, Retryable: true}
			case kindRetryable:
				results[i] = notify.Result{Err: err, Retryable: true}
				var e *Error
				if errors.As(err, &e) {
					retryAfter = max(retryAfter, e.RetryAfter)
					code = e.Code
				}
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 || attempt > s.maxRetries || stop != nil || ctx.Err() != nil {
			break
		}
		if retryAfter > s.maxBackoff {
			s.log.Warn("fcm: not retrying: Retry-After exceeds MaxBackoff",
				"pushes", len(retry), "code", code, "retry_after", retryAfter, "max_backoff", s.maxBackoff)
			break
		}
		delay := max(s.backoffDelay(attempt), retryAfter)
		s.log.Info("fcm: retrying", "pushes", len(retry), "code", code, "attempt", attempt, "delay", delay)
		t0 := time.Now()
		err := sleep(ctx, delay)
		s.backoff.Add(int64(time.Since(t0)))
		if err != nil {
			break
		}
		s.retried.Add(int64(len(retry)))
		pending = retry
	}
	if !handed && stop != nil {
		return nil, fmt.Errorf("fcm: send: %w", stop)
	}
	s.count(ctx, results)
	return results, nil
}

// count adds results to the counters and logs a summary.
func (s *Sender) count(ctx context.Context, results []notify.Result) {
	var sent, unreg, retryable, failed int
	codes := map[string]int{}
	for _, r := range results {
		switch {
		case r.Err == nil:
			sent++
			continue
		case r.Unregistered:
			unreg++
		case r.Retryable:
			retryable++
		default:
			failed++
		}
		var e *Error
		switch {
		case errors.As(r.Err, &e):
			codes[e.Code]++
		case errors.Is(r.Err, ErrInvalidPush):
			codes["invalid_push"]++
		default:
			codes["canceled"]++
		}
	}
	s.sent.Add(int64(sent))
	s.unregistered.Add(int64(unreg))
	s.failed.Add(int64(retryable + failed))
	level := slog.LevelDebug
	if retryable+failed > 0 {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "fcm: sent",
		"pushes", len(results), "sent", sent, "unregistered", unreg, "retryable", retryable, "failed", failed, "codes", codes)
}

// outcome is what became of one push in one attempt: sent false means it
// was not handed to FCM because err (a context error) happened first.
type outcome struct {
	err  error
	sent bool
}

// dispatch sends the messages msgs[i] for i in pending, in chunks, each
// after taking its tokens and a slot, and sets outs[i]. It returns when
// every chunk was answered.
func (s *Sender) dispatch(ctx context.Context, msgs []*messaging.Message, pending []int, outs []outcome) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for start := 0; start < len(pending); start += s.chunk {
		part := pending[start:min(start+s.chunk, len(pending))]
		if err := s.acquire(ctx, len(part)); err != nil {
			for _, i := range pending[start:] {
				outs[i] = outcome{err: err}
			}
			return
		}
		batch := make([]*messaging.Message, len(part))
		for j, i := range part {
			batch[j] = msgs[i]
		}
		wg.Go(func() {
			defer func() { <-s.slots }()
			s.batches.Add(1)
			br, err := s.client.SendEach(ctx, batch)
			for j, i := range part {
				if err != nil {
					// Only for a batch the SDK refuses as a whole (its own
					// validation), which newMessage rules out.
					outs[i] = outcome{sent: true, err: batchError{err}}
					continue
				}
				outs[i] = outcome{sent: true, err: br.Responses[j].Error}
			}
		})
	}
}

// acquire takes a slot for a batch and n tokens from the bucket. It
// returns ctx.Err(), or an error wrapping context.DeadlineExceeded when
// the tokens would come after ctx's deadline.
func (s *Sender) acquire(ctx context.Context, n int) error {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	t0 := time.Now()
	err := s.limiter.WaitN(ctx, n)
	s.throttled.Add(int64(time.Since(t0)))
	if err != nil {
		<-s.slots
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return nil
}

// backoffDelay returns the delay before retry number attempt (1 for the
// first): MinBackoff doubled attempt-1 times, at most MaxBackoff, then a
// random point in its upper half.
func (s *Sender) backoffDelay(attempt int) time.Duration {
	d := s.maxBackoff
	if attempt-1 < 32 {
		d = min(s.minBackoff<<(attempt-1), s.maxBackoff)
		if d <= 0 { // overflow
			d = s.maxBackoff
		}
	}
	half := d / 2
	return d - half + rand.N(half+1)
}

// sleep waits for d or until ctx ends; it returns ctx.Err() in the
// latter case.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseRetryAfter returns the delay a Retry-After header value asks for,
// in seconds or as an HTTP date relative to now; 0 for none, a bad value
// or a date in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(math.MaxInt64/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// newMessage returns the FCM message for p, or an error wrapping
// ErrInvalidPush when FCM would refuse p for its content. TTLs are
// rounded up to whole seconds and cut to MaxTTL; the APNs expiry is
// counted from now.
func newMessage(p notify.Push, now time.Time) (*messaging.Message, error) {
	tag := redact.Token(p.Token)
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w to %s: %s", ErrInvalidPush, tag, fmt.Sprintf(format, args...))
	}
	if p.Token == "" {
		return nil, fmt.Errorf("%w: no token", ErrInvalidPush)
	}
	size := 0
	for k, v := range p.Data {
		if reason := reservedKey(k); reason != "" {
			return nil, invalid("data key %q %s", k, reason)
		}
		size += len(k) + len(v)
	}
	if size > MaxDataSize {
		return nil, invalid("%d bytes of data, FCM takes at most %d", size, MaxDataSize)
	}
	if p.TTL < 0 {
		return nil, invalid("negative TTL %v", p.TTL)
	}
	if len(p.Collapse) > 64 {
		return nil, invalid("collapse key of %d bytes, APNs takes at most 64", len(p.Collapse))
	}

	m := &messaging.Message{Token: p.Token, Data: p.Data}
	android := &messaging.AndroidConfig{CollapseKey: p.Collapse, Priority: "normal"}
	if p.Title != "" || p.Body != "" {
		m.Notification = &messaging.Notification{Title: p.Title, Body: p.Body}
		// High priority is for what the user sees; FCM deprioritises apps
		// whose high-priority messages show nothing.
		android.Priority = "high"
	}
	apns := map[string]string{}
	webpush := map[string]string{}
	if p.TTL > 0 {
		ttl := min((p.TTL + time.Second - 1).Truncate(time.Second), MaxTTL)
		android.TTL = &ttl
		apns["apns-expiration"] = strconv.FormatInt(now.Add(ttl).Unix(), 10)
		webpush["TTL"] = strconv.FormatInt(int64(ttl/time.Second), 10)
	}
	if p.Collapse != "" {
		apns["apns-collapse-id"] = p.Collapse
		if webpushTopic(p.Collapse) {
			webpush["Topic"] = p.Collapse
		}
	}
	m.Android = android
	if len(apns) > 0 {
		m.APNS = &messaging.APNSConfig{Headers: apns}
	}
	if len(webpush) > 0 {
		m.Webpush = &messaging.WebpushConfig{Headers: webpush}
	}
	return m, nil
}

// reservedKey says why FCM refuses the data key k, or returns "": FCM
// reserves "from", "message_type" and keys starting with "google" or
// "gcm" (compared here without regard to case).
func reservedKey(k string) string {
	l := strings.ToLower(k)
	switch {
	case k == "":
		return "is empty"
	case l == "from" || l == "message_type":
		return "is reserved by FCM"
	case strings.HasPrefix(l, "google"), strings.HasPrefix(l, "gcm"):
		return "has a prefix reserved by FCM"
	}
	return ""
}

// webpushTopic reports whether s can be a Web Push Topic header: at most
// 32 characters of the URL-safe base64 alphabet.
func webpushTopic(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Error is the Result.Err of a push FCM did not accept.
type Error struct {
	// Code is FCM's error code (UNREGISTERED, INVALID_ARGUMENT,
	// SENDER_ID_MISMATCH, QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL,
	// THIRD_PARTY_AUTH_ERROR), else the API status (UNAUTHENTICATED,
	// PERMISSION_DENIED, NOT_FOUND, …), NETWORK after a transport error,
	// or UNKNOWN.
	Code string
	// Status is the HTTP status FCM answered with; 0 after a transport
	// error.
	Status int
	// Token is the push's token as redact.Token shows it.
	Token string
	// Attempts is how many times the push was sent.
	Attempts int
	// RetryAfter is the delay FCM asked for in a Retry-After header; 0
	// without one.
	RetryAfter time.Duration

	msg string
	err error
}

// Error returns the code, status, attempts and FCM's message, with the
// token replaced by its tag.
func (e *Error) Error() string {
	s := "s"
	if e.Attempts == 1 {
		s = ""
	}
	return fmt.Sprintf("fcm: push to %s: %s (HTTP %d, %d attempt%s): %s", e.Token, e.Code, e.Status, e.Attempts, s, e.msg)
}

// Unwrap returns the SDK's error, for messaging.IsUnregistered and the
// like.
func (e *Error) Unwrap() error { return e.err }

// batchError is an error of a whole SendEach call.
type batchError struct{ err error }

func (b batchError) Error() string { return "fcm: batch refused: " + b.err.Error() }
func (b batchError) Unwrap() error { return b.err }

type kind int

const (
	kindPermanent kind = iota
	kindUnregistered
	kindRetryable
	kindCanceled
)

// codes name an SDK error, FCM's own codes first.
var codes = []struct {
	code string
	is   func(error) bool
}{
	{"UNREGISTERED", messaging.IsUnregistered},
	{"SENDER_ID_MISMATCH", messaging.IsSenderIDMismatch},
	{"QUOTA_EXCEEDED", messaging.IsQuotaExceeded},
	{"UNAVAILABLE", messaging.IsUnavailable},
	{"INTERNAL", messaging.IsInternal},
	{"THIRD_PARTY_AUTH_ERROR", messaging.IsThirdPartyAuthError},
	{"INVALID_ARGUMENT", messaging.IsInvalidArgument},
	{"INVALID_ARGUMENT", errorutils.IsInvalidArgument},
	{"UNAUTHENTICATED", errorutils.IsUnauthenticated},
	{"PERMISSION_DENIED", errorutils.IsPermissionDenied},
	{"NOT_FOUND", errorutils.IsNotFound},
	{"RESOURCE_EXHAUSTED", errorutils.IsResourceExhausted},
	{"UNAVAILABLE", errorutils.IsUnavailable},
	{"INTERNAL", errorutils.IsInternal},
	{"DEADLINE_EXCEEDED", errorutils.IsDeadlineExceeded},
	{"FAILED_PRECONDITION", errorutils.IsFailedPrecondition},
	{"OUT_OF_RANGE", errorutils.IsOutOfRange},
	{"CONFLICT", errorutils.IsConflict},
	{"ABORTED", errorutils.IsAborted},
	{"ALREADY_EXISTS", errorutils.IsAlreadyExists},
	{"CANCELLED", errorutils.IsCancelled},
	{"DATA_LOSS", errorutils.IsDataLoss},
}

// retryableCodes are the codes worth another try after a backoff.
var retryableCodes = map[string]bool{
	"QUOTA_EXCEEDED": true, "RESOURCE_EXHAUSTED": true, "UNAVAILABLE": true,
	"INTERNAL": true, "DEADLINE_EXCEEDED": true, "NETWORK": true,
}

// classify returns what to do about err, the SDK's error for the push to
// token at its attempt-th try, and the error to report for it.
func classify(err error, token string, attempt int) (kind, error) {
	tag := redact.Token(token)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return kindCanceled, fmt.Errorf("fcm: push to %s: %w", tag, err)
	}
	e := &Error{Code: "UNKNOWN", Token: tag, Attempts: attempt, err: err}
	for _, c := range codes {
		if c.is(err) {
			e.Code = c.code
			break
		}
	}
	if resp := errorutils.HTTPResponse(err); resp != nil {
		e.Status = resp.StatusCode
		switch v := resp.Header.Get(statusHeader); v {
		case "":
		case "network":
			e.Status, e.Code = 0, "NETWORK"
		default:
			if n, err := strconv.Atoi(v); err == nil {
				e.Status = n
			}
		}
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	e.msg = sanitize(err.Error(), token)
	var be batchError
	switch {
	case errors.As(err, &be):
		return kindPermanent, e
	case e.Code == "UNREGISTERED" || e.Code == "SENDER_ID_MISMATCH":
		return kindUnregistered, e
	case e.Code == "INVALID_ARGUMENT" && badToken(e.msg):
		return kindUnregistered, e
	case retryableCodes[e.Code]:
		return kindRetryable, e
	}
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return kindRetryable, e
	}
	return kindPermanent, e
}

// badToken reports whether an INVALID_ARGUMENT message is about the
// registration token ("The registration token is not a valid FCM
// registration token", or a field violation at message.token) rather
// than the payload.
func badToken(msg string) bool {
	l := strings.ToLower(msg)
	return strings.Contains(l, "registration token") || strings.Contains(l, "message.token")
}

// sanitize returns msg with token replaced by its redact.Token form, on
// one line, cut to 300 bytes.
func sanitize(msg, token string) string {
	msg = redact.TokensIn(msg, token)
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "?")
	}
	return msg
}
