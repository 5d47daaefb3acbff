package googlepass_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
	"github.com/treue/treue/wallet/googlepass"
	"github.com/treue/treue/wallet/googlepass/fakegoogle"
)

// syncEnv is a Syncer fed by a loyalty.Service's change hook on a SQLite
// store, writing through the RESTClient to a fake Wallet REST API, with
// a simulated clock shared by the ledger and the notification limits.
type syncEnv struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	passes googlepass.Store
	svc    *loyalty.Service
	till   loyalty.Till
	clock  *storetest.Clock
	acct   googlepass.Account
	wallet *fakegoogle.Wallet
	links  *googlepass.Service
	syncer *googlepass.Syncer
}

const testProgram = "cafe"

// newSyncEnv starts a Syncer; cfg's Store, API, Cards, IssuerID and Now
// are filled in, and a zero Coalesce becomes 100ms.
func newSyncEnv(t *testing.T, cfg googlepass.SyncerConfig) *syncEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e := &syncEnv{t: t, ctx: ctx, clock: storetest.NewClock(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))}
	var err error
	if e.store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "treue.db")); err != nil {
		t.Fatal(err)
	}
	e.passes = e.store.GooglePasses()
	e.svc = loyalty.NewService(e.store, loyalty.WithClock(e.clock.Now),
		loyalty.WithChangeHook(func(c []loyalty.CardChange) { e.syncer.CardsChanged(c) }))
	// Points expire, so that expiry warnings are due some day.
	seed := storetest.DemoSeed(testProgram)
	seed.Program.Expiry = loyalty.ExpiryPolicy{MonthsAfterMonthEnd: 12}
	if err := e.svc.ApplySeed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if e.till, err = e.svc.AuthenticateTill(ctx, storetest.TillKey(testProgram)); err != nil {
		t.Fatal(err)
	}
	if e.acct, _, err = googlepass.LoadOrCreateDevAccount(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.wallet = fakegoogle.NewWallet()
	e.wallet.AddAccount(e.acct.Email, &e.acct.Key.PublicKey)
	api, err := googlepass.NewRESTClient(googlepass.RESTConfig{Account: e.acct, Endpoint: e.wallet.Endpoint(), TokenURL: e.wallet.TokenURL()})
	if err != nil {
		t.Fatal(err)
	}
	if e.links, err = googlepass.NewService(googlepass.Config{Account: e.acct, Cards: e.svc, Store: e.passes, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.API, cfg.Cards, cfg.IssuerID, cfg.Now = e.passes, api, e.svc, e.acct.IssuerID, e.clock.Now
	if cfg.Coalesce == 0 {
		cfg.Coalesce = 100 * time.Millisecond
	}
	if e.syncer, err = googlepass.NewSyncer(cfg); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.syncer.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.wallet.Close()
		e.store.Close()
	})
	return e
}

// member enrolls uid and returns their card.
func (e *syncEnv) member(uid string) loyalty.Card {
	e.t.Helper()
	card, _, err := e.svc.Enroll(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: uid}, loyalty.LocaleDE)
	if err != nil {
		e.t.Fatal(err)
	}
	return card
}

// save makes uid's save link and saves their object as Google does: the
// object from the link is stored and a save callback recorded. It returns
// the object's id.
func (e *syncEnv) save(uid string) string {
	e.t.Helper()
	link, id, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: uid})
	if err != nil {
		e.t.Fatal(err)
	}
	var claims struct {
		Payload struct {
			LoyaltyObjects []json.RawMessage `json:"loyaltyObjects"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(decodeJWTPart(e.t, saveLinkJWT(e.t, link), 1), &claims); err != nil {
		e.t.Fatal(err)
	}
	if err := e.wallet.PutObject(claims.Payload.LoyaltyObjects[0]); err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.passes.SetSaved(e.ctx, id, true, e.clock.Now().Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// earn earns amountMinor cents for the card and returns the new balance.
func (e *syncEnv) earn(card loyalty.Card, amountMinor int64, key string) int64 {
	e.t.Helper()
	res, err := e.svc.Earn(e.ctx, e.till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: amountMinor, Currency: "EUR", IdempotencyKey: key})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Balance
}

// requests returns the API requests with method to the path.
func (e *syncEnv) requests(method, path string) []fakegoogle.Request {
	var out []fakegoogle.Request
	for _, r := range e.wallet.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond for up to 10 seconds.
func (e *syncEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; stats %+v", what, e.syncer.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// idle waits until the Syncer has nothing queued and nothing more happens
// for a while (twice the coalescing delay).
func (e *syncEnv) idle() {
	e.t.Helper()
	e.waitFor("the sync queue to drain", func() bool { return e.syncer.Stats().Queued == 0 })
	for n := -1; ; {
		time.Sleep(250 * time.Millisecond)
		now := len(e.wallet.Requests())
		if now == n && e.syncer.Stats().Queued == 0 {
			return
		}
		n = now
	}
}

// patchedBalance returns the loyalty points balance a PATCH body sets.
func patchedBalance(t *testing.T, body []byte) int64 {
	t.Helper()
	var o struct {
		LoyaltyPoints struct {
			Balance struct {
				Int *int64 `json:"int"`
			} `json:"balance"`
		} `json:"loyaltyPoints"`
	}
	if err := json.Unmarshal(body, &o); err != nil || o.LoyaltyPoints.Balance.Int == nil {
		t.Fatalf("PATCH body without a balance (%v): %s", err, body)
	}
	return *o.LoyaltyPoints.Balance.Int
}

// TestSyncEarnPatchesOnce: an earn leads to exactly one PATCH of the
// member's object, authenticated, carrying the new balance, and nothing
// notifies.
func TestSyncEarnPatchesOnce(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	card := e.member("alice")
	id := e.save("alice")
	balance := e.earn(card, 1250, "bon-1")
	path := fakegoogle.ObjectPath(id)
	e.waitFor("a PATCH", func() bool { return len(e.requests(http.MethodPatch, path)) > 0 })
	e.idle()
	patches := e.requests(http.MethodPatch, path)
	if len(patches) != 1 {
		t.Fatalf("%d PATCHes of %s, want 1", len(patches), id)
	}
	if got := patchedBalance(t, patches[0].Body); got != balance || balance == 0 {
		t.Fatalf("PATCH balance %d, want the new balance %d", got, balance)
	}
	if n := len(e.wallet.Requests()); n != 1 {
		t.Fatalf("%d API requests, want the one PATCH: %+v", n, e.wallet.Requests())
	}
	if msgs := e.wallet.Messages(id); len(msgs) != 0 {
		t.Fatalf("messages %s, want none for an earn", msgs)
	}
	obj, _ := e.wallet.Object(id)
	if got := patchedBalance(t, obj); got != balance {
		t.Fatalf("stored object balance %d, want %d", got, balance)
	}
	if e.wallet.TokenPurchases() != 1 {
		t.Fatalf("%d OAuth tokens bought, want 1", e.wallet.TokenPurchases())
	}
	p, err := e.passes.Pass(e.ctx, testProgram, card.Member.ID)
	if err != nil || p.SyncedAt.IsZero() || p.Tier != "Silber" {
		t.Fatalf("pass after sync: %+v, %v; want synced with tier Silber", p, err)
	}
}

// TestSyncBurstIsCoalesced: 50 earns in a row lead to a number of PATCHes
// bounded by the burst's length over the coalescing delay, and the last
// one carries the final balance.
func TestSyncBurstIsCoalesced(t *testing.T) {
	t.Parallel()
	const coalesce = time.Second
	e := newSyncEnv(t, googlepass.SyncerConfig{Coalesce: coalesce})
	card := e.member("alice")
	id := e.save("alice")
	start := time.Now()
	var balance int64
	for i := range 50 {
		balance = e.earn(card, 100+int64(i), fmt.Sprintf("bon-%d", i))
	}
	burst := time.Since(start)
	e.waitFor("the last PATCH", func() bool {
		p := e.requests(http.MethodPatch, fakegoogle.ObjectPath(id))
		return len(p) > 0 && patchedBalance(t, p[len(p)-1].Body) == balance
	})
	e.idle()
	patches := e.requests(http.MethodPatch, fakegoogle.ObjectPath(id))
	// A change while a PATCH is in flight makes one more after it; each
	// PATCH absorbs the changes of one coalescing delay.
	bound := 2 + int(burst/coalesce)
	t.Logf("50 earns in %v: %d PATCHes (bound %d)", burst.Round(time.Millisecond), len(patches), bound)
	if len(patches) > bound {
		t.Fatalf("%d PATCHes for a burst of 50 earns in %v, want at most %d", len(patches), burst, bound)
	}
	if got := patchedBalance(t, patches[len(patches)-1].Body); got != balance {
		t.Fatalf("last PATCH balance %d, want %d", got, balance)
	}
}

// TestSyncNotifiesAtMostThreeTimesPerDay: tier changes notify through
// addMessage, but never more than 3 times per pass in any 24 hours on
// the simulated clock; further ones are added as plain text, and once the
// window has passed notifications go out again.
func TestSyncNotifiesAtMostThreeTimesPerDay(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{Coalesce: 10 * time.Millisecond})
	card := e.member("alice")
	id := e.save("alice")
	st, err := e.svc.MemberCardState(e.ctx, loyalty.MemberKey{ProgramID: testProgram, MemberID: card.Member.ID})
	if err != nil {
		t.Fatal(err)
	}
	// The first sync shows the tier without a message.
	e.syncer.CardsChanged([]loyalty.CardChange{{State: st}})
	e.idle()
	if n := len(e.wallet.Messages(id)); n != 0 {
		t.Fatalf("%d messages after the first sync, want 0", n)
	}
	type sent struct {
		at     time.Time
		notify bool
	}
	var log []sent
	tiers := []loyalty.Text{{DE: "Gold", EN: "Gold"}, {DE: "Silber", EN: "Silver"}}
	// 12 tier changes two hours apart, then 8 more after a day's pause.
	for i := range 20 {
		if i == 12 {
			e.clock.Advance(24 * time.Hour)
		}
		e.clock.Advance(2 * time.Hour)
		st.Version++
		st.TierName = tiers[i%2]
		e.syncer.CardsChanged([]loyalty.CardChange{{State: st}})
		e.waitFor("a message", func() bool { return len(e.wallet.Messages(id)) == i+1 })
		var m struct {
			MessageType string `json:"messageType"`
			Body        string `json:"body"`
		}
		if err := json.Unmarshal(e.wallet.Messages(id)[i], &m); err != nil {
			t.Fatal(err)
		}
		if want := "Du bist jetzt " + st.TierName.DE + "."; m.Body != want {
			t.Fatalf("message %d body %q, want %q", i, m.Body, want)
		}
		log = append(log, sent{at: e.clock.Now(), notify: m.MessageType == "TEXT_AND_NOTIFY"})
	}
	notified := 0
	for i, s := range log {
		inWindow := 0
		for _, o := range log[:i+1] {
			if o.notify && s.at.Sub(o.at) < googlepass.NotifyWindow {
				inWindow++
			}
		}
		if inWindow > googlepass.NotifyLimit {
			t.Fatalf("%d notifying messages in the 24 h before %v, want at most %d", inWindow, s.at, googlepass.NotifyLimit)
		}
		if s.notify {
			notified++
		}
	}
	// 3 in the first day; after the pause the window has moved on: 3 more.
	if notified != 6 || !log[12].notify {
		t.Fatalf("%d notifying messages (log %+v), want 6, the 13th among them", notified, log)
	}
	if st := e.syncer.Stats(); st.Notified != 6 || st.Unnotified != 14 {
		t.Fatalf("stats %+v, want 6 notified and 14 not", st)
	}
}

// TestSyncWarnsOfExpiringPointsOnce: when a change finds points expiring
// within 30 days, the object gets one notifying warning with the date, and
// later changes before that date do not warn again.
func TestSyncWarnsOfExpiringPointsOnce(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	card := e.member("alice")
	id := e.save("alice")
	e.earn(card, 2000, "bon-1")
	e.idle()
	if n := len(e.wallet.Messages(id)); n != 0 {
		t.Fatalf("%d messages with expiry far away, want 0", n)
	}
	st, err := e.svc.MemberCardState(e.ctx, loyalty.MemberKey{ProgramID: testProgram, MemberID: card.Member.ID})
	if err != nil || st.NextExpiry.IsZero() {
		t.Fatalf("card %+v, %v: want points that expire", st, err)
	}
	e.clock.Set(st.NextExpiry.Add(-20 * 24 * time.Hour))
	e.earn(card, 500, "bon-2")
	e.waitFor("the warning", func() bool { return len(e.wallet.Messages(id)) == 1 })
	e.earn(card, 500, "bon-3")
	e.idle()
	msgs := e.wallet.Messages(id)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want one warning: %s", len(msgs), msgs)
	}
	var m struct {
		MessageType     string `json:"messageType"`
		Body            string `json:"body"`
		DisplayInterval struct {
			End struct {
				Date string `json:"date"`
			} `json:"end"`
		} `json:"displayInterval"`
	}
	if err := json.Unmarshal(msgs[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.MessageType != "TEXT_AND_NOTIFY" || m.DisplayInterval.End.Date != st.NextExpiry.UTC().Format(time.RFC3339) {
		t.Fatalf("warning %s, want TEXT_AND_NOTIFY shown until %v", msgs[0], st.NextExpiry)
	}
	t.Logf("warning: %s", m.Body)
}

// TestSyncRetriesThrottledCalls: a PATCH answered 429 with Retry-After is
// sent again after the wait Google asked for, and then succeeds.
func TestSyncRetriesThrottledCalls(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	card := e.member("alice")
	id := e.save("alice")
	e.wallet.Fail(2, http.StatusTooManyRequests, "1")
	balance := e.earn(card, 1250, "bon-1")
	path := fakegoogle.ObjectPath(id)
	e.waitFor("a successful PATCH", func() bool {
		p := e.requests(http.MethodPatch, path)
		return len(p) > 0 && p[len(p)-1].Status == http.StatusOK
	})
	patches := e.requests(http.MethodPatch, path)
	if len(patches) != 3 || patches[0].Status != http.StatusTooManyRequests || patches[1].Status != http.StatusTooManyRequests {
		t.Fatalf("PATCH statuses %v, want 429, 429, 200", statuses(patches))
	}
	for i := 1; i < 3; i++ {
		if gap := patches[i].At.Sub(patches[i-1].At); gap < 900*time.Millisecond {
			t.Fatalf("attempt %d came %v after the 429 that asked for 1 s", i+1, gap)
		}
	}
	if got := patchedBalance(t, patches[2].Body); got != balance {
		t.Fatalf("balance %d, want %d", got, balance)
	}
}

func statuses(rs []fakegoogle.Request) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Status)
	}
	return out
}

// TestSyncFailureNeverBlocksPurchases: with Google failing every call,
// earns succeed at once, the sync gives up after its retries and counts
// the failure.
func TestSyncFailureNeverBlocksPurchases(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{Retries: 2})
	card := e.member("alice")
	e.save("alice")
	e.wallet.Fail(1000, http.StatusServiceUnavailable, "")
	for i := range 5 {
		e.earn(card, 100, fmt.Sprintf("bon-%d", i))
	}
	e.waitFor("a failed sync", func() bool { return e.syncer.Stats().Failed > 0 })
	if st := e.syncer.Stats(); st.Patched != 0 {
		t.Fatalf("stats %+v, want nothing patched", st)
	}
}

// TestSyncOnlyObjectsInWallets: a member with a link but no save
// callback, and a member without a link, get no requests; a delete
// callback stops the updates.
func TestSyncOnlyObjectsInWallets(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	linked, plain, saved := e.member("linked"), e.member("plain"), e.member("saved")
	if _, _, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: "linked"}); err != nil {
		t.Fatal(err)
	}
	id := e.save("saved")
	e.earn(linked, 100, "bon-1")
	e.earn(plain, 100, "bon-2")
	e.idle()
	if n := len(e.wallet.Requests()); n != 0 {
		t.Fatalf("%d requests for members without the pass in their wallet", n)
	}
	if st := e.syncer.Stats(); st.Skipped != 2 {
		t.Fatalf("stats %+v, want 2 skipped", st)
	}
	e.earn(saved, 100, "bon-3")
	e.idle()
	if _, _, err := e.passes.SetSaved(e.ctx, id, false, e.clock.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.earn(saved, 100, "bon-4")
	e.idle()
	if n := len(e.requests(http.MethodPatch, fakegoogle.ObjectPath(id))); n != 1 {
		t.Fatalf("%d PATCHes, want 1 (before the delete)", n)
	}
}

// TestSyncInsertsMissingObject: when Google has no object (404 on PATCH),
// the sync inserts the whole object.
func TestSyncInsertsMissingObject(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	card := e.member("alice")
	_, id, err := e.links.SaveLink(e.ctx, loyalty.Customer{ProgramID: testProgram, UID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.passes.SetSaved(e.ctx, id, true, e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	balance := e.earn(card, 1250, "bon-1")
	e.waitFor("the object", func() bool { _, ok := e.wallet.Object(id); return ok })
	obj, _ := e.wallet.Object(id)
	if got := patchedBalance(t, obj); got != balance {
		t.Fatalf("inserted balance %d, want %d", got, balance)
	}
	if n := len(e.requests(http.MethodPost, "/walletobjects/v1/loyaltyObject")); n != 1 {
		t.Fatalf("%d inserts, want 1", n)
	}
}

// TestSyncStaysUnderTheRate: 12 cards changed at once are written at no
// more than Rate requests per second after the first second's burst.
func TestSyncStaysUnderTheRate(t *testing.T) {
	t.Parallel()
	const rate = 4
	e := newSyncEnv(t, googlepass.SyncerConfig{Rate: rate, Workers: 8})
	var mu sync.Mutex
	var changes []loyalty.CardChange
	for i := range 12 {
		uid := fmt.Sprintf("m%d", i)
		card := e.member(uid)
		e.save(uid)
		st, err := e.svc.MemberCardState(e.ctx, loyalty.MemberKey{ProgramID: testProgram, MemberID: card.Member.ID})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		changes = append(changes, loyalty.CardChange{State: st})
		mu.Unlock()
	}
	e.syncer.CardsChanged(changes)
	e.waitFor("12 PATCHes", func() bool { return len(e.wallet.Requests()) == 12 })
	reqs := e.wallet.Requests()
	// A token bucket lets requests i..j (j-i+1 of them) through in no less
	// than (j-i+1-rate)/rate seconds. Arrival times add network and
	// scheduling delay to each request, so one token of slack is allowed:
	// a late first arrival must not make the ones after it look early.
	for i := range reqs {
		for j := i + 1; j < len(reqs); j++ {
			earliest := time.Duration(max(0, j-i-rate)) * time.Second / rate
			if d := reqs[j].At.Sub(reqs[i].At); d < earliest-50*time.Millisecond {
				t.Fatalf("requests %d..%d within %v, not before %v at %d/s", i, j, d, earliest, rate)
			}
		}
	}
}

// TestEnsureClasses: the first start inserts the class, a later start
// replaces it, with the callback URL.
func TestEnsureClasses(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, googlepass.SyncerConfig{})
	p, err := e.svc.Program(e.ctx, testProgram)
	if err != nil {
		t.Fatal(err)
	}
	urls := googlepass.ClassURLs{Logo: "https://treue.example/google-wallet/logo.png", Callback: "https://treue.example/google-wallet/callbacks"}
	for range 2 {
		if err := e.syncer.EnsureClasses(e.ctx, []loyalty.Program{p}, urls); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range e.wallet.Requests() {
		got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	classID := googlepass.ClassID(e.acct.IssuerID, testProgram)
	want := []string{
		"POST /walletobjects/v1/loyaltyClass 200",
		"POST /walletobjects/v1/loyaltyClass 409",
		"PUT /walletobjects/v1/loyaltyClass/" + classID + " 200",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	class, _ := e.wallet.Class(classID)
	var c struct {
		CallbackOptions struct {
			URL string `json:"url"`
		} `json:"callbackOptions"`
	}
	if err := json.Unmarshal(class, &c); err != nil || c.CallbackOptions.URL != urls.Callback {
		t.Fatalf("class %s: want callback %s", class, urls.Callback)
	}
}
