package bff_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestReplayIsByteForByte retries every write with its key and checks that
// the answer is the first one, to the byte, and that nothing more was
// written; the same key with other parameters fails and writes nothing.
func TestReplayIsByteForByte(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p := protocols[2]
	alice := e.customer("alice", p)
	card := enrol(t, alice)
	till := e.till(tillKeyA, p)

	earnReq := &treuev1.EarnRequest{CardNumber: card, AmountMinor: 3000, Currency: "EUR", IdempotencyKey: "same", ReceiptId: "R9"}
	first, err := till.Earn(ctx, connect.NewRequest(earnReq))
	mustOK(t, err)
	e.clock.Advance(1)
	_, err = till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: "other"}))
	mustOK(t, err)
	again, err := till.Earn(ctx, connect.NewRequest(earnReq))
	mustOK(t, err)
	sameBytes(t, first.Msg, again.Msg)

	_, err = till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 3001, Currency: "EUR", IdempotencyKey: "same", ReceiptId: "R9"}))
	checkCode(t, err, connect.CodeAlreadyExists)

	red1, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "r1"}))
	mustOK(t, err)
	red2, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "r1"}))
	mustOK(t, err)
	sameBytes(t, red1.Msg, red2.Msg)
	_, err = alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "cake", IdempotencyKey: "r1"}))
	checkCode(t, err, connect.CodeAlreadyExists)

	code := red1.Msg.GetVoucher().GetCode()
	use1, err := till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: code, IdempotencyKey: "u1"}))
	mustOK(t, err)
	use2, err := till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: code, IdempotencyKey: "u1"}))
	mustOK(t, err)
	sameBytes(t, use1.Msg, use2.Msg)
	_, err = till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: code, IdempotencyKey: "u2"}))
	checkCode(t, err, connect.CodeFailedPrecondition)

	rev := &treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_ReceiptId{ReceiptId: "R9"}, AmountMinor: 1000, IdempotencyKey: "ret"}
	rev1, err := till.Reverse(ctx, connect.NewRequest(rev))
	mustOK(t, err)
	rev2, err := till.Reverse(ctx, connect.NewRequest(rev))
	mustOK(t, err)
	sameBytes(t, rev1.Msg, rev2.Msg)

	// Balance: 30 + 10 - 10 (coffee) - 10 (a third of R9) = 20, from exactly
	// four entries.
	act, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{}))
	mustOK(t, err)
	if n, bal := len(act.Msg.GetActivities()), act.Msg.GetActivities()[0].GetBalanceAfter(); n != 4 || bal != 20 {
		t.Fatalf("%d entries, balance %d; want 4 entries, balance 20", n, bal)
	}
	checkInvariants(t, e)
}

func sameBytes(t *testing.T, a, b proto.Message) {
	t.Helper()
	opts := proto.MarshalOptions{Deterministic: true}
	ab, _ := opts.Marshal(a)
	bb, _ := opts.Marshal(b)
	if string(ab) != string(bb) {
		t.Fatalf("replay differs:\nfirst  %v\nreplay %v", a, b)
	}
}

// TestConcurrentRedeems has 50 goroutines redeeming a reward of cost 10
// against a balance of 100, 1000 times in all, over real HTTP/2: exactly
// 10 succeed and the balance never goes below zero.
func TestConcurrentRedeems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice := e.customer("alice", protocols[0])
	card := enrol(t, alice)
	_, err := e.till(tillKeyA, protocols[0]).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 10000, Currency: "EUR", IdempotencyKey: "load"}))
	mustOK(t, err)

	const workers, attempts = 50, 1000
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		succeeded int
		codes     = map[connect.Code]int{}
	)
	jobs := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: fmt.Sprint("k", i)}))
				mu.Lock()
				if err == nil {
					succeeded++
				} else {
					codes[connect.CodeOf(err)]++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range attempts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if succeeded != 10 || codes[connect.CodeFailedPrecondition] != attempts-10 {
		t.Fatalf("%d succeeded, errors %v; want 10 and %d failed_precondition", succeeded, codes, attempts-10)
	}
	c, err := alice.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)
	if c.Msg.GetCard().GetBalance() != 0 {
		t.Fatalf("balance %d, want 0", c.Msg.GetCard().GetBalance())
	}
	checkInvariants(t, e)
}

// TestConcurrentEarnsOneKey sends one purchase 100 times at once: exactly
// one entry is written and every caller gets the same answer.
func TestConcurrentEarnsOneKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice := e.customer("alice", protocols[0])
	card := enrol(t, alice)
	till := e.till(tillKeyA, protocols[2])
	req := &treuev1.EarnRequest{CardNumber: card, AmountMinor: 1234, Currency: "EUR", IdempotencyKey: "once"}
	const n = 100
	res := make([]*treuev1.EarnResponse, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := till.Earn(ctx, connect.NewRequest(req))
			errs[i] = err
			if err == nil {
				res[i] = r.Msg
			}
		}()
	}
	wg.Wait()
	for i := range n {
		mustOK(t, errs[i])
		sameBytes(t, res[0], res[i])
	}
	act, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{}))
	mustOK(t, err)
	if len(act.Msg.GetActivities()) != 1 || res[0].GetBalance() != 12 {
		t.Fatalf("%d entries, balance %d; want 1 entry, balance 12", len(act.Msg.GetActivities()), res[0].GetBalance())
	}
	checkInvariants(t, e)
}

func checkInvariants(t *testing.T, e *env) {
	t.Helper()
	if err := e.store.CheckInvariants(context.Background()); err != nil {
		t.Fatal(err)
	}
}
