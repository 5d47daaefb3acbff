package bff_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// newGameEnv returns an env whose program A plays by the demo café's rules,
// set through AdminService, with the stamp card's reward in its catalog.
func newGameEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	admin := e.admin(operatorKeyA, protocols[0])
	_, err := admin.UpdateRules(ctx, connect.NewRequest(&treuev1.UpdateRulesRequest{Rules: demoRulesProto(t)}))
	mustOK(t, err)
	_, err = admin.PutReward(ctx, connect.NewRequest(&treuev1.PutRewardRequest{Reward: &treuev1.CatalogReward{
		Id: "free-pastry", Name: &treuev1.LocalizedText{De: "Gratis Gebäck", En: "Free pastry"}, Cost: 15, Active: true,
	}}))
	mustOK(t, err)
	return e
}

// TestChallenges lists, reads and joins challenges, completes one at the
// till and checks what the card, its stream and the home screen show.
func TestChallenges(t *testing.T) {
	t.Parallel()
	for _, p := range []protocol{protocols[0], protocols[1], protocols[2]} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newGameEnv(t)
			ctx := context.Background()
			c := e.customer("alice", p)
			_, err := c.challenge.ListChallenges(ctx, connect.NewRequest(&treuev1.ListChallengesRequest{}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{Locale: treuev1.Locale_LOCALE_EN}))
			mustOK(t, err)
			card, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			mustOK(t, err)
			cardNumber := card.Msg.GetCard().GetCardNumber()
			if tier := card.Msg.GetCard().GetTier(); tier.GetId() != "silber" || tier.GetName() != "Silver" {
				t.Fatalf("tier of a new member = %v, want the base tier silber", tier)
			}

			list, err := c.challenge.ListChallenges(ctx, connect.NewRequest(&treuev1.ListChallengesRequest{}))
			mustOK(t, err)
			var ids []string
			byID := map[string]*treuev1.Challenge{}
			for _, ch := range list.Msg.GetChallenges() {
				ids = append(ids, ch.GetId())
				byID[ch.GetId()] = ch
			}
			// The explorer is for gold and platinum members only.
			if want := []string{"three-visits", "spend-20", "cold-brew", "five-days", "afternoon-coffee"}; !slices.Equal(ids, want) {
				t.Fatalf("ListChallenges = %v, want %v", ids, want)
			}
			if s := byID["spend-20"]; s.GetStatus() != treuev1.ChallengeStatus_CHALLENGE_STATUS_ACTIVE || s.GetOptIn() ||
				s.GetKind() != treuev1.ChallengeKind_CHALLENGE_KIND_SPEND || s.GetProgress().GetTarget() != 2000 {
				t.Fatalf("spend-20 = %v, want an active spend challenge of 2000", s)
			}

			get, err := c.challenge.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{ChallengeId: "three-visits", Locale: treuev1.Locale_LOCALE_DE}))
			mustOK(t, err)
			tv := get.Msg.GetChallenge()
			if tv.GetStatus() != treuev1.ChallengeStatus_CHALLENGE_STATUS_AVAILABLE || !tv.GetOptIn() || tv.GetTitle() != "3 Besuche in 7 Tagen" ||
				tv.GetKind() != treuev1.ChallengeKind_CHALLENGE_KIND_VISITS || tv.GetMaxCompletions() != 4 || tv.GetBonusPoints() != 30 ||
				tv.GetProgress().GetCurrent() != 0 || tv.GetProgress().GetTarget() != 3 || tv.GetProgress().GetChallengeId() != "three-visits" {
				t.Fatalf("GetChallenge(three-visits) = %v", tv)
			}

			act, err := c.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: "three-visits"}))
			mustOK(t, err)
			a := act.Msg.GetChallenge()
			if a.GetStatus() != treuev1.ChallengeStatus_CHALLENGE_STATUS_ACTIVE || !a.GetActiveUntil().AsTime().After(e.clock.Now()) {
				t.Fatalf("ActivateChallenge = %v, want active with a window", a)
			}
			again, err := c.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: "three-visits"}))
			mustOK(t, err)
			if again.Msg.GetChallenge().GetStatus() != treuev1.ChallengeStatus_CHALLENGE_STATUS_ACTIVE ||
				!again.Msg.GetChallenge().GetActiveUntil().AsTime().Equal(a.GetActiveUntil().AsTime()) {
				t.Fatalf("second ActivateChallenge = %v, want it unchanged", again.Msg.GetChallenge())
			}
			_, err = c.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: "spend-20"}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = c.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: "nope"}))
			checkCode(t, err, connect.CodeNotFound)
			_, err = c.challenge.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{ChallengeId: "explorer"}))
			checkCode(t, err, connect.CodeNotFound)
			_, err = c.challenge.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{}))
			checkCode(t, err, connect.CodeInvalidArgument)
			_, err = c.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: strings.Repeat("x", 65)}))
			checkCode(t, err, connect.CodeInvalidArgument)

			// Three visits, the last with two pieces of cake.
			till := e.till(tillKeyA, p)
			for i := range 3 {
				req := &treuev1.EarnRequest{CardNumber: cardNumber, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: fmt.Sprint("visit-", i)}
				if i == 2 {
					req.LineItems = []*treuev1.LineItem{{Sku: "apfel", Category: "kuchen", Quantity: 2, AmountMinor: 700}}
				}
				e.clock.Advance(time.Hour)
				_, err := till.Earn(ctx, connect.NewRequest(req))
				mustOK(t, err)
			}
			get, err = c.challenge.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{ChallengeId: "three-visits"}))
			mustOK(t, err)
			if get.Msg.GetChallenge().GetCompletions() != 1 {
				t.Fatalf("three-visits after three visits = %v, want one completion", get.Msg.GetChallenge())
			}
			activity, err := c.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{}))
			mustOK(t, err)
			if !slices.ContainsFunc(activity.Msg.GetActivities(), func(a *treuev1.Activity) bool {
				return a.GetKind() == treuev1.ActivityKind_ACTIVITY_KIND_BONUS && a.GetPoints() == 30 && strings.Contains(a.GetReason(), "3 visits in 7 days")
			}) {
				t.Fatalf("activity = %v, want the challenge's 30 bonus points", activity.Msg.GetActivities())
			}

			// The stream's first update shows the stamp card and challenges.
			u := watch(t, c, -1).update()
			if sc := u.GetStampCards(); len(sc) != 1 || sc[0].GetId() != "cake-card" || sc[0].GetCurrent() != 2 || sc[0].GetTarget() != 9 ||
				sc[0].GetName() != "Cake card: buy 9, the 10th is free" || sc[0].GetProgressText() != "2 of 9 stamps" {
				t.Fatalf("stamp cards on the stream = %v", sc)
			}
			if len(u.GetChallenges()) == 0 || u.GetChallenges()[0].GetTitle() == "" || u.GetChallenges()[0].GetProgressText() == "" {
				t.Fatalf("challenges on the stream = %v", u.GetChallenges())
			}
			home, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{}))
			mustOK(t, err)
			if len(home.Msg.GetChallenges()) != len(u.GetChallenges()) {
				t.Fatalf("home challenges = %v, stream's %v", home.Msg.GetChallenges(), u.GetChallenges())
			}
			// Three purchases of 10 stars each qualify for 30 of gold's 300.
			if tp := home.Msg.GetTierProgress(); tp.GetTier().GetId() != "silber" || tp.GetNextTier().GetId() != "gold" || tp.GetNextTier().GetName() != "Gold" ||
				tp.GetQualifyingPoints() != 30 || tp.GetNextTierPoints() != 300 || tp.GetProgressText() != "270 more stars to Gold" {
				t.Fatalf("home tier progress = %v", tp)
			}
			if !proto.Equal(u.GetTierProgress(), home.Msg.GetTierProgress()) {
				t.Fatalf("stream's tier progress = %v, home's %v", u.GetTierProgress(), home.Msg.GetTierProgress())
			}

			// 300 stars reach gold; seven more pieces of cake fill the card.
			_, err = till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
				CardNumber: cardNumber, AmountMinor: 30000, Currency: "EUR", IdempotencyKey: "big",
				LineItems: []*treuev1.LineItem{{Sku: "apfel", Category: "kuchen", Quantity: 7, AmountMinor: 2450}},
			}))
			mustOK(t, err)
			card, err = c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			mustOK(t, err)
			if tier := card.Msg.GetCard().GetTier(); tier.GetId() != "gold" || tier.GetName() != "Gold" {
				t.Fatalf("tier after 300 stars = %v, want gold", tier)
			}
			activity, err = c.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{Locale: treuev1.Locale_LOCALE_DE}))
			mustOK(t, err)
			kinds := map[treuev1.ActivityKind]*treuev1.Activity{}
			for _, a := range activity.Msg.GetActivities() {
				kinds[a.GetKind()] = a
			}
			if a := kinds[treuev1.ActivityKind_ACTIVITY_KIND_TIER]; a.GetPoints() != 0 || !strings.Contains(a.GetReason(), "Gold") {
				t.Fatalf("tier activity = %v", a)
			}
			if a := kinds[treuev1.ActivityKind_ACTIVITY_KIND_VOUCHER]; a.GetPoints() != 0 || !strings.Contains(a.GetReason(), "Kuchenkarte") {
				t.Fatalf("voucher activity = %v", a)
			}
			vs, err := c.reward.ListVouchers(ctx, connect.NewRequest(&treuev1.ListVouchersRequest{}))
			mustOK(t, err)
			if !slices.ContainsFunc(vs.Msg.GetVouchers(), func(v *treuev1.Voucher) bool { return v.GetRewardId() == "free-pastry" }) {
				t.Fatalf("vouchers = %v, want one for free-pastry", vs.Msg.GetVouchers())
			}
			// Now a gold member, alice sees the explorer.
			_, err = c.challenge.GetChallenge(ctx, connect.NewRequest(&treuev1.GetChallengeRequest{ChallengeId: "explorer"}))
			mustOK(t, err)
		})
	}
}

// TestSimulate dry-runs purchases as the operator and checks that nothing
// is written.
func TestSimulate(t *testing.T) {
	t.Parallel()
	e := newGameEnv(t)
	ctx := context.Background()
	p := protocols[1]
	c := e.customer("alice", p)
	cardNumber := enrol(t, c)
	before, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)
	admin := e.admin(operatorKeyA, p)

	// Tuesday 3 November 2026, 11:00 in Berlin: double stars.
	tuesday := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	sim, err := admin.Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{
		CardNumber: spaced(cardNumber), AmountMinor: 1000, Currency: "EUR", PurchaseTime: timestamp(tuesday),
		LineItems: []*treuev1.LineItem{{Sku: "apfel", Category: "kuchen", Quantity: 3, AmountMinor: 1000}},
	}))
	mustOK(t, err)
	s := sim.Msg
	if s.GetMemberId() == "" || s.GetBasePoints() != 10 {
		t.Fatalf("Simulate = %v, want 10 base points", s)
	}
	i := slices.IndexFunc(s.GetGrants(), func(g *treuev1.BonusGrant) bool {
		return g.GetKind() == treuev1.GrantKind_GRANT_KIND_BOOST && g.GetRuleId() == "double-tuesday"
	})
	if i < 0 || s.GetGrants()[i].GetPoints() <= 0 || s.GetGrants()[i].GetMemberId() != s.GetMemberId() ||
		s.GetGrants()[i].GetReason().GetDe() == "" || s.GetGrants()[i].GetKey() == "" {
		t.Fatalf("grants = %v, want the Tuesday boost", s.GetGrants())
	}
	total := s.GetBasePoints()
	for _, g := range s.GetGrants() {
		total += g.GetPoints()
	}
	if s.GetTotalPoints() != total {
		t.Fatalf("total_points = %d, want %d", s.GetTotalPoints(), total)
	}
	if s.GetStampTotals()["cake-card"] != 3 || !slices.ContainsFunc(s.GetStampCards(), func(g *treuev1.GoalProgress) bool {
		return g.GetId() == "cake-card" && g.GetCurrent() == 3 && g.GetTarget() == 9 && g.GetText().GetEn() == "3 of 9 stamps"
	}) {
		t.Fatalf("stamps = %v, totals %v", s.GetStampCards(), s.GetStampTotals())
	}
	if len(s.GetChallenges()) == 0 {
		t.Fatalf("no challenge progress in %v", s)
	}

	// Nothing was written.
	after, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
	mustOK(t, err)
	if after.Msg.GetCard().GetVersion() != before.Msg.GetCard().GetVersion() || after.Msg.GetCard().GetBalance() != before.Msg.GetCard().GetBalance() {
		t.Fatalf("card after Simulate = %v, before %v", after.Msg.GetCard(), before.Msg.GetCard())
	}

	_, err = admin.Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{CardNumber: "9276000000000008", AmountMinor: 1000, Currency: "EUR"}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = admin.Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{CardNumber: cardNumber, AmountMinor: 1000, Currency: "USD"}))
	checkCode(t, err, connect.CodeInvalidArgument)
	// JSON cannot carry a bad timestamp; binary can.
	_, err = e.admin(operatorKeyA, protocols[0]).Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{CardNumber: cardNumber, AmountMinor: 1000, Currency: "EUR", PurchaseTime: &timestamppb.Timestamp{Nanos: 2e9}}))
	checkCodeMessage(t, err, connect.CodeInvalidArgument, "purchase_time")
	many := &treuev1.SimulateRequest{CardNumber: cardNumber, AmountMinor: 1000, Currency: "EUR"}
	for range 101 {
		many.LineItems = append(many.LineItems, &treuev1.LineItem{Sku: "x", Quantity: 1})
	}
	_, err = admin.Simulate(ctx, connect.NewRequest(many))
	checkCodeMessage(t, err, connect.CodeInvalidArgument, "line_items")
	// Program B has no rules to simulate, and no alice.
	_, err = e.admin(operatorKeyB, p).Simulate(ctx, connect.NewRequest(&treuev1.SimulateRequest{CardNumber: cardNumber, AmountMinor: 1000, Currency: "EUR"}))
	checkCode(t, err, connect.CodeInvalidArgument)
}

// TestReferral shares a referral code, enrols a friend with it and checks
// that the first purchase rewards the referrer.
func TestReferral(t *testing.T) {
	t.Parallel()
	e := newGameEnv(t)
	ctx := context.Background()
	p := protocols[0]
	alice := e.customer("alice", p)
	_, err := alice.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{}))
	checkCode(t, err, connect.CodeFailedPrecondition)
	enrol(t, alice)

	de, err := alice.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{}))
	mustOK(t, err)
	code := de.Msg.GetCode()
	if want := "Mit meinem Code " + code + " bekommst du 25 Sterne bei Café cafe-a."; code == "" || de.Msg.GetShareText() != want {
		t.Fatalf("GetReferralCode = %v, want share text %q", de.Msg, want)
	}
	en, err := alice.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{Locale: treuev1.Locale_LOCALE_EN}))
	mustOK(t, err)
	if want := "Use my code " + code + " to get 25 stars at Café cafe-a."; en.Msg.GetCode() != code || en.Msg.GetShareText() != want {
		t.Fatalf("GetReferralCode(en) = %v, want the same code and %q", en.Msg, want)
	}
	_, err = alice.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{Locale: 7}))
	checkCode(t, err, connect.CodeInvalidArgument)

	carol := e.customer("carol", p)
	_, err = carol.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{ReferralCode: "!!"}))
	checkCode(t, err, connect.CodeInvalidArgument)
	if half := strings.Split(code, "-"); len(half) == 2 && half[0] != half[1] {
		_, err = carol.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{ReferralCode: half[1] + "-" + half[0]}))
		checkCode(t, err, connect.CodeInvalidArgument)
	}

	bob := e.customer("bob", p)
	enr, err := bob.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{ReferralCode: strings.ToLower(code)}))
	mustOK(t, err)
	if !enr.Msg.GetCreated() {
		t.Fatalf("Enroll with a referral code = %v, want a new membership", enr.Msg)
	}
	balance := func(c customer) int64 {
		t.Helper()
		res, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
		mustOK(t, err)
		return res.Msg.GetCard().GetBalance()
	}
	aliceBefore := balance(alice)
	_, err = e.till(tillKeyA, p).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: enr.Msg.GetProfile().GetCard().GetCardNumber(), AmountMinor: 500, Currency: "EUR", IdempotencyKey: "bob-1",
	}))
	mustOK(t, err)
	if got := balance(alice); got != aliceBefore+50 {
		t.Fatalf("alice's balance after bob's first purchase = %d, want %d", got, aliceBefore+50)
	}

	// Program B has no referral bonus.
	aliceInB := e.customer("alice", p, headers(bff.ProgramHeader, programB))
	enrol(t, aliceInB)
	_, err = aliceInB.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{}))
	checkCode(t, err, connect.CodeFailedPrecondition)
}
