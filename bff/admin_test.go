package bff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestAudiencesOfServices checks who may call each procedure: customers
// their services, tills PosService, operators AdminService, and nobody
// else.
func TestAudiencesOfServices(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"treue.v1.AccountService":   "customer",
		"treue.v1.CardService":      "customer",
		"treue.v1.AppService":       "customer",
		"treue.v1.WalletService":    "customer",
		"treue.v1.RewardService":    "customer",
		"treue.v1.ChallengeService": "customer",
		"treue.v1.PrivacyService":   "customer",
		"treue.v1.PosService":       "till",
		"treue.v1.AdminService":     "operator",
	}
	seen := map[string]bool{}
	protoregistry.GlobalFiles.RangeFilesByPackage("treue.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			s := fd.Services().Get(i)
			seen[string(s.FullName())] = true
			for j := 0; j < s.Methods().Len(); j++ {
				proc := "/" + string(s.FullName()) + "/" + string(s.Methods().Get(j).Name())
				if got := bff.AudienceName(proc); got != want[string(s.FullName())] {
					t.Errorf("%s is open to %q, want %q", proc, got, want[string(s.FullName())])
				}
			}
		}
		return true
	})
	for s := range want {
		if !seen[s] {
			t.Errorf("service %s is not registered", s)
		}
	}
}

// TestOperatorAndTillKeysDoNotMix checks that an operator key opens only
// AdminService and a till key only PosService, and that customer tokens
// open neither.
func TestOperatorAndTillKeysDoNotMix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	card := enrol(t, e.customer("alice", protocols[0]))
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			_, err := e.admin(operatorKeyA, p).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			mustOK(t, err)
			_, err = e.till(tillKeyA, p).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
			mustOK(t, err)

			// A till key is no operator key…
			_, err = e.admin(tillKeyA, p).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			checkCode(t, err, connect.CodeUnauthenticated)
			_, err = e.admin(tillKeyA, p).Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{CardNumber: card, AmountMinor: 100, Currency: "EUR"}))
			checkCode(t, err, connect.CodeUnauthenticated)
			// …and an operator key no till key, even right after it was
			// cached as an operator's.
			_, err = e.till(operatorKeyA, p).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
			checkCode(t, err, connect.CodeUnauthenticated)
			_, err = e.till(operatorKeyA, p).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 100, Currency: "EUR", IdempotencyKey: "op-" + p.name}))
			checkCode(t, err, connect.CodeUnauthenticated)
			// Customer tokens open neither, and keys open no customer service.
			_, err = e.admin("dev:alice", p).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			checkCode(t, err, connect.CodeUnauthenticated)
			cust := e.customerWith(e.client, append([]connect.ClientOption{headers("Authorization", "Bearer "+operatorKeyA)}, p.opts...)...)
			_, err = cust.challenge.ListChallenges(ctx, connect.NewRequest(&treuev1.ListChallengesRequest{}))
			checkCode(t, err, connect.CodeUnauthenticated)
			for _, key := range []string{"", "wrong-key-wrong-key", strings.Repeat("k", 300)} {
				_, err = e.admin(key, p).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
				checkCode(t, err, connect.CodeUnauthenticated)
			}
		})
	}
}

// TestReplacedOperatorKeyStopsWorking replaces an operator's key: the old
// key keeps working for at most the cache's 30 seconds, the new one at
// once.
func TestReplacedOperatorKeyStopsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	get := func(key string) error {
		_, err := e.admin(key, protocols[0]).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
		return err
	}
	mustOK(t, get(operatorKeyA))
	const newTillKey = "till-key-cafe-a-rotated"
	mustOK(t, e.svc.ApplySeed(ctx, testSeed(programA, newTillKey)))
	newKey := "operator-" + newTillKey
	mustOK(t, get(newKey))
	mustOK(t, get(operatorKeyA)) // still cached
	e.clock.Advance(31 * time.Second)
	checkCode(t, get(operatorKeyA), connect.CodeUnauthenticated)
	mustOK(t, get(newKey))
}

// demoRulesProto returns the demo café's rules as AdminService takes them.
func demoRulesProto(t testing.TB) *treuev1.Rules {
	t.Helper()
	r, err := bff.DemoRulesProto()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// TestAdminRules walks the operator's rule changes: read, replace with
// optimistic concurrency, put and end a challenge, put a reward; and checks
// that program B's operator sees none of it.
func TestAdminRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range []protocol{protocols[0], protocols[1], protocols[2]} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			admin := e.admin(operatorKeyA, p)
			got, err := admin.GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			mustOK(t, err)
			if got.Msg.GetRules() != nil || got.Msg.GetRevision() != 0 {
				t.Fatalf("GetRules of a program without rules = %v", got.Msg)
			}

			demo := demoRulesProto(t)
			up, err := admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{Rules: demo, ExpectedRevision: 0}))
			mustOK(t, err)
			if up.Msg.GetRevision() != 1 {
				t.Fatalf("UpdateRules revision = %d, want 1", up.Msg.GetRevision())
			}
			got, err = admin.GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			mustOK(t, err)
			if !proto.Equal(got.Msg.GetRules(), demo) || got.Msg.GetRevision() != 1 {
				t.Fatalf("GetRules = revision %d\n%v\nwant revision 1\n%v", got.Msg.GetRevision(), got.Msg.GetRules(), demo)
			}

			// A change made on an old revision is refused.
			_, err = admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{Rules: demo, ExpectedRevision: 0}))
			checkCode(t, err, connect.CodeAlreadyExists)

			// Rules the domain refuses name the field.
			bad := proto.Clone(demo).(*treuev1.Rules)
			bad.Stars.Boosts[0].MultiplierPermille = 500
			_, err = admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{Rules: bad, ExpectedRevision: 1}))
			checkCodeMessage(t, err, connect.CodeInvalidArgument, "stars.boosts[0].multiplier")
			// Requests the conversion refuses name the request field.
			bad = proto.Clone(demo).(*treuev1.Rules)
			bad.Challenges[5].Steps[1].FromTimeOfDay = "25:00"
			_, err = admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{Rules: bad, ExpectedRevision: 1}))
			checkCodeMessage(t, err, connect.CodeInvalidArgument, "rules.challenges[5].steps[1].from_time_of_day")
			_, err = admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{ExpectedRevision: 1}))
			checkCodeMessage(t, err, connect.CodeInvalidArgument, "rules is required")

			start := e.clock.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			ch := &treuev1.ChallengeRule{
				Id: "latte-week", Name: &treuev1.LocalizedText{De: "Latte-Woche", En: "Latte week"},
				Kind: treuev1.ChallengeKind_CHALLENGE_KIND_PRODUCT, Target: 2, Skus: []string{"latte"},
				StartTime: timestamp(start), EndTime: timestamp(start.Add(7 * 24 * time.Hour)),
				BonusPoints: 10,
			}
			put, err := admin.PutChallenge(ctx, connect.NewRequest(&treuev1.PutChallengeRequest{Challenge: ch}))
			mustOK(t, err)
			if put.Msg.GetRevision() != 2 {
				t.Fatalf("PutChallenge revision = %d, want 2", put.Msg.GetRevision())
			}
			got, err = admin.GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			mustOK(t, err)
			if cs := got.Msg.GetRules().GetChallenges(); len(cs) != 7 || !proto.Equal(cs[6], ch) {
				t.Fatalf("challenges after PutChallenge = %v", cs)
			}
			_, err = admin.PutChallenge(ctx, connect.NewRequest(&treuev1.PutChallengeRequest{}))
			checkCodeMessage(t, err, connect.CodeInvalidArgument, "challenge is required")

			end, err := admin.EndChallenge(ctx, connect.NewRequest(&treuev1.EndChallengeRequest{ChallengeId: "three-visits"}))
			mustOK(t, err)
			if end.Msg.GetRevision() != 3 {
				t.Fatalf("EndChallenge revision = %d, want 3", end.Msg.GetRevision())
			}
			_, err = admin.EndChallenge(ctx, connect.NewRequest(&treuev1.EndChallengeRequest{ChallengeId: "three-visits"}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = admin.EndChallenge(ctx, connect.NewRequest(&treuev1.EndChallengeRequest{ChallengeId: "nope"}))
			checkCode(t, err, connect.CodeNotFound)
			_, err = admin.EndChallenge(ctx, connect.NewRequest(&treuev1.EndChallengeRequest{}))
			checkCode(t, err, connect.CodeInvalidArgument)

			stock := int64(5)
			reward := &treuev1.CatalogReward{
				Id: "free-pastry", Name: &treuev1.LocalizedText{De: "Gratis Gebäck", En: "Free pastry"},
				Cost: 15, Stock: &stock, Active: true,
			}
			pr, err := admin.PutReward(ctx, connect.NewRequest(&treuev1.PutRewardRequest{Reward: reward}))
			mustOK(t, err)
			if !proto.Equal(pr.Msg.GetReward(), reward) {
				t.Fatalf("PutReward = %v, want %v", pr.Msg.GetReward(), reward)
			}
			_, err = admin.PutReward(ctx, connect.NewRequest(&treuev1.PutRewardRequest{Reward: &treuev1.CatalogReward{Id: "x", Cost: 1}}))
			checkCodeMessage(t, err, connect.CodeInvalidArgument, "reward.name is required")
			_, err = admin.PutReward(ctx, connect.NewRequest(&treuev1.PutRewardRequest{Reward: &treuev1.CatalogReward{Id: "x", Name: &treuev1.LocalizedText{De: "X"}}}))
			checkCode(t, err, connect.CodeInvalidArgument)
			c := e.customer("alice", p)
			enrol(t, c)
			rs, err := c.reward.ListRewards(ctx, connect.NewRequest(&treuev1.ListRewardsRequest{Locale: treuev1.Locale_LOCALE_EN}))
			mustOK(t, err)
			found := false
			for _, r := range rs.Msg.GetRewards() {
				found = found || (r.GetId() == "free-pastry" && r.GetName() == "Free pastry" && r.GetRemainingStock() == 5)
			}
			if !found {
				t.Fatalf("ListRewards = %v, want the new free-pastry", rs.Msg.GetRewards())
			}

			// Program B is untouched.
			other, err := e.admin(operatorKeyB, p).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			mustOK(t, err)
			if other.Msg.GetRules() != nil || other.Msg.GetRevision() != 0 {
				t.Fatalf("program B's rules = %v", other.Msg)
			}
			_, err = e.admin(operatorKeyB, p).EndChallenge(ctx, connect.NewRequest(&treuev1.EndChallengeRequest{ChallengeId: "spend-20"}))
			checkCode(t, err, connect.CodeNotFound)
		})
	}
}

// checkCodeMessage fails the test unless err is a Connect error with code
// want whose message contains msg.
func checkCodeMessage(t testing.TB, err error, want connect.Code, msg string) {
	t.Helper()
	checkCode(t, err, want)
	var ce *connect.Error
	if !errorsAs(err, &ce) || !strings.Contains(ce.Message(), msg) {
		t.Fatalf("error %v does not say %q", err, msg)
	}
}
