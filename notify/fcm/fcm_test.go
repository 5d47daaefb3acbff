package fcm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/notify/fcm"
	"github.com/treue/treue/notify/fcm/fakefcm"
	"github.com/treue/treue/redact"
)

// start returns a fake server and a Sender for it with quick backoffs;
// change modifies the config first.
func start(t *testing.T, change func(*fcm.Config)) (*fakefcm.Server, *fcm.Sender) {
	t.Helper()
	srv := fakefcm.New()
	t.Cleanup(srv.Close)
	cfg := fcm.Config{
		ProjectID:  "demo-test",
		Options:    srv.Options(),
		MinBackoff: time.Millisecond,
		MaxBackoff: 2 * time.Second,
		Logger:     slog.New(slog.DiscardHandler),
	}
	if change != nil {
		change(&cfg)
	}
	s, err := fcm.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

// pushes returns n pushes to tokens tok-0, tok-1, ….
func pushes(n int) []notify.Push {
	ps := make([]notify.Push, n)
	for i := range ps {
		ps[i] = notify.Push{Token: fmt.Sprintf("tok-%d", i), Title: "t", Body: "b"}
	}
	return ps
}

func send(t *testing.T, s *fcm.Sender, ps []notify.Push) []notify.Result {
	t.Helper()
	res, err := s.Send(t.Context(), ps)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(res) != len(ps) {
		t.Fatalf("Send returned %d results for %d pushes", len(res), len(ps))
	}
	return res
}

func TestSendDelivers(t *testing.T) {
	srv, s := start(t, nil)
	res := send(t, s, []notify.Push{
		{
			Token: "tok-a", Title: "Punkte gutgeschrieben", Body: "+120 Punkte",
			Data:     map[string]string{"link": "treue://points", "kind": "points_earned"},
			Collapse: "points_earned", TTL: time.Hour,
		},
		{Token: "tok-b", Data: map[string]string{"link": "treue://sync"}},
	})
	for i, r := range res {
		if r != (notify.Result{}) {
			t.Errorf("result %d = %+v, want success", i, r)
		}
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	a, b := got[0], got[1]
	if a.Token != "tok-a" {
		a, b = b, a
	}
	want := fakefcm.Received{
		Project: "demo-test", Token: "tok-a", Title: "Punkte gutgeschrieben", Body: "+120 Punkte",
		Data:        map[string]string{"link": "treue://points", "kind": "points_earned"},
		CollapseKey: "points_earned", TTL: time.Hour, Priority: "high",
		WebpushHeaders: map[string]string{"TTL": "3600", "Topic": "points_earned"},
		Proto:          "HTTP/2.0",
	}
	exp := a.APNSHeaders["apns-expiration"]
	delete(a.APNSHeaders, "apns-expiration")
	want.APNSHeaders = map[string]string{"apns-collapse-id": "points_earned"}
	if diff := cmp.Diff(want, a, ignore("Name", "At", "Message")); diff != "" {
		t.Errorf("message a (-want +got):\n%s", diff)
	}
	if wantExp := fmt.Sprint(time.Now().Add(time.Hour).Unix()); exp < fmt.Sprint(time.Now().Add(time.Hour-time.Minute).Unix()) || exp > wantExp {
		t.Errorf("apns-expiration = %q, want about %s", exp, wantExp)
	}
	if b.Title != "" || b.Body != "" || b.Priority != "normal" || b.Data["link"] != "treue://sync" || b.Proto != "HTTP/2.0" {
		t.Errorf("data-only message = %+v", b)
	}
	if st := s.Stats(); st.Sent != 2 || st.Failed != 0 || st.Batches != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// ignore returns a cmp option ignoring the named fields of Received.
func ignore(fields ...string) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		for _, f := range fields {
			if p.Last().String() == "."+f {
				return true
			}
		}
		return false
	}, cmp.Ignore())
}

func TestSendNeedsBearer(t *testing.T) {
	srv := fakefcm.New()
	defer srv.Close()
	for name, tok := range map[string]string{"wrong token": "not-the-token", "no token": ""} {
		base := srv.Client().Transport.(*oauth2.Transport).Base
		var rt http.RoundTripper = base
		if tok != "" {
			rt = &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}), Base: base}
		}
		s, err := fcm.New(t.Context(), fcm.Config{
			ProjectID: "demo-test",
			Options:   []option.ClientOption{option.WithEndpoint(srv.URL + "/v1"), option.WithHTTPClient(&http.Client{Transport: rt})},
			Logger:    slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		res := send(t, s, pushes(1))
		var e *fcm.Error
		if !errors.As(res[0].Err, &e) || e.Code != "UNAUTHENTICATED" || e.Status != 401 || res[0].Retryable || res[0].Unregistered {
			t.Errorf("%s: result = %+v", name, res[0])
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server accepted %d messages without the bearer token", n)
	}
}

func TestSendUnregistered(t *testing.T) {
	var logs bytes.Buffer
	srv, s := start(t, func(c *fcm.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const gone = "dXk3:APA91bGoneTokenSecretPart"
	srv.Unregister(gone)
	ps := pushes(3)
	ps[1].Token = gone
	res := send(t, s, ps)
	if res[0].Err != nil || res[2].Err != nil {
		t.Errorf("other pushes failed: %+v, %+v", res[0], res[2])
	}
	r := res[1]
	var e *fcm.Error
	if !r.Unregistered || r.Retryable || !errors.As(r.Err, &e) || e.Code != "UNREGISTERED" || e.Status != 404 || e.Attempts != 1 {
		t.Fatalf("unregistered result = %+v", r)
	}
	if strings.Contains(r.Err.Error(), gone) || !strings.Contains(r.Err.Error(), redact.Token(gone)) {
		t.Errorf("error %q: want the token's tag, not the token", r.Err)
	}
	if strings.Contains(logs.String(), gone) || strings.Contains(logs.String(), "APA91b") {
		t.Errorf("logs contain the token:\n%s", logs.String())
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("server accepted %d messages, want 2", n)
	}
	if st := s.Stats(); st.Sent != 2 || st.Unregistered != 1 || st.Retried != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendInvalidToken(t *testing.T) {
	srv, s := start(t, nil)
	ps := pushes(2)
	ps[0].Token = "not a token"
	res := send(t, s, ps)
	var e *fcm.Error
	if !res[0].Unregistered || !errors.As(res[0].Err, &e) || e.Code != "INVALID_ARGUMENT" || e.Status != 400 {
		t.Errorf("malformed token: result = %+v", res[0])
	}
	if res[1].Err != nil {
		t.Errorf("valid token: %v", res[1].Err)
	}
	if srv.Requests() != 2 {
		t.Errorf("requests = %d, want 2 (INVALID_ARGUMENT is not retried)", srv.Requests())
	}
}

func TestSendRetryAfter(t *testing.T) {
	t.Parallel()
	srv, s := start(t, nil)
	srv.FailNext(1, http.StatusTooManyRequests, time.Second)
	begin := time.Now()
	res := send(t, s, pushes(1))
	if res[0].Err != nil {
		t.Fatalf("result = %+v, want success after a retry", res[0])
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || srv.Requests() != 2 {
		t.Fatalf("messages %d, requests %d; want 1 and 2", len(msgs), srv.Requests())
	}
	if d := msgs[0].At.Sub(begin); d < time.Second {
		t.Errorf("retried after %v, want ≥ 1s (Retry-After)", d)
	}
	if st := s.Stats(); st.Retried != 1 || st.BackoffWait < time.Second {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendRetries503(t *testing.T) {
	srv, s := start(t, nil)
	srv.FailNext(2, http.StatusServiceUnavailable, 0)
	res := send(t, s, pushes(1))
	if res[0].Err != nil {
		t.Fatalf("result = %+v, want success", res[0])
	}
	// Three requests, two of them our retries: the SDK's own retry loop
	// (which retries 503 itself) saw none of them.
	if srv.Requests() != 3 || s.Stats().Retried != 2 {
		t.Errorf("requests %d, retried %d; want 3 and 2", srv.Requests(), s.Stats().Retried)
	}
}

func TestSendRetriesExhausted(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusServiceUnavailable, "UNAVAILABLE"},
		{http.StatusInternalServerError, "INTERNAL"},
		{http.StatusTooManyRequests, "QUOTA_EXCEEDED"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			srv, s := start(t, func(c *fcm.Config) { c.MaxRetries = 2 })
			srv.FailNext(1000, tc.status, 0)
			res := send(t, s, pushes(2))
			for i, r := range res {
				var e *fcm.Error
				if !r.Retryable || r.Unregistered || !errors.As(r.Err, &e) || e.Code != tc.code || e.Status != tc.status || e.Attempts != 3 {
					t.Errorf("result %d = %+v (%#v)", i, r, e)
				}
			}
			if srv.Requests() != 6 {
				t.Errorf("requests = %d, want 6 (2 pushes × 3 attempts)", srv.Requests())
			}
			if st := s.Stats(); st.Failed != 2 || st.Retried != 4 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestSendRetryAfterBeyondMaxBackoff(t *testing.T) {
	srv, s := start(t, func(c *fcm.Config) { c.MaxBackoff = 100 * time.Millisecond })
	srv.FailNext(1, http.StatusTooManyRequests, 5*time.Second)
	begin := time.Now()
	res := send(t, s, pushes(1))
	var e *fcm.Error
	if !res[0].Retryable || !errors.As(res[0].Err, &e) || e.RetryAfter != 5*time.Second {
		t.Errorf("result = %+v", res[0])
	}
	if d := time.Since(begin); d > time.Second || srv.Requests() != 1 {
		t.Errorf("took %v with %d requests; want no retry", d, srv.Requests())
	}
}

// countingTransport counts round trips.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestSendNetworkError(t *testing.T) {
	srv := fakefcm.New()
	url := srv.URL
	srv.Close() // nothing listens there any more
	rt := &countingTransport{base: http.DefaultTransport}
	s, err := fcm.New(t.Context(), fcm.Config{
		ProjectID:  "demo-test",
		Options:    []option.ClientOption{option.WithEndpoint(url + "/v1"), option.WithHTTPClient(&http.Client{Transport: rt})},
		MaxRetries: 2,
		MinBackoff: time.Millisecond,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	res := send(t, s, pushes(1))
	var e *fcm.Error
	if !res[0].Retryable || !errors.As(res[0].Err, &e) || e.Code != "NETWORK" || e.Status != 0 || e.Attempts != 3 {
		t.Errorf("result = %+v", res[0])
	}
	if n := rt.n.Load(); n != 3 {
		t.Errorf("round trips = %d, want 3 (the SDK retries nothing itself)", n)
	}
}

func TestSendBatches(t *testing.T) {
	srv, s := start(t, nil)
	res := send(t, s, pushes(501))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("result %d: %v", i, r.Err)
		}
	}
	seen := map[string]bool{}
	for _, m := range srv.Messages() {
		seen[m.Token] = true
	}
	if len(seen) != 501 {
		t.Errorf("server got %d distinct tokens, want 501", len(seen))
	}
	if st := s.Stats(); st.Batches != 2 || st.Sent != 501 {
		t.Errorf("stats = %+v, want 2 batches", st)
	}
}

// maxInWindow returns the most arrivals within any window of length w.
func maxInWindow(msgs []fakefcm.Received, w time.Duration) int {
	most := 0
	for i := range msgs {
		n := 0
		for j := range msgs {
			if d := msgs[j].At.Sub(msgs[i].At); d >= 0 && d < w {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// arrivalJitter is how much the delay between a batch leaving the Sender
// and arriving at the fake server may vary on a loaded machine: a batch
// held up that long bunches with the next ones.
const arrivalJitter = 100 * time.Millisecond

// bucketLimit returns the most messages a token bucket lets arrive in a
// window w: burst + rate×w when they leave, plus rate×arrivalJitter.
func bucketLimit(rate, burst int, w time.Duration) int {
	return burst + int(float64(rate)*(w+arrivalJitter).Seconds())
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	const rate, burst, n = 50, 50, 200
	srv, s := start(t, func(c *fcm.Config) { c.Rate = rate })
	// The bucket bounds when messages leave; arrivals bunch up by the
	// variance of the delay on the way, which a new connection (TLS and
	// HTTP/2 handshakes) would dominate. Open it first, and let the
	// bucket refill.
	send(t, s, pushes(1))
	time.Sleep(100 * time.Millisecond)
	srv.Reset()
	begin := time.Now()
	send(t, s, pushes(n))
	elapsed := time.Since(begin)
	if want := time.Duration(n-burst) * time.Second / rate; elapsed < want {
		t.Errorf("%d messages took %v, want ≥ %v", n, elapsed, want)
	}
	msgs := srv.Messages()
	if len(msgs) != n {
		t.Fatalf("server got %d messages, want %d", len(msgs), n)
	}
	if most, limit := maxInWindow(msgs, time.Second), bucketLimit(rate, burst, time.Second); most > limit {
		t.Errorf("%d messages arrived within one second, want ≤ %d", most, limit)
	}
	if st := s.Stats(); st.ThrottledWait < 2*time.Second {
		t.Errorf("throttled wait %v, want about 3s", st.ThrottledWait)
	}
}

func TestSendRefusesInvalid(t *testing.T) {
	srv, s := start(t, nil)
	ps := []notify.Push{
		{Token: "tok-1", Data: map[string]string{"from": "x"}},
		{Token: "tok-2", Data: map[string]string{"google.c.a.e": "1"}},
		{Token: "tok-3", Data: map[string]string{"gcm.n.e": "1"}},
		{Token: ""},
	}
	res := send(t, s, ps)
	for i, r := range res {
		if !errors.Is(r.Err, fcm.ErrInvalidPush) || r.Retryable || r.Unregistered {
			t.Errorf("result %d = %+v, want ErrInvalidPush", i, r)
		}
	}
	if srv.Requests() != 0 {
		t.Errorf("requests = %d, want 0", srv.Requests())
	}
	res = send(t, s, append(ps[:1:1], pushes(1)...))
	if !errors.Is(res[0].Err, fcm.ErrInvalidPush) || res[1].Err != nil || srv.Requests() != 1 {
		t.Errorf("mixed batch: results %+v, requests %d", res, srv.Requests())
	}
	if st := s.Stats(); st.Failed != 5 || st.Sent != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendCanceled(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		srv, s := start(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if res, err := s.Send(ctx, pushes(2)); !errors.Is(err, context.Canceled) || res != nil {
			t.Errorf("Send = %v, %v; want context.Canceled", res, err)
		}
		if srv.Requests() != 0 {
			t.Errorf("requests = %d", srv.Requests())
		}
	})
	t.Run("waiting for tokens", func(t *testing.T) {
		_, s := start(t, func(c *fcm.Config) { c.Rate = 1 })
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		begin := time.Now()
		res, err := s.Send(ctx, pushes(3))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 700*time.Millisecond {
			t.Errorf("Send returned after %v", d)
		}
		if res[0].Err != nil {
			t.Errorf("first push: %v", res[0].Err)
		}
		for _, r := range res[1:] {
			if !r.Retryable || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("unsent push: %+v", r)
			}
		}
	})
	t.Run("deadline before the tokens", func(t *testing.T) {
		_, s := start(t, func(c *fcm.Config) { c.Rate = 1 })
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		begin := time.Now()
		res, err := s.Send(ctx, pushes(3))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 300*time.Millisecond {
			t.Errorf("Send returned after %v, want at once", d)
		}
		if res[0].Err != nil || !res[2].Retryable || !errors.Is(res[2].Err, context.DeadlineExceeded) {
			t.Errorf("results = %+v", res)
		}
		// Nothing can go: Send reports that it could not try.
		if _, err := s.Send(ctx, pushes(1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send with an empty bucket = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		srv, s := start(t, func(c *fcm.Config) { c.MaxBackoff = time.Minute })
		srv.FailNext(1, http.StatusTooManyRequests, 30*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		begin := time.Now()
		res, err := s.Send(ctx, pushes(1))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 700*time.Millisecond {
			t.Errorf("Send returned after %v", d)
		}
		var e *fcm.Error
		if !res[0].Retryable || !errors.As(res[0].Err, &e) || e.Code != "QUOTA_EXCEEDED" {
			t.Errorf("result = %+v", res[0])
		}
	})
}

func TestSendConcurrent(t *testing.T) {
	srv, s := start(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ps := pushes(300)
			for i := range ps {
				ps[i].Token = fmt.Sprintf("g%d-%d", g, i)
			}
			res, err := s.Send(t.Context(), ps)
			if err != nil {
				t.Error(err)
				return
			}
			for _, r := range res {
				if r.Err != nil {
					t.Error(r.Err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(srv.Messages()); n != 1200 {
		t.Errorf("server got %d messages, want 1200", n)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]fcm.Config{
		"no project":       {},
		"negative rate":    {ProjectID: "p", Rate: -1},
		"negative burst":   {ProjectID: "p", Burst: -1},
		"min above max":    {ProjectID: "p", MinBackoff: time.Minute, MaxBackoff: time.Second},
		"negative timeout": {ProjectID: "p", RequestTimeout: -time.Second},
	} {
		if _, err := fcm.New(t.Context(), cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// Sender implements notify.Sender.
var _ notify.Sender = (*fcm.Sender)(nil)
