package bff_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestEveryProcedureHasAnAudience fails when a service gains an RPC that the
// audience table does not name: such an RPC would be refused to everyone,
// and forgetting it should not go unnoticed.
func TestEveryProcedureHasAnAudience(t *testing.T) {
	t.Parallel()
	var procedures []string
	protoregistry.GlobalFiles.RangeFilesByPackage("treue.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			s := fd.Services().Get(i)
			for j := 0; j < s.Methods().Len(); j++ {
				procedures = append(procedures, "/"+string(s.FullName())+"/"+string(s.Methods().Get(j).Name()))
			}
		}
		return true
	})
	if len(procedures) < 12 {
		t.Fatalf("found only %d procedures in treue.v1: %v", len(procedures), procedures)
	}
	for _, p := range procedures {
		if !bff.HasAudience(p) {
			t.Errorf("procedure %s has no entry in the audience table", p)
		}
	}
}

// TestUnauthenticated calls one RPC of every service without credentials,
// with malformed ones and with wrong ones.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name, header string
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"basic auth", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
		{"customer token not dev", "Bearer eyJhbGciOiJub25lIn0.e30."},
		{"empty dev uid", "Bearer dev:"},
	}
	for _, c := range cases {
		for _, p := range protocols {
			t.Run(c.name+"/"+p.name, func(t *testing.T) {
				var opts []connect.ClientOption
				if c.header != "" {
					opts = append(opts, headers("Authorization", c.header))
				}
				opts = append(opts, p.opts...)
				cust := e.customerWith(e.client, opts...)
				_, err := cust.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
				checkCode(t, err, connect.CodeUnauthenticated)
				_, err = cust.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
				checkCode(t, err, connect.CodeUnauthenticated)
			})
		}
	}
	for _, key := range []string{"", "wrong-key-wrong-key", "dev:alice", strings.Repeat("k", 300)} {
		_, err := e.till(key, protocols[0]).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: "9276000000000000"}))
		checkCode(t, err, connect.CodeUnauthenticated)
	}
	// A customer token is no till key, and a till key no customer token.
	_, err := e.till("dev:alice", protocols[2]).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{}))
	checkCode(t, err, connect.CodeUnauthenticated)
	cust := e.customerWith(e.client, headers("Authorization", "Bearer "+tillKeyA))
	_, err = cust.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	checkCode(t, err, connect.CodeUnauthenticated)
}

// TestCustomersSeeOnlyTheirOwn enrols two customers and checks that nothing
// of one reaches the other: the member is always the token's.
func TestCustomersSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p := protocols[0]
	alice, bob := e.customer("alice", p), e.customer("bob", p)
	aliceCard := enrol(t, alice)
	bobCard := enrol(t, bob)
	if aliceCard == bobCard {
		t.Fatal("two members got the same card number")
	}
	till := e.till(tillKeyA, p)
	_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: aliceCard, AmountMinor: 5000, Currency: "EUR", IdempotencyKey: "a1"}))
	mustOK(t, err)

	card, err := bob.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)
	if card.Msg.GetCard().GetCardNumber() != bobCard || card.Msg.GetCard().GetBalance() != 0 {
		t.Fatalf("bob sees %v", card.Msg.GetCard())
	}
	act, err := bob.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{}))
	mustOK(t, err)
	if len(act.Msg.GetActivities()) != 0 {
		t.Fatalf("bob sees activity %v", act.Msg.GetActivities())
	}
	// Bob cannot spend alice's points, whatever he sends.
	_, err = bob.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "x"}))
	checkCode(t, err, connect.CodeFailedPrecondition)
	// Alice's redemption key does not collide with bob's.
	red, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "x"}))
	mustOK(t, err)
	vs, err := bob.reward.ListVouchers(ctx, connect.NewRequest(&treuev1.ListVouchersRequest{}))
	mustOK(t, err)
	if len(vs.Msg.GetVouchers()) != 0 {
		t.Fatalf("bob sees vouchers %v", vs.Msg.GetVouchers())
	}
	// A page token made from alice's activity gives bob nothing of hers.
	aliceAct, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageSize: 1}))
	mustOK(t, err)
	act, err = bob.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageToken: aliceAct.Msg.GetNextPageToken()}))
	mustOK(t, err)
	if len(act.Msg.GetActivities()) != 0 {
		t.Fatalf("bob sees alice's activity through her page token: %v", act.Msg.GetActivities())
	}
	// The same user in program B is not enrolled there.
	aliceInB := e.customer("alice", p, headers(bff.ProgramHeader, programB))
	_, err = aliceInB.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	checkCode(t, err, connect.CodeFailedPrecondition)
	_ = red
}

// TestTillsStayInTheirProgram checks that a till of program B reaches
// nothing of program A.
func TestTillsStayInTheirProgram(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p := protocols[2]
	alice := e.customer("alice", p)
	card := enrol(t, alice)
	tillA, tillB := e.till(tillKeyA, p), e.till(tillKeyB, p)
	earn, err := tillA.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 5000, Currency: "EUR", IdempotencyKey: "k", ReceiptId: "R1"}))
	mustOK(t, err)
	red, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "r"}))
	mustOK(t, err)

	_, err = tillB.LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = tillB.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 5000, Currency: "EUR", IdempotencyKey: "k"}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = tillB.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_PurchaseId{PurchaseId: earn.Msg.GetPurchaseId()}, IdempotencyKey: "k2"}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = tillB.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_ReceiptId{ReceiptId: "R1"}, IdempotencyKey: "k3"}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = tillB.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: red.Msg.GetVoucher().GetCode(), IdempotencyKey: "k4"}))
	checkCode(t, err, connect.CodeNotFound)

	c, err := alice.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)
	if c.Msg.GetCard().GetBalance() != 40 {
		t.Fatalf("balance = %d after program B's till tried, want 40", c.Msg.GetCard().GetBalance())
	}
}

// TestUnknownPaths checks that the server answers what it does not serve
// with errors, not with another service.
func TestUnknownPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, err := e.client.Post(e.server.URL+"/treue.v1.CardService/Nope", "application/json", strings.NewReader("{}"))
	mustOK(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown procedure: status %d, want 404", res.StatusCode)
	}
}

// enrol enrols c and returns its card number.
func enrol(t testing.TB, c customer) string {
	t.Helper()
	res, err := c.account.Enroll(context.Background(), connect.NewRequest(&treuev1.EnrollRequest{}))
	mustOK(t, err)
	return res.Msg.GetProfile().GetCard().GetCardNumber()
}

// TestReplacedTillKeyStopsWorking replaces a till's key: the old key keeps
// working for at most the cache's 30 seconds, the new one at once.
func TestReplacedTillKeyStopsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	card := enrol(t, e.customer("alice", protocols[0]))
	lookup := func(key string) error {
		_, err := e.till(key, protocols[0]).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
		return err
	}
	mustOK(t, lookup(tillKeyA))
	const newKey = "till-key-cafe-a-rotated"
	mustOK(t, e.svc.ApplySeed(ctx, testSeed(programA, newKey)))
	mustOK(t, lookup(newKey))
	mustOK(t, lookup(tillKeyA)) // still cached
	e.clock.Advance(31 * time.Second)
	checkCode(t, lookup(tillKeyA), connect.CodeUnauthenticated)
	mustOK(t, lookup(newKey))
}
