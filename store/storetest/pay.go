package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
)

// payTests check pay with points: holds, captures and releases.
var payTests = []test{
	{"HoldCaptureRelease", testHoldCaptureRelease},
	{"HoldExpires", testHoldExpires},
	{"HoldBadInput", testHoldBadInput},
	{"ConcurrentHolds", testConcurrentHolds},
}

func (e *env) hold(till loyalty.Till, card loyalty.Card, points int64, key string) loyalty.HoldResult {
	e.t.Helper()
	res, err := e.svc.Hold(e.ctx, till, loyalty.HoldRequest{CardNumber: card.Member.CardNumber, Points: points, IdempotencyKey: key})
	e.must(err)
	return res
}

func (e *env) available(card loyalty.Card) int64 {
	e.t.Helper()
	c, err := e.svc.Card(e.ctx, customer(card))
	e.must(err)
	return c.Standing.Available
}

func testHoldCaptureRelease(t *testing.T, e *env) {
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 10_000, "e1")

	h := e.hold(till, card, 60, "h1")
	if h.Available != 40 || e.available(card) != 40 || e.balance(card) != 100 {
		t.Fatalf("after holding 60 of 100: %+v, available %d, balance %d", h, e.available(card), e.balance(card))
	}
	if again := e.hold(till, card, 60, "h1"); again != h {
		t.Fatalf("replayed Hold = %+v, want %+v", again, h)
	}
	_, err := e.svc.RedeemReward(e.ctx, customer(card), "kaffee", "r1") // 50 > 40
	wantErr(t, err, loyalty.ErrInsufficientPoints)
	_, err = e.svc.Hold(e.ctx, till, loyalty.HoldRequest{CardNumber: card.Member.CardNumber, Points: 41, IdempotencyKey: "h2"})
	wantErr(t, err, loyalty.ErrInsufficientPoints)

	_, err = e.svc.Capture(e.ctx, till, h.Hold.ID, 61, "c0")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	c, err := e.svc.Capture(e.ctx, till, h.Hold.ID, 45, "c1")
	e.must(err)
	if c.Points != 45 || c.Balance != 55 || c.Hold.Status != loyalty.HoldCaptured || e.available(card) != 55 {
		t.Fatalf("Capture = %+v, available %d; want 45 spent, balance 55, 55 available", c, e.available(card))
	}
	if again, err := e.svc.Capture(e.ctx, till, h.Hold.ID, 45, "c1"); err != nil || again != c {
		t.Fatalf("replayed Capture = %+v, %v", again, err)
	}
	_, err = e.svc.Capture(e.ctx, till, h.Hold.ID, 0, "c2")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	_, err = e.svc.Release(e.ctx, till, h.Hold.ID, "rel0")
	wantErr(t, err, loyalty.ErrFailedPrecondition)

	h2 := e.hold(till, card, 30, "h3")
	rel, err := e.svc.Release(e.ctx, till, h2.Hold.ID, "rel1")
	e.must(err)
	if rel.Status != loyalty.HoldReleased || e.available(card) != 55 || e.balance(card) != 55 {
		t.Fatalf("Release = %+v, available %d", rel, e.available(card))
	}
	_, err = e.svc.Capture(e.ctx, till, h2.Hold.ID, 0, "c3")
	wantErr(t, err, loyalty.ErrFailedPrecondition)

	// Another program's till sees no hold.
	tillB := e.seed("cafe-b")
	h3 := e.hold(till, card, 5, "h4")
	_, err = e.svc.Capture(e.ctx, tillB, h3.Hold.ID, 0, "c4")
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.Release(e.ctx, tillB, h3.Hold.ID, "rel2")
	wantErr(t, err, loyalty.ErrNotFound)
}

func testHoldExpires(t *testing.T, e *env) {
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 5000, "e1")
	res, err := e.svc.Hold(e.ctx, till, loyalty.HoldRequest{CardNumber: card.Member.CardNumber, Points: 50, TTL: time.Minute, IdempotencyKey: "h"})
	e.must(err)
	if e.available(card) != 0 {
		t.Fatalf("available %d while everything is held", e.available(card))
	}
	e.clock.Advance(time.Minute)
	if e.available(card) != 50 {
		t.Fatalf("available %d after the hold expired, want 50", e.available(card))
	}
	_, err = e.svc.Capture(e.ctx, till, res.Hold.ID, 0, "late")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	e.redeem(card, "kaffee", "r")
}

func testHoldBadInput(t *testing.T, e *env) {
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 5000, "e1")
	for _, req := range []loyalty.HoldRequest{
		{CardNumber: card.Member.CardNumber, Points: 0, IdempotencyKey: "k"},
		{CardNumber: card.Member.CardNumber, Points: -5, IdempotencyKey: "k"},
		{CardNumber: card.Member.CardNumber, Points: 5, TTL: time.Second, IdempotencyKey: "k"},
		{CardNumber: card.Member.CardNumber, Points: 5, TTL: time.Hour, IdempotencyKey: "k"},
		{CardNumber: card.Member.CardNumber, Points: 5},
		{CardNumber: "123", Points: 5, IdempotencyKey: "k"},
	} {
		_, err := e.svc.Hold(e.ctx, till, req)
		wantErr(t, err, loyalty.ErrInvalid)
	}
	_, err := e.svc.Capture(e.ctx, till, "", 0, "k")
	wantErr(t, err, loyalty.ErrInvalid)
	_, err = e.svc.Capture(e.ctx, till, "hold_nope", 0, "k")
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.Release(e.ctx, till, "hold_nope", "")
	wantErr(t, err, loyalty.ErrInvalid)
}

// testConcurrentHolds: 50 goroutines hold 10 points each, 200 times in
// all, against 100 available points: exactly 10 holds are placed.
func testConcurrentHolds(t *testing.T, e *env) {
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 10_000, "e1")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		placed int
		jobs   = make(chan int)
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := e.svc.Hold(e.ctx, till, loyalty.HoldRequest{CardNumber: card.Member.CardNumber, Points: 10, IdempotencyKey: fmt.Sprint("h", i)})
				mu.Lock()
				switch {
				case err == nil:
					placed++
				case !errors.Is(err, loyalty.ErrInsufficientPoints):
					t.Errorf("Hold: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 200 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if placed != 10 || e.available(card) != 0 {
		t.Fatalf("%d holds placed, %d available; want 10 and 0", placed, e.available(card))
	}
}
