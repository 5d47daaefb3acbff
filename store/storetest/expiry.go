package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
)

// expiryTests check the expiry job.
var expiryTests = []test{
	{"ExpireDue", testExpireDue},
	{"ExpiryKeepsHeldPoints", testExpiryKeepsHeldPoints},
	{"ExpiryRacesRedeems", testExpiryRacesRedeems},
}

func (e *env) expire() loyalty.ExpiryRun {
	e.t.Helper()
	run, err := e.svc.ExpireDue(e.ctx, nil)
	e.must(err)
	return run
}

func testExpireDue(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u1")
	other := e.enroll("cafe-a", "u2")
	e.earn(till, card, 3000, "june")   // expires 1 August, Berlin
	e.earn(till, other, 1000, "other") // likewise
	e.clock.Advance(35 * 24 * time.Hour)
	e.earn(till, card, 2000, "july") // expires 1 September
	e.redeem(card, "keks", "r1")     // 10 of June's 30

	if run := e.expire(); run != (loyalty.ExpiryRun{}) {
		t.Fatalf("expiry before anything is due: %+v", run)
	}
	aug := time.Date(2025, 8, 1, 0, 0, 0, 0, berlin)
	e.clock.Set(aug.Add(-time.Microsecond))
	if run := e.expire(); run.Points != 0 {
		t.Fatalf("expiry a microsecond early took %d points", run.Points)
	}
	e.clock.Set(aug)
	if run := e.expire(); run != (loyalty.ExpiryRun{Members: 2, Points: 30}) {
		t.Fatalf("expiry on 1 August = %+v, want 20 + 10 points of 2 members", run)
	}
	if run := e.expire(); run != (loyalty.ExpiryRun{}) {
		t.Fatalf("second run on 1 August = %+v, want nothing", run)
	}
	s := e.state(card)
	if s.Account.Balance != 20 || s.Entries[0].Kind != loyalty.EntryExpire || s.Entries[0].Points != -20 {
		t.Fatalf("after expiry: balance %d, newest entry %+v", s.Account.Balance, s.Entries[0])
	}
	if r := s.Entries[0].Reason(loyalty.LocaleEN); r != "Points expired" {
		t.Errorf("reason %q", r)
	}
	e.clock.Set(time.Date(2025, 9, 1, 0, 0, 0, 0, berlin))
	if run := e.expire(); run.Points != 20 || e.balance(card) != 0 || e.balance(other) != 0 {
		t.Fatalf("expiry on 1 September = %+v", run)
	}
}

func testExpiryKeepsHeldPoints(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 3000, "june")
	aug := time.Date(2025, 8, 1, 0, 0, 0, 0, berlin)
	e.clock.Set(aug.Add(-5 * time.Minute))
	h := e.hold(till, card, 25, "pay")
	e.clock.Set(aug)
	if run := e.expire(); run.Points != 5 {
		t.Fatalf("expiry with 25 of 30 held took %d points, want 5", run.Points)
	}
	c, err := e.svc.Capture(e.ctx, till, h.Hold.ID, 20, "cap")
	e.must(err)
	if c.Balance != 5 {
		t.Fatalf("capture of a held expiring lot: balance %d, want 5", c.Balance)
	}
	// The hold is closed: what it kept expires on the next run.
	if run := e.expire(); run.Points != 5 || e.balance(card) != 0 {
		t.Fatalf("expiry after the capture = %+v, balance %d", run, e.balance(card))
	}
}

// testExpiryRacesRedeems runs the expiry job at the cutoff while members
// redeem: for every member, earned = spent + expired + remaining, and no
// point is both spent and expired.
func testExpiryRacesRedeems(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	const members = 20
	cards := make([]loyalty.Card, members)
	for i := range cards {
		cards[i] = e.enroll("cafe-a", fmt.Sprint("u", i))
		e.earn(till, cards[i], 10_000, fmt.Sprint("e", i))
	}
	aug := time.Date(2025, 8, 1, 0, 0, 0, 0, berlin)
	e.clock.Set(aug.Add(-time.Millisecond))
	var wg sync.WaitGroup
	for i, c := range cards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				_, err := e.svc.RedeemReward(e.ctx, customer(c), "keks", fmt.Sprint("r", i, "-", j))
				if err != nil && !errors.Is(err, loyalty.ErrInsufficientPoints) {
					t.Errorf("redeem: %v", err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.clock.Set(aug)
		if _, err := e.svc.ExpireDue(e.ctx, nil); err != nil {
			t.Errorf("ExpireDue: %v", err)
		}
	}()
	wg.Wait()
	e.expire() // whatever redeems started before the cutoff left
	for _, c := range cards {
		var earned, spent, expired int64
		for _, en := range e.state(c).Entries {
			switch en.Kind {
			case loyalty.EntryEarn:
				earned += en.Points
			case loyalty.EntryRedeem:
				spent -= en.Points
			case loyalty.EntryExpire:
				expired -= en.Points
			}
		}
		if remaining := e.balance(c); earned != spent+expired+remaining || remaining != 0 {
			t.Errorf("member %s: earned %d, spent %d, expired %d, remaining %d", c.Member.ID, earned, spent, expired, remaining)
		}
	}
}
