// Package storetest is the conformance suite every loyalty.Store passes. A
// store's own tests call Run with a function that opens a fresh, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			s := open(t)
//			return storetest.Harness{Store: s, CheckInvariants: s.CheckInvariants}
//		})
//	}
//
// The suite checks the Tx primitives directly and the Service's rules on top
// of the store, including under concurrency.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// Harness is a store under test.
type Harness struct {
	Store loyalty.Store
	// CheckInvariants, when not nil, verifies the ledger over the whole
	// store (balance == sum of entries, no negative balance, a consistent
	// balance_after chain) and returns an error describing any violation.
	// The suite calls it at the end of every subtest.
	CheckInvariants func(context.Context) error
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// Run runs the suite. It calls open once per subtest for a fresh, empty
// store, and closes that store when the subtest ends. Subtests run in
// parallel, so open must be safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Tx", txTests},
		{"Service", serviceTests},
		{"Concurrency", concurrencyTests},
		{"LotTx", lotTxTests},
		{"Lots", lotTests},
		{"Pay", payTests},
		{"Expiry", expiryTests},
		{"Outbox", outboxTests},
		{"GameState", gameStateTests},
		{"Game", gameTests},
		{"Consent", consentTests},
		{"Device", deviceTests},
		{"Reminder", reminderTests},
		{"Privacy", privacyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, open(t))
					defer e.checkInvariants()
					tt.fn(t, e)
				})
			}
		})
	}
}

// start is the simulated clock's first reading. It is not in UTC and has
// nanoseconds, which the Service drops.
var start = time.Date(2025, 6, 1, 9, 30, 0, 123_456_789, time.FixedZone("CEST", 2*60*60))

// env is one subtest's store, clock and Service.
type env struct {
	t     *testing.T
	ctx   context.Context
	h     Harness
	store loyalty.Store
	clock *Clock
	svc   *loyalty.Service
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	if h.Store == nil {
		t.Fatal("storetest: open returned no Store")
	}
	t.Cleanup(func() {
		if err := h.Store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	clock := NewClock(start)
	return &env{
		t: t, ctx: t.Context(), h: h, store: h.Store, clock: clock,
		svc: loyalty.NewService(h.Store, loyalty.WithClock(clock.Now)),
	}
}

// now returns the time the Service stamps on what it writes now.
func (e *env) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

// checkInvariants fails the test when the store's ledger is inconsistent.
func (e *env) checkInvariants() {
	e.t.Helper()
	if e.h.CheckInvariants == nil {
		return
	}
	if err := e.h.CheckInvariants(e.ctx); err != nil {
		e.t.Errorf("ledger invariants: %v", err)
	}
}

// must fails the test when err is not nil.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// wantErr fails the test unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %q", err, target)
	}
}

// update runs fn in a write transaction and fails the test on error.
func (e *env) update(fn func(tx loyalty.Tx) error) {
	e.t.Helper()
	e.must(e.store.Update(e.ctx, fn))
}

// view runs fn in a read transaction and fails the test on error.
func (e *env) view(fn func(tx loyalty.Tx) error) {
	e.t.Helper()
	e.must(e.store.View(e.ctx, fn))
}

// seed applies DemoSeed(programID) and returns its authenticated till.
func (e *env) seed(programID string) loyalty.Till {
	e.t.Helper()
	e.must(e.svc.ApplySeed(e.ctx, DemoSeed(programID)))
	till, err := e.svc.AuthenticateTill(e.ctx, TillKey(programID))
	e.must(err)
	return till
}

// enroll enrolls uid in the program and returns the new card.
func (e *env) enroll(programID, uid string) loyalty.Card {
	e.t.Helper()
	card, created, err := e.svc.Enroll(e.ctx, loyalty.Customer{ProgramID: programID, UID: uid}, loyalty.LocaleDE)
	e.must(err)
	if !created {
		e.t.Fatalf("Enroll(%s, %s): created = false for a new user", programID, uid)
	}
	return card
}

// customer returns the signed-in user of card.
func customer(card loyalty.Card) loyalty.Customer {
	return loyalty.Customer{ProgramID: card.Member.ProgramID, UID: card.Member.FirebaseUID}
}

// earn posts a purchase of amountMinor EUR under key and fails the test on
// error.
func (e *env) earn(till loyalty.Till, card loyalty.Card, amountMinor int64, key string) loyalty.EarnResult {
	e.t.Helper()
	res, err := e.svc.Earn(e.ctx, till, loyalty.EarnRequest{
		CardNumber: card.Member.CardNumber, AmountMinor: amountMinor, Currency: "EUR", IdempotencyKey: key,
	})
	e.must(err)
	return res
}

// redeem redeems the reward for the card's member under key and fails the
// test on error.
func (e *env) redeem(card loyalty.Card, rewardID, key string) loyalty.Redemption {
	e.t.Helper()
	r, err := e.svc.RedeemReward(e.ctx, customer(card), rewardID, key)
	e.must(err)
	return r
}

// state is what a member's writes can change, read in one transaction.
type state struct {
	Account  loyalty.Account
	Entries  []loyalty.Entry
	Vouchers []loyalty.Voucher
	Rewards  []loyalty.Reward
}

// maxRead bounds the entries and vouchers state reads.
const maxRead = 1000

// state returns the member's account, entries, vouchers and the program's
// rewards.
func (e *env) state(card loyalty.Card) state {
	e.t.Helper()
	p, m := card.Member.ProgramID, card.Member.ID
	var s state
	e.view(func(tx loyalty.Tx) error {
		var err error
		if s.Account, err = tx.Account(e.ctx, p, m); err != nil {
			return err
		}
		if s.Entries, err = tx.Entries(e.ctx, p, m, 0, maxRead); err != nil {
			return err
		}
		if s.Vouchers, err = tx.Vouchers(e.ctx, p, m, maxRead); err != nil {
			return err
		}
		s.Rewards, err = tx.Rewards(e.ctx, p)
		return err
	})
	return s
}

// unchanged fails the test when the member's state differs from before.
func (e *env) unchanged(card loyalty.Card, before state) {
	e.t.Helper()
	if diff := cmp.Diff(before, e.state(card)); diff != "" {
		e.t.Fatalf("a failed or repeated operation changed the store (-before +after):\n%s", diff)
	}
}

// balance returns the member's balance.
func (e *env) balance(card loyalty.Card) int64 {
	e.t.Helper()
	return e.state(card).Account.Balance
}

// testCard returns the i-th made-up card number: 16 digits with a valid
// check digit.
func testCard(i int) string {
	body := fmt.Sprintf("9276%011d", i)
	return body + string(luhnDigit(body))
}

// luhnDigit returns the Luhn check digit of body.
func luhnDigit(body string) byte {
	sum, double := 0, true
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}
