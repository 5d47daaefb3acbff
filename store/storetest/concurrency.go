package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

var concurrencyTests = []test{
	{"RedeemRace", testConcurrentRedeem},
	{"EarnSameKey", testConcurrentEarnSameKey},
	{"EnrollSameUser", testConcurrentEnroll},
	{"MixedMembers", testConcurrentMixed},
}

// testConcurrentRedeem races 1000 redemptions of a 10-point reward against a
// balance of 100: exactly 10 succeed.
func testConcurrentRedeem(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 10_000, "earn-1") // 100 points; keks costs 10
	c := customer(card)
	const workers, perWorker = 50, 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []loyalty.Redemption
		failures = map[string]int{}
		stop     = make(chan struct{})
		readErrs = make(chan error, 4)
	)
	// Readers watch the card while the redemptions run.
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				card, err := e.svc.Card(ctx, c)
				if err == nil && (card.Account.Balance < 0 || card.Account.Balance > 100 || card.Account.Balance%10 != 0) {
					err = fmt.Errorf("a reader saw balance %d", card.Account.Balance)
				}
				if err != nil {
					readErrs <- err
					return
				}
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r, err := e.svc.RedeemReward(ctx, c, "keks", fmt.Sprintf("redeem-%d-%d", w, i))
				mu.Lock()
				switch {
				case err == nil:
					won = append(won, r)
				case errors.Is(err, loyalty.ErrInsufficientPoints):
					failures["insufficient"]++
				default:
					failures[err.Error()]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(readErrs)
	for err := range readErrs {
		t.Errorf("reading during the race: %v", err)
	}
	if len(won) != 10 || failures["insufficient"] != workers*perWorker-10 || len(failures) != 1 {
		t.Errorf("%d redemptions succeeded, failures %v; want 10 and %d insufficient", len(won), failures, workers*perWorker-10)
	}
	s := e.state(card)
	if s.Account.Balance != 0 {
		t.Errorf("final balance = %d, want 0", s.Account.Balance)
	}
	if len(s.Vouchers) != 10 || len(s.Entries) != 11 {
		t.Errorf("%d vouchers and %d entries, want 10 and 11", len(s.Vouchers), len(s.Entries))
	}
	balances := map[int64]bool{}
	for _, r := range won {
		balances[r.Balance] = true
	}
	if len(balances) != 10 {
		t.Errorf("the winners saw balances %v, want 10 different ones (0..90)", balances)
	}
	e.checkInvariants()
}

// testConcurrentEarnSameKey sends one purchase 100 times at once, as a till
// retrying eagerly would: one purchase is written, every call gets its
// result.
func testConcurrentEarnSameKey(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	req := loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 4711, Currency: "EUR", IdempotencyKey: "earn-once", ReceiptID: "R-4711"}
	const n = 100
	results := make([]loyalty.EarnResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.svc.Earn(ctx, till, req)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0], results[i]); diff != "" {
			t.Fatalf("call %d got another result (-call 0 +call %d):\n%s", i, i, diff)
		}
	}
	s := e.state(card)
	if len(s.Entries) != 1 || s.Account.Balance != 47 || results[0].Points != 47 {
		t.Errorf("%d entries, balance %d, result %+v; want one entry of 47 points", len(s.Entries), s.Account.Balance, results[0])
	}
	e.view(func(tx loyalty.Tx) error {
		p, err := tx.PurchaseByReceipt(ctx, "cafe-a", "R-4711")
		if err == nil && p.ID != results[0].PurchaseID {
			t.Errorf("stored purchase %s, results name %s", p.ID, results[0].PurchaseID)
		}
		return err
	})
	e.checkInvariants()
}

// testConcurrentEnroll enrolls one user from many goroutines: one member.
func testConcurrentEnroll(t *testing.T, e *env) {
	ctx := e.ctx
	e.seed("cafe-a")
	const n = 20
	cards := make([]loyalty.Card, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cards[i], created[i], errs[i] = e.svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u1"}, loyalty.LocaleDE)
		}()
	}
	wg.Wait()
	nCreated := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Enroll %d: %v", i, errs[i])
		}
		if created[i] {
			nCreated++
		}
		if diff := cmp.Diff(cards[0].Member, cards[i].Member); diff != "" {
			t.Errorf("Enroll %d returned another member (-0 +%d):\n%s", i, i, diff)
		}
	}
	if nCreated != 1 {
		t.Errorf("%d calls report creating the member, want 1", nCreated)
	}
	e.view(func(tx loyalty.Tx) error {
		m, err := tx.MemberByCard(ctx, "", cards[0].Member.CardNumber)
		if err == nil && m.ID != cards[0].Member.ID {
			t.Errorf("card belongs to %s, want %s", m.ID, cards[0].Member.ID)
		}
		return err
	})
}

// testConcurrentMixed runs earns, redemptions and returns for several
// members at once; every balance ends where the sequential sum says.
func testConcurrentMixed(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	const members, rounds = 8, 10
	cards := make([]loyalty.Card, members)
	for i := range cards {
		cards[i] = e.enroll("cafe-a", fmt.Sprint("u", i))
	}
	errs := make(chan error, members)
	var wg sync.WaitGroup
	for i, card := range cards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// +30 points, -10 for a keks, -10 for returning a third.
				res, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 3000, Currency: "EUR",
					IdempotencyKey: fmt.Sprintf("earn-%d-%d", i, r)})
				if err == nil {
					_, err = e.svc.RedeemReward(ctx, customer(card), "keks", fmt.Sprintf("redeem-%d-%d", i, r))
				}
				if err == nil {
					_, err = e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: res.PurchaseID, AmountMinor: 1000, IdempotencyKey: fmt.Sprintf("rev-%d-%d", i, r)})
				}
				if err != nil {
					errs <- fmt.Errorf("member %d round %d: %w", i, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, card := range cards {
		s := e.state(card)
		if s.Account.Balance != rounds*10 || len(s.Entries) != rounds*3 || s.Account.Version != rounds*3 {
			t.Errorf("member %d: balance %d, %d entries, version %d; want %d, %d, %d",
				i, s.Account.Balance, len(s.Entries), s.Account.Version, rounds*10, rounds*3, rounds*3)
		}
	}
	e.checkInvariants()
}
