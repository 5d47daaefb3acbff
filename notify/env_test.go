package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

const program = "cafe"

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at returns a wall-clock time in Berlin.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

// start is when every test begins: Wednesday 10 June 2026, 10:00 in
// Berlin.
var start = at(2026, 6, 10, 10, 0)

// testRules are the program's gamification: 1 star per EUR; tiers Silber
// and Gold (100 stars, 1.5×); the opt-in challenge "3 Besuche in 7 Tagen"
// (30 stars); a cake stamp card of 3 for the reward keks.
func testRules() gamification.Rules {
	return gamification.Rules{
		TimeZone: "Europe/Berlin",
		Stars:    gamification.Stars{Points: 1, PerMinor: 100},
		Tiers: []gamification.Tier{
			{ID: "silber", Name: gamification.Text{DE: "Silber", EN: "Silver"}, Multiplier: 1000},
			{ID: "gold", Name: gamification.Text{DE: "Gold", EN: "Gold"}, Multiplier: 1500, QualifyingStars: 100},
		},
		TierPolicy: gamification.TierPolicy{WindowMonths: 12, StatusMonths: 12},
		Challenges: []gamification.Challenge{{
			ID: "three-visits", Name: gamification.Text{DE: "3 Besuche in 7 Tagen", EN: "3 visits in 7 days"},
			Kind: gamification.KindVisits, Target: 3, WindowDays: 7, OptIn: true, Reward: 30,
		}},
		StampCards: []gamification.StampCard{{ID: "cake-card", Name: gamification.Text{DE: "Kuchenkarte", EN: "Cake card"}, Stamps: 3, Categories: []string{"kuchen"}, RewardID: "keks"}},
	}
}

// env is a loyalty.Service on a SQLite store with a simulated clock, whose
// card changes go to a Planner queueing in the same store.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *storetest.Clock
	store   *sqlite.Store
	svc     *loyalty.Service
	till    loyalty.Till
	planner *notify.Planner

	mu      sync.Mutex
	changes []loyalty.CardChange // every change the hook saw
	keys    int                  // idempotency keys used
}

// newEnv seeds the café "Café Treue" with testRules and points expiring
// 12 months after the end of the month they were earned in; change edits
// the seed first.
func newEnv(t *testing.T, change ...func(*loyalty.Seed)) *env {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), clock: storetest.NewClock(start)}
	var err error
	if e.store, err = sqlite.Open(e.ctx, filepath.Join(t.TempDir(), "treue.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.planner = notify.NewPlanner(e.store, notify.PlannerConfig{Clock: e.clock.Now})
	e.svc = loyalty.NewService(e.store, loyalty.WithClock(e.clock.Now), loyalty.WithChangeHook(func(cs []loyalty.CardChange) {
		e.mu.Lock()
		e.changes = append(e.changes, cs...)
		e.mu.Unlock()
		e.planner.CardsChanged(cs)
	}))
	seed := storetest.DemoSeed(program)
	seed.Program.Name = "Café Treue"
	seed.Program.Expiry = loyalty.ExpiryPolicy{MonthsAfterMonthEnd: 12}
	r := testRules()
	seed.Program.Rules = &r
	for _, c := range change {
		c(&seed)
	}
	e.must(e.svc.ApplySeed(e.ctx, seed))
	e.till, err = e.svc.AuthenticateTill(e.ctx, storetest.TillKey(program))
	e.must(err)
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func customer(card loyalty.Card) loyalty.Customer {
	return loyalty.Customer{ProgramID: card.Member.ProgramID, UID: card.Member.FirebaseUID}
}

func key(card loyalty.Card) loyalty.MemberKey {
	return loyalty.MemberKey{ProgramID: card.Member.ProgramID, MemberID: card.Member.ID}
}

// member enrolls uid with locale.
func (e *env) member(uid string, locale loyalty.Locale) loyalty.Card {
	e.t.Helper()
	card, _, err := e.svc.Enroll(e.ctx, loyalty.Customer{ProgramID: program, UID: uid}, locale)
	e.must(err)
	return card
}

// device registers token for card's member, with locale and time zone
// (empty: the program's).
func (e *env) device(card loyalty.Card, token string, locale loyalty.Locale, zone string) {
	e.t.Helper()
	_, err := e.svc.RegisterDevice(e.ctx, customer(card), loyalty.Device{Token: token, Platform: loyalty.PlatformAndroid, Locale: locale, TimeZone: zone})
	e.must(err)
}

// earn posts a purchase of amountMinor cents with lines.
func (e *env) earn(card loyalty.Card, amountMinor int64, lines ...loyalty.LineItem) loyalty.EarnResult {
	e.t.Helper()
	e.mu.Lock()
	e.keys++
	k := fmt.Sprintf("earn-%d", e.keys)
	e.mu.Unlock()
	res, err := e.svc.Earn(e.ctx, e.till, loyalty.EarnRequest{
		CardNumber: card.Member.CardNumber, AmountMinor: amountMinor, Currency: "EUR",
		IdempotencyKey: k, Lines: lines,
	})
	e.must(err)
	return res
}

// consent records the member's choice for p.
func (e *env) consent(card loyalty.Card, p loyalty.Purpose, granted bool) {
	e.t.Helper()
	_, err := e.svc.SetConsent(e.ctx, customer(card), p, granted, "push-2026-06", "app")
	e.must(err)
}

// messages returns the member's queued messages, oldest first.
func (e *env) messages(card loyalty.Card) []notify.Message {
	e.t.Helper()
	ms, err := e.store.Messages(e.ctx, program, card.Member.ID, 500)
	e.must(err)
	slices.Reverse(ms)
	return ms
}

// changesSince returns the changes the hook saw after the first n.
func (e *env) changesSince(n int) []loyalty.CardChange {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.changes[n:])
}

// changeCount returns how many changes the hook saw.
func (e *env) changeCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.changes)
}
