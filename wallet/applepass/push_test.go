package applepass_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sideshow/apns2"
	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/redact"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/applepass"
)

const (
	testPassType = "pass.de.treue.test"
	testTillKey  = "test-till-key-0001"
)

// pushEnv is a Pusher wired as the change hook of a loyalty.Service on a
// SQLite store, pushing to a fake APNs server through NewAPNsClient.
type pushEnv struct {
	t        *testing.T
	ctx      context.Context
	store    *sqlite.Store
	svc      *loyalty.Service
	apns     *fakeAPNs
	pusher   *applepass.Pusher
	till     loyalty.Till
	logs     *syncBuffer
	coalesce time.Duration
	earns    int
}

// newPushEnv returns an environment whose Pusher has cfg's limits and
// pushes to f (a token-authenticated fake APNs when nil). Its Pusher does
// not run until run is called.
func newPushEnv(t *testing.T, cfg applepass.PusherConfig, f *fakeAPNs) *pushEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if f == nil {
		f = newFakeAPNs(t, testPassType)
	}
	logs := new(syncBuffer)
	cfg.Store, cfg.Notifier, cfg.PassTypeID = store, f.notifier(), testPassType
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	p := applepass.NewPusher(cfg)
	svc := loyalty.NewService(store, loyalty.WithChangeHook(p.CardsChanged))

	var demo struct {
		Program loyalty.Program  `json:"program"`
		Rewards []loyalty.Reward `json:"rewards"`
	}
	if err := json.Unmarshal(assets.DemoProgram, &demo); err != nil {
		t.Fatal(err)
	}
	err = svc.ApplySeed(ctx, loyalty.Seed{Program: demo.Program, Rewards: demo.Rewards,
		Tills: []loyalty.TillKey{{Till: loyalty.Till{ID: "demo-store", Name: "Test till"}, Key: testTillKey}}})
	if err != nil {
		t.Fatal(err)
	}
	till, err := svc.AuthenticateTill(ctx, testTillKey)
	if err != nil {
		t.Fatal(err)
	}
	coalesce := cfg.Coalesce
	if coalesce == 0 {
		coalesce = applepass.DefaultPushCoalesce
	}
	return &pushEnv{t: t, ctx: ctx, store: store, svc: svc, apns: f, pusher: p, till: till, logs: logs, coalesce: coalesce}
}

// run runs the Pusher until the test ends.
func (e *pushEnv) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.pusher.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// member enrolls a customer and returns the card.
func (e *pushEnv) member(uid string) loyalty.Card {
	e.t.Helper()
	card, _, err := e.svc.Enroll(e.ctx, loyalty.Customer{ProgramID: e.till.ProgramID, UID: uid}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return card
}

// pass creates the member's pass.
func (e *pushEnv) pass(card loyalty.Card) applepass.Record {
	e.t.Helper()
	rec, err := e.store.CreatePass(e.ctx, applepass.Record{
		ProgramID: card.Member.ProgramID, MemberID: card.Member.ID, PassTypeID: testPassType,
		Serial: randomHex(16), AuthToken: randomHex(32), CreatedAt: time.Now(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// register registers a device with the push token for the pass, as of
// created.
func (e *pushEnv) register(rec applepass.Record, deviceID, token string, created time.Time) {
	e.t.Helper()
	_, err := e.store.Register(e.ctx, applepass.Registration{
		DeviceID: deviceID, PassTypeID: rec.PassTypeID, Serial: rec.Serial, PushToken: token, CreatedAt: created,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// registrations returns the push tokens registered for the pass.
func (e *pushEnv) registrations(rec applepass.Record) []string {
	e.t.Helper()
	regs, err := e.store.Registrations(e.ctx, rec.PassTypeID, rec.Serial)
	if err != nil {
		e.t.Fatal(err)
	}
	var tokens []string
	for _, r := range regs {
		tokens = append(tokens, r.DeviceID+":"+r.PushToken)
	}
	return tokens
}

// earn posts a purchase on the card through the till.
func (e *pushEnv) earn(card loyalty.Card) {
	e.t.Helper()
	e.earns++
	_, err := e.svc.Earn(e.ctx, e.till, loyalty.EarnRequest{
		CardNumber: card.Member.CardNumber, AmountMinor: 500, Currency: "EUR", IdempotencyKey: fmt.Sprintf("earn-%d", e.earns),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// waitStats waits until the Pusher's stats satisfy ok.
func (e *pushEnv) waitStats(what string, ok func(applepass.PushStats) bool) {
	e.t.Helper()
	waitFor(e.t, what, func() bool { return ok(e.pusher.Stats()) })
}

// settle waits until no card waits for a push and then a coalescing window
// more, so that pushes that should not come have had their chance.
func (e *pushEnv) settle() {
	e.t.Helper()
	e.waitStats("an empty push queue", func(s applepass.PushStats) bool { return s.Queued == 0 })
	time.Sleep(e.coalesce + 300*time.Millisecond)
	if s := e.pusher.Stats(); s.Queued != 0 {
		e.t.Fatalf("stats after settling: %+v, want nothing queued", s)
	}
}

// checkLogs fails unless the Pusher's log holds no full push token.
func (e *pushEnv) checkLogs(tokens ...string) {
	e.t.Helper()
	logs := e.logs.String()
	for _, tok := range tokens {
		if strings.Contains(logs, tok) {
			e.t.Errorf("log holds the full push token %s:\n%s", tok, logs)
		}
	}
}

// tokensOf returns the tokens of pushes, sorted.
func tokensOf(pushes []apnsPush) []string {
	var out []string
	for _, p := range pushes {
		out = append(out, p.Token)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestPushEarnNotifiesEachRegisteredDevice(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 50 * time.Millisecond}, nil)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tokA, tokB := randomHex(32), randomHex(32)
	e.register(rec, "device-a", tokA, time.Now())
	e.register(rec, "device-b", tokB, time.Now())

	e.earn(card)
	e.apns.waitPushes(2)
	e.settle()
	got := e.apns.received()
	if want := sorted(tokA, tokB); !slices.Equal(tokensOf(got), want) {
		t.Fatalf("pushes went to %v, want one to each of %v", tokensOf(got), want)
	}
	for _, p := range got {
		if p.Topic != testPassType || p.PushType != "background" || p.Priority != "5" || p.Status != http.StatusOK {
			t.Errorf("push %+v: want topic %s, background push type, priority 5, accepted", p, testPassType)
		}
		if d := time.Until(p.Expiration); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("push expires in %v, want about a day", d)
		}
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 2}) {
		t.Errorf("stats = %+v, want 2 sent", s)
	}
	e.checkLogs(tokA, tokB)
}

func TestPushCoalescesABurstOfChanges(t *testing.T) {
	t.Parallel()
	const window = 3 * time.Second
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: window}, nil)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tokA, tokB := randomHex(32), randomHex(32)
	e.register(rec, "device-a", tokA, time.Now())
	e.register(rec, "device-b", tokB, time.Now())

	start := time.Now()
	for range 20 {
		e.earn(card)
	}
	if d := time.Since(start); d > window/2 {
		t.Fatalf("20 earns took %v: too long for a burst within the %v window", d, window)
	}
	e.apns.waitPushes(2)
	e.settle()
	if got, want := tokensOf(e.apns.received()), sorted(tokA, tokB); !slices.Equal(got, want) {
		t.Fatalf("a burst of 20 changes pushed to %v, want once to each of %v", got, want)
	}
	if s := e.pusher.Stats(); s.Sent != 2 {
		t.Errorf("stats = %+v, want 2 sent", s)
	}
}

func TestPushChangeDuringPushSendsOneMore(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 100 * time.Millisecond}, nil)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tok := randomHex(32)
	e.register(rec, "device-a", tok, time.Now())

	release := e.apns.holdPushes()
	e.earn(card)
	e.apns.waitEntered(1) // the push is in flight
	for range 5 {
		e.earn(card)
	}
	release()
	e.apns.waitPushes(2)
	e.settle()
	if got := tokensOf(e.apns.received()); !slices.Equal(got, []string{tok, tok}) {
		t.Fatalf("changes during a push pushed %v, want the push and one more", got)
	}
	if s := e.pusher.Stats(); s.Sent != 2 {
		t.Errorf("stats = %+v, want 2 sent", s)
	}
}

func TestPushUnregisteredTokenIsRemoved(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, nil)
	e.run()
	now := time.Now()
	m1, m2 := e.member("u1"), e.member("u2")
	pass1, pass2 := e.pass(m1), e.pass(m2)
	tokGone, tokOK := randomHex(32), randomHex(32)
	e.register(pass1, "device-a", tokGone, now.Add(-time.Hour))
	e.register(pass1, "device-b", tokOK, now.Add(-time.Hour))
	// The device registered m2's pass after APNs's timestamp: the token it
	// sent then is valid again (APNs reports a token dead as of a time).
	e.register(pass2, "device-a", tokGone, now)
	e.apns.unregister(tokGone, now.Add(-time.Minute))

	e.earn(m1)
	e.waitStats("the dead token removed and the other push sent", func(s applepass.PushStats) bool {
		return s.Unregistered == 1 && s.Sent == 1
	})
	e.settle()
	if got, want := e.registrations(pass1), []string{"device-b:" + tokOK}; !slices.Equal(got, want) {
		t.Errorf("registrations of the pushed pass = %v, want %v", got, want)
	}
	if got, want := e.registrations(pass2), []string{"device-a:" + tokGone}; !slices.Equal(got, want) {
		t.Errorf("registrations of the pass registered after the 410's timestamp = %v, want %v", got, want)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1, Unregistered: 1}) {
		t.Errorf("stats = %+v, want 1 sent, 1 unregistered", s)
	}
	e.checkLogs(tokGone, tokOK)
}

func TestPushBadDeviceTokenIsRemoved(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, nil)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tokBad, tokTopic, tokOK := randomHex(32), randomHex(32), randomHex(32)
	e.register(rec, "device-a", tokBad, time.Now())
	e.register(rec, "device-b", tokTopic, time.Now())
	e.register(rec, "device-c", tokOK, time.Now())
	e.apns.reject(tokBad, apns2.ReasonBadDeviceToken)
	e.apns.reject(tokTopic, apns2.ReasonDeviceTokenNotForTopic)

	e.earn(card)
	e.waitStats("bad tokens removed", func(s applepass.PushStats) bool { return s.Unregistered == 2 && s.Sent == 1 })
	e.settle()
	if got, want := e.registrations(rec), []string{"device-c:" + tokOK}; !slices.Equal(got, want) {
		t.Errorf("registrations = %v, want %v", got, want)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1, Unregistered: 2}) {
		t.Errorf("stats = %+v, want 1 sent, 2 unregistered", s)
	}
	e.checkLogs(tokBad, tokTopic, tokOK)
}

func TestPushRetriesThrottledAndFailedPushes(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, nil) // 3 attempts
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tokLate, tokDown := randomHex(32), randomHex(32)
	e.register(rec, "device-a", tokLate, time.Now())
	e.register(rec, "device-b", tokDown, time.Now())
	e.apns.failFirst(tokLate, http.StatusTooManyRequests, http.StatusTooManyRequests)
	e.apns.failFirst(tokDown, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusInternalServerError)

	e.earn(card)
	e.waitStats("one push delivered on its third attempt, one given up", func(s applepass.PushStats) bool {
		return s.Sent == 1 && s.Failed == 1
	})
	e.settle()
	statuses := map[string][]int{}
	for _, p := range e.apns.received() {
		statuses[p.Token] = append(statuses[p.Token], p.Status)
	}
	if got, want := statuses[tokLate], []int{429, 429, 200}; !slices.Equal(got, want) {
		t.Errorf("answers to the throttled device: %v, want %v", got, want)
	}
	if got, want := statuses[tokDown], []int{500, 503, 500}; !slices.Equal(got, want) {
		t.Errorf("answers to the device behind a failing APNs: %v, want %v (3 attempts)", got, want)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1, Failed: 1}) {
		t.Errorf("stats = %+v, want 1 sent, 1 failed", s)
	}
	if got, want := e.registrations(rec), sorted("device-a:"+tokLate, "device-b:"+tokDown); !slices.Equal(sorted(got...), want) {
		t.Errorf("registrations = %v, want both kept", got)
	}
	e.checkLogs(tokLate, tokDown)
}

func TestPushNetworkErrorsAreRetriedThenFail(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond, Retries: 2}, nil)
	e.apns.server.Close() // APNs unreachable
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tok := randomHex(32)
	e.register(rec, "device-a", tok, time.Now())

	e.earn(card)
	e.waitStats("the push failed", func(s applepass.PushStats) bool { return s.Failed == 1 })
	e.settle()
	if s := e.pusher.Stats(); s != (applepass.PushStats{Failed: 1}) {
		t.Errorf("stats = %+v, want 1 failed", s)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"attempts":2`) {
		t.Errorf("no log line about the push failed after 2 attempts:\n%s", logs)
	}
	if got := e.registrations(rec); len(got) != 1 {
		t.Errorf("registrations = %v, want the device kept", got)
	}
	e.checkLogs(tok)
}

func TestPushOnlyToMembersWithRegisteredPasses(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond, Workers: 1}, nil)
	e.run()
	noPass, noDevice, withDevice := e.member("u1"), e.member("u2"), e.member("u3")
	e.pass(noDevice)
	rec := e.pass(withDevice)
	tok := randomHex(32)
	e.register(rec, "device-a", tok, time.Now())

	e.earn(noPass)
	e.earn(noDevice)
	e.earn(withDevice)
	e.apns.waitPushes(1)
	e.settle()
	if got := tokensOf(e.apns.received()); !slices.Equal(got, []string{tok}) {
		t.Fatalf("pushes went to %v, want only the registered device %s", got, tok)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1}) {
		t.Errorf("stats = %+v, want 1 sent", s)
	}
}

func TestPushDropsChangesBeyondMaxQueued(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond, MaxQueued: 3}, nil)
	card := e.member("u1")
	rec := e.pass(card)
	tok := randomHex(32)
	e.register(rec, "device-a", tok, time.Now())

	var changes []loyalty.CardChange
	for i := range 10 {
		changes = append(changes, loyalty.CardChange{State: loyalty.CardState{ProgramID: e.till.ProgramID, MemberID: fmt.Sprintf("m_gone%d", i)}})
	}
	start := time.Now()
	e.pusher.CardsChanged(changes)
	e.pusher.CardsChanged(changes[:2]) // queued already: absorbed
	e.earn(card)                       // a fourth card: dropped
	if d := time.Since(start); d > time.Second {
		t.Errorf("CardsChanged with a full queue took %v; it must not block", d)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Queued: 3, Dropped: 8}) {
		t.Fatalf("stats with a full queue = %+v, want 3 queued, 8 dropped", s)
	}
	if !strings.Contains(e.logs.String(), "push queue full") {
		t.Errorf("no log line about dropped changes:\n%s", e.logs)
	}

	// Once the queue drains, the card's changes push again.
	e.run()
	e.waitStats("the queue to drain", func(s applepass.PushStats) bool { return s.Queued == 0 })
	e.earn(card)
	e.apns.waitPushes(1)
	e.settle()
	if got := tokensOf(e.apns.received()); !slices.Equal(got, []string{tok}) {
		t.Fatalf("pushes = %v, want one to %s", got, tok)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1, Dropped: 8}) {
		t.Errorf("stats = %+v, want 1 sent, 8 dropped", s)
	}
}

func TestPushRunReturnsWhenCancelled(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, nil)
	start := func() (context.CancelFunc, chan struct{}) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.pusher.Run(ctx)
		}()
		return cancel, done
	}

	// Idle, Run returns at once.
	cancel, done := start()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("idle Run did not return within 1s of its context's end")
	}

	// With a push in flight, Run finishes it first.
	card := e.member("u1")
	rec := e.pass(card)
	e.register(rec, "device-a", randomHex(32), time.Now())
	release := e.apns.holdPushes()
	cancel, done = start()
	e.earn(card)
	e.apns.waitEntered(1)
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a push in flight")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its last push was answered")
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1}) {
		t.Errorf("stats = %+v, want the push in flight sent", s)
	}
}

func TestPushRunAbandonsStuckPushes(t *testing.T) {
	t.Parallel()
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.pusher.Run(ctx)
	}()
	card := e.member("u1")
	rec := e.pass(card)
	e.register(rec, "device-a", randomHex(32), time.Now())
	e.apns.holdPushes() // never answered before the test ends
	e.earn(card)
	e.apns.waitEntered(1)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not abandon a push APNs never answers")
	}
	if !strings.Contains(e.logs.String(), "abandoned the pushes still in flight") {
		t.Errorf("no log line about the abandoned push:\n%s", e.logs)
	}
	if s := e.pusher.Stats(); s.Sent != 0 || s.Failed != 0 {
		t.Errorf("stats = %+v, want the abandoned push neither sent nor failed", s)
	}
}

func TestPushForbiddenLogsOncePerMinute(t *testing.T) {
	t.Parallel()
	f := newFakeAPNs(t, testPassType)
	f.expectBadAuth = true
	// The client signs with a key APNs does not know.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.keyFile = writeP8(t, other)
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, f)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	e.register(rec, "device-a", randomHex(32), time.Now())
	e.register(rec, "device-b", randomHex(32), time.Now())

	e.earn(card)
	e.waitStats("both pushes failed", func(s applepass.PushStats) bool { return s.Failed == 2 })
	e.settle()
	if got := len(f.received()); got != 2 {
		t.Errorf("APNs got %d pushes, want 2: a refused push is not retried", got)
	}
	if s := e.pusher.Stats(); s != (applepass.PushStats{Failed: 2}) {
		t.Errorf("stats = %+v, want 2 failed", s)
	}
	if n := strings.Count(e.logs.String(), "refused our credentials"); n != 1 {
		t.Errorf("logged the refusal %d times, want once a minute:\n%s", n, e.logs)
	}
}

func TestAPNsCertificateClient(t *testing.T) {
	t.Parallel()
	f, _ := newCertFakeAPNs(t, testPassType)
	e := newPushEnv(t, applepass.PusherConfig{Coalesce: 20 * time.Millisecond}, f)
	e.run()
	card := e.member("u1")
	rec := e.pass(card)
	tok := randomHex(32)
	e.register(rec, "device-a", tok, time.Now())

	e.earn(card)
	e.apns.waitPushes(1)
	e.settle()
	if s := e.pusher.Stats(); s != (applepass.PushStats{Sent: 1}) {
		t.Errorf("stats = %+v, want 1 sent with certificate authentication", s)
	}
}

func TestAPNsClientConfigErrors(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := writeP8(t, key)
	junk := filepath.Join(t.TempDir(), "junk.p8")
	if err := os.WriteFile(junk, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  applepass.APNsConfig
	}{
		{"no credentials", applepass.APNsConfig{}},
		{"no key id", applepass.APNsConfig{KeyFile: good, TeamID: "TEAM123456"}},
		{"no team id", applepass.APNsConfig{KeyFile: good, KeyID: "KEY1234567"}},
		{"missing key file", applepass.APNsConfig{KeyFile: filepath.Join(t.TempDir(), "none.p8"), KeyID: "K", TeamID: "T"}},
		{"not a key", applepass.APNsConfig{KeyFile: junk, KeyID: "K", TeamID: "T"}},
	} {
		if _, err := applepass.NewAPNsClient(tc.cfg); err == nil {
			t.Errorf("%s: NewAPNsClient succeeded, want an error", tc.name)
		}
	}
	c, err := applepass.NewAPNsClient(applepass.APNsConfig{KeyFile: good, KeyID: "K", TeamID: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != apns2.HostProduction {
		t.Errorf("default host %s, want production APNs %s (Wallet pushes go there)", c.Host, apns2.HostProduction)
	}
}

func TestPushLogNotifier(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	n := applepass.LogNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	tok := randomHex(32)
	res, err := n.PushWithContext(context.Background(), &apns2.Notification{DeviceToken: tok, Topic: testPassType})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("LogNotifier answered %+v, %v; want 200", res, err)
	}
	if out := logs.String(); !strings.Contains(out, redact.Token(tok)) || strings.Contains(out, tok[:8]) || !strings.Contains(out, testPassType) {
		t.Errorf("log %q: want the topic and the token as redact.Token, nothing of the token", out)
	}
}

// waitFor polls cond until it holds, failing the test after 15s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeP8 writes key as an APNs auth key file (PKCS#8 PEM) and returns its
// path.
func writeP8(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "AuthKey.p8")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
