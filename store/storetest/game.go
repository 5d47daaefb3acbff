package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
)

// gameTests check the program rules applied in the ledger's transactions.
var gameTests = []test{
	{"WelcomeBonus", testGameWelcome},
	{"ThreeVisits", testGameThreeVisits},
	{"CompletedInParallelGrantedOnce", testGameParallelCompletion},
	{"ReturnUndoesVisit", testGameReturnUndoesVisit},
	{"TierUpgrade", testGameTierUpgrade},
	{"StampCard", testGameStampCard},
	{"Referral", testGameReferral},
	{"Daily", testGameDaily},
	{"Activate", testGameActivate},
	{"Admin", testGameAdmin},
	{"Simulate", testGameSimulate},
}

// gameRules are the rules of the gamification tests: 1 star per EUR,
// tiers silber, gold (100 stars, 1.5×), "3 visits in 7 days" (opt-in, 30
// stars), a welcome bonus of 25, a birthday bonus of 50, referral 50/25
// and a cake stamp card of 3 for the reward keks.
func gameRules() gamification.Rules {
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
		Welcome:    &gamification.Welcome{Points: 25},
		Birthday:   &gamification.Birthday{Points: 50, DaysBefore: 3, DaysAfter: 3},
		Referral:   &gamification.Referral{ReferrerPoints: 50, RefereePoints: 25, MaxPerReferrer: 2},
		StampCards: []gamification.StampCard{{ID: "cake-card", Name: gamification.Text{DE: "Kuchenkarte", EN: "Cake card"}, Stamps: 3, Categories: []string{"kuchen"}, RewardID: "keks"}},
	}
}

// operatorKey is the API key of the game seed's operator.
const operatorKey = "operator-key-secret"

// seedGame applies DemoSeed with gameRules and an operator, and returns
// the till.
func (e *env) seedGame(programID string) loyalty.Till {
	e.t.Helper()
	seed := DemoSeed(programID)
	r := gameRules()
	seed.Program.Rules = &r
	seed.Operators = []loyalty.OperatorKey{{Operator: loyalty.Operator{ID: "op-" + programID, Name: "Inhaberin"}, Key: operatorKey}}
	e.must(e.svc.ApplySeed(e.ctx, seed))
	till, err := e.svc.AuthenticateTill(e.ctx, TillKey(programID))
	e.must(err)
	return till
}

// operator returns the game seed's operator.
func (e *env) operator() loyalty.Operator {
	e.t.Helper()
	op, err := e.svc.AuthenticateOperator(e.ctx, operatorKey)
	e.must(err)
	return op
}

// entriesOfKind returns the member's entries of kind, oldest first.
func (e *env) entriesOfKind(card loyalty.Card, kind loyalty.EntryKind) []loyalty.Entry {
	var out []loyalty.Entry
	for _, en := range slices.Backward(e.state(card).Entries) {
		if en.Kind == kind {
			out = append(out, en)
		}
	}
	return out
}

func (e *env) activate(card loyalty.Card, id string) loyalty.ChallengeView {
	e.t.Helper()
	v, _, err := e.svc.ActivateChallenge(e.ctx, customer(card), id)
	e.must(err)
	return v
}

// cardState returns the card state the app sees now.
func (e *env) cardState(card loyalty.Card) loyalty.CardState {
	e.t.Helper()
	st, err := e.svc.CardState(e.ctx, customer(card))
	e.must(err)
	return st
}

func testGameWelcome(t *testing.T, e *env) {
	e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	if card.Account.Balance != 25 {
		t.Errorf("balance after enrolling = %d, want the welcome bonus 25", card.Account.Balance)
	}
	bonus := e.entriesOfKind(card, loyalty.EntryBonus)
	if len(bonus) != 1 || bonus[0].Points != 25 || bonus[0].Reason(loyalty.LocaleDE) != "Willkommensbonus" || bonus[0].Reason(loyalty.LocaleEN) != "Welcome bonus" {
		t.Fatalf("bonus entries = %+v, want one welcome bonus of 25", bonus)
	}
	// Enrolling again is not a new member: no second bonus.
	again, created, err := e.svc.Enroll(e.ctx, customer(card), loyalty.LocaleDE)
	e.must(err)
	if created || again.Account.Balance != 25 {
		t.Errorf("second Enroll: created %v, balance %d; want false, 25", created, again.Account.Balance)
	}
	// The base tier is the rules' first.
	if st := e.cardState(card); st.TierID != "silber" || st.TierName.DE != "Silber" {
		t.Errorf("tier = %q %v, want silber", st.TierID, st.TierName)
	}
	// Without rules nothing is granted.
	e.seed("cafe-b")
	if c := e.enroll("cafe-b", "u1"); c.Account.Balance != 0 {
		t.Errorf("balance in a program without rules = %d, want 0", c.Account.Balance)
	}
}

func testGameThreeVisits(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	if v := e.activate(card, "three-visits"); v.Status != loyalty.ChallengeActive || v.Progress.Current != 0 || v.Progress.Target != 3 {
		t.Fatalf("activated challenge = %+v, want active 0/3", v)
	}
	for i := 1; i <= 4; i++ {
		e.clock.Advance(24 * time.Hour)
		res := e.earn(till, card, 500, fmt.Sprint("visit-", i))
		st := e.cardState(card)
		var got *loyalty.GoalProgress
		for j := range st.Challenges {
			if st.Challenges[j].ID == "three-visits" {
				got = &st.Challenges[j]
			}
		}
		wantBonus := int64(0)
		if i == 3 {
			wantBonus = 30
		}
		if res.BonusPoints != wantBonus {
			t.Errorf("visit %d: bonus %d, want %d", i, res.BonusPoints, wantBonus)
		}
		if i <= 3 && (got == nil || got.Current != int64(i) || got.Target != 3 || got.Text.DE != fmt.Sprintf("%d von 3 Besuchen", i)) {
			t.Errorf("visit %d: card progress %+v, want %d/3", i, got, i)
		}
		if i == 4 && got != nil {
			t.Errorf("visit 4: card still shows %+v of a completed challenge", got)
		}
	}
	bonus := e.entriesOfKind(card, loyalty.EntryBonus)
	var challenge []loyalty.Entry
	for _, b := range bonus {
		if b.Detail.Grant == "challenge" {
			challenge = append(challenge, b)
		}
	}
	if len(challenge) != 1 || challenge[0].Points != 30 || challenge[0].Reason(loyalty.LocaleDE) != "Challenge „3 Besuche in 7 Tagen“ geschafft" {
		t.Fatalf("challenge bonus entries = %+v, want one of 30 with its reason", challenge)
	}
	if v, _, err := e.svc.Challenge(e.ctx, customer(card), "three-visits"); err != nil || v.Status != loyalty.ChallengeCompleted || v.Completions != 1 {
		t.Errorf("Challenge after completion = %+v, %v; want completed once", v, err)
	}
}

func testGameParallelCompletion(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.activate(card, "three-visits")
	e.clock.Advance(time.Hour)
	e.earn(till, card, 500, "v1")
	e.earn(till, card, 500, "v2")
	// Two purchases race to be the third visit: one completes it.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.svc.Earn(e.ctx, till, loyalty.EarnRequest{
				CardNumber: card.Member.CardNumber, AmountMinor: 500, Currency: "EUR", IdempotencyKey: fmt.Sprint("race-", i),
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		e.must(err)
	}
	n := 0
	for _, b := range e.entriesOfKind(card, loyalty.EntryBonus) {
		if b.Detail.Grant == "challenge" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d challenge bonuses after racing purchases, want 1", n)
	}
	if got, want := e.balance(card), int64(25+6*5+30); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
}

func testGameReturnUndoesVisit(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.activate(card, "three-visits")
	e.clock.Advance(time.Hour)
	first := e.earn(till, card, 500, "v1")
	e.earn(till, card, 500, "v2")
	_, err := e.svc.Reverse(e.ctx, till, loyalty.ReverseRequest{PurchaseID: first.PurchaseID, AmountMinor: 500, Currency: "EUR", IdempotencyKey: "return-1"})
	e.must(err)
	// The returned purchase is no visit: the next one is the second.
	res := e.earn(till, card, 500, "v3")
	if res.BonusPoints != 0 {
		t.Errorf("bonus %d after a return undid a visit, want 0", res.BonusPoints)
	}
	v, _, err := e.svc.Challenge(e.ctx, customer(card), "three-visits")
	e.must(err)
	if v.Progress.Current != 2 {
		t.Errorf("progress after a return = %d/3, want 2/3", v.Progress.Current)
	}
	if res := e.earn(till, card, 500, "v4"); res.BonusPoints != 30 {
		t.Errorf("third real visit: bonus %d, want 30", res.BonusPoints)
	}
}

func testGameTierUpgrade(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	// The welcome bonus (25) does not qualify: 99 stars of purchases stay
	// silber.
	e.earn(till, card, 9900, "p1")
	if st := e.cardState(card); st.TierID != "silber" || st.QualifyingPoints != 99 || st.NextTierID != "gold" || st.NextTierPoints != 100 {
		t.Fatalf("tier after 99 qualifying stars and a welcome bonus = %s with %d of %d for %q, want silber with 99 of 100 for gold",
			st.TierID, st.QualifyingPoints, st.NextTierPoints, st.NextTierID)
	}
	e.clock.Advance(time.Hour)
	e.earn(till, card, 100, "p2")
	st := e.cardState(card)
	if st.TierID != "gold" || st.TierName.EN != "Gold" || st.NextTierID != "" || st.QualifyingPoints != 100 {
		t.Fatalf("tier after 100 qualifying stars = %s, want gold", st.TierID)
	}
	tiers := e.entriesOfKind(card, loyalty.EntryTier)
	if len(tiers) != 1 || tiers[0].Points != 0 || tiers[0].Reason(loyalty.LocaleDE) != "Du bist jetzt Gold" {
		t.Fatalf("tier entries = %+v, want one 0-point entry saying Du bist jetzt Gold", tiers)
	}
	// Gold earns 1.5×: 10 stars and 5 bonus stars.
	e.clock.Advance(time.Hour)
	res := e.earn(till, card, 1000, "p3")
	if res.Points != 10 || res.BonusPoints != 5 {
		t.Errorf("gold purchase of 10 EUR = %d + %d bonus, want 10 + 5", res.Points, res.BonusPoints)
	}
}

func testGameStampCard(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	cake := func(key string, qty int32) {
		_, err := e.svc.Earn(e.ctx, till, loyalty.EarnRequest{
			CardNumber: card.Member.CardNumber, AmountMinor: 350 * int64(qty), Currency: "EUR", IdempotencyKey: key,
			Lines: []loyalty.LineItem{{SKU: "apfelkuchen", Category: "kuchen", Quantity: qty, AmountMinor: 350 * int64(qty)}},
		})
		e.must(err)
	}
	cake("c1", 2)
	if st := e.cardState(card); len(st.StampCards) != 1 || st.StampCards[0].Current != 2 || st.StampCards[0].Target != 3 {
		t.Fatalf("stamp cards after 2 cakes = %+v, want 2/3", st.StampCards)
	}
	cake("c2", 2) // the third completes the card; one stamp carries over
	vs, _, err := e.svc.Vouchers(e.ctx, customer(card))
	e.must(err)
	if len(vs) != 1 || vs[0].RewardID != "keks" || vs[0].Cost != 0 {
		t.Fatalf("vouchers after a full stamp card = %+v, want one free keks", vs)
	}
	if st := e.cardState(card); st.StampCards[0].Current != 1 {
		t.Errorf("stamps after a full card = %d, want 1", st.StampCards[0].Current)
	}
	entries := e.entriesOfKind(card, loyalty.EntryVoucher)
	if len(entries) != 1 || entries[0].Detail.VoucherCode != vs[0].Code || entries[0].Reason(loyalty.LocaleEN) != "Stamp card “Cake card” complete" {
		t.Errorf("voucher entries = %+v, want one naming voucher %s", entries, vs[0].Code)
	}
}

func testGameReferral(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	anna := e.enroll("cafe-a", "anna")
	code, err := e.svc.ReferralCode(e.ctx, customer(anna))
	e.must(err)
	if again, err := e.svc.ReferralCode(e.ctx, customer(anna)); err != nil || again != code {
		t.Errorf("second ReferralCode = %q, %v; want %q", again, err, code)
	}
	_, _, err = e.svc.EnrollReferred(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "x"}, loyalty.LocaleDE, "ZZZZ-ZZZZ")
	wantErr(t, err, loyalty.ErrInvalid)

	var referees []loyalty.Card
	for _, uid := range []string{"ben", "cem", "dora"} {
		c, created, err := e.svc.EnrollReferred(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: uid}, loyalty.LocaleDE, code)
		e.must(err)
		if !created {
			t.Fatalf("EnrollReferred(%s): created false", uid)
		}
		referees = append(referees, c)
	}
	if got := e.balance(anna); got != 25 {
		t.Fatalf("referrer's balance before any referee bought = %d, want 25", got)
	}
	for i, c := range referees {
		e.clock.Advance(time.Hour)
		res := e.earn(till, c, 500, fmt.Sprint("first-", i))
		e.earn(till, c, 500, fmt.Sprint("second-", i))
		want := int64(25)
		if i == 2 { // the cap of 2 is reached: neither side gets points
			want = 0
		}
		if res.BonusPoints != want {
			t.Errorf("referee %d's first purchase: bonus %d, want %d", i, res.BonusPoints, want)
		}
	}
	if got, want := e.balance(anna), int64(25+2*50); got != want {
		t.Errorf("referrer's balance = %d, want %d (welcome and two referrals)", got, want)
	}
}

func testGameDaily(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.update(func(tx loyalty.Tx) error {
		st, err := tx.GameState(e.ctx, "cafe-a", card.Member.ID)
		if err != nil {
			return err
		}
		st.Birthday = time.Date(1990, time.June, 3, 0, 0, 0, 0, time.UTC)
		return tx.SaveGameState(e.ctx, st)
	})
	e.earn(till, card, 10_000, "gold") // 100 stars: gold until 1 June 2026
	run, err := e.svc.RunDaily(e.ctx, "cafe-a")
	e.must(err)
	if run.Members != 1 || run.Grants != 1 || run.TierMoves != 0 {
		t.Errorf("RunDaily 2 days before the birthday = %+v, want 1 member, 1 grant", run)
	}
	if run, err := e.svc.RunDaily(e.ctx, "cafe-a"); err != nil || run.Grants != 0 {
		t.Errorf("RunDaily again = %+v, %v; want no grant", run, err)
	}
	// A year and a day later the window holds no stars: back to silber.
	e.clock.Advance(366 * 24 * time.Hour)
	run, err = e.svc.RunDaily(e.ctx, "cafe-a")
	e.must(err)
	if run.TierMoves != 1 {
		t.Errorf("RunDaily after the status ran out = %+v, want a tier move", run)
	}
	if st := e.cardState(card); st.TierID != "silber" {
		t.Errorf("tier after the status ran out = %s, want silber", st.TierID)
	}
}

func testGameActivate(t *testing.T, e *env) {
	e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	views, _, err := e.svc.Challenges(e.ctx, customer(card))
	e.must(err)
	if len(views) != 1 || views[0].Status != loyalty.ChallengeAvailable {
		t.Fatalf("Challenges before activating = %+v, want three-visits available", views)
	}
	e.activate(card, "three-visits")
	// A retry is harmless.
	if v := e.activate(card, "three-visits"); v.Status != loyalty.ChallengeActive {
		t.Errorf("second activation = %+v, want active", v)
	}
	_, _, err = e.svc.ActivateChallenge(e.ctx, customer(card), "nope")
	wantErr(t, err, loyalty.ErrNotFound)
	_, _, err = e.svc.ActivateChallenge(e.ctx, customer(card), "")
	wantErr(t, err, loyalty.ErrInvalid)
	_, _, err = e.svc.Challenges(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"})
	wantErr(t, err, loyalty.ErrNotEnrolled)
}

func testGameAdmin(t *testing.T, e *env) {
	e.seedGame("cafe-a")
	op := e.operator()
	_, err := e.svc.AuthenticateOperator(e.ctx, TillKey("cafe-a"))
	wantErr(t, err, loyalty.ErrUnauthenticated)

	r, rev, err := e.svc.Rules(e.ctx, op)
	e.must(err)
	if rev != 0 || len(r.Challenges) != 1 {
		t.Fatalf("Rules = %d challenges, revision %d; want the seed's", len(r.Challenges), rev)
	}
	r.Welcome.Points = 40
	rev, err = e.svc.UpdateRules(e.ctx, op, r, 0)
	e.must(err)
	if _, err := e.svc.UpdateRules(e.ctx, op, r, 0); err == nil {
		t.Error("UpdateRules with a stale revision succeeded")
	} else {
		wantErr(t, err, loyalty.ErrConflict)
	}
	bad := r
	bad.Stars.PerMinor = 0
	_, err = e.svc.UpdateRules(e.ctx, op, bad, rev)
	wantErr(t, err, loyalty.ErrInvalid)

	ch := gamification.Challenge{ID: "spend-20", Name: gamification.Text{DE: "20 € ausgeben", EN: "Spend €20"}, Kind: gamification.KindSpend, Target: 2000, Reward: 20}
	if rev, err = e.svc.PutChallenge(e.ctx, op, ch); err != nil || rev != 2 {
		t.Fatalf("PutChallenge = %d, %v; want revision 2", rev, err)
	}
	if rev, err = e.svc.EndChallenge(e.ctx, op, "spend-20"); err != nil || rev != 3 {
		t.Fatalf("EndChallenge = %d, %v; want revision 3", rev, err)
	}
	_, err = e.svc.EndChallenge(e.ctx, op, "spend-20")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	_, err = e.svc.EndChallenge(e.ctx, op, "nope")
	wantErr(t, err, loyalty.ErrNotFound)

	// Applying the seed again keeps what the operator changed.
	e.seedGame("cafe-a")
	r, rev, err = e.svc.Rules(e.ctx, op)
	e.must(err)
	if rev != 3 || r.Welcome.Points != 40 || len(r.Challenges) != 2 {
		t.Errorf("rules after the seed again: revision %d, welcome %d, %d challenges; want 3, 40, 2", rev, r.Welcome.Points, len(r.Challenges))
	}
	if card := e.enroll("cafe-a", "new"); card.Account.Balance != 40 {
		t.Errorf("welcome bonus after the update = %d, want 40", card.Account.Balance)
	}
}

func testGameSimulate(t *testing.T, e *env) {
	till := e.seedGame("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.activate(card, "three-visits")
	e.clock.Advance(time.Hour)
	e.earn(till, card, 500, "v1")
	e.earn(till, card, 500, "v2")
	before := e.state(card)
	sim, err := e.svc.Simulate(e.ctx, e.operator(), loyalty.SimulateRequest{CardNumber: card.Member.CardNumber, AmountMinor: 10_000, Currency: "EUR"})
	e.must(err)
	if sim.Points != 100 || sim.Member.ID != card.Member.ID {
		t.Errorf("Simulate = %d points for %s, want 100 for %s", sim.Points, sim.Member.ID, card.Member.ID)
	}
	var keys []string
	for _, g := range sim.Effects.Grants {
		keys = append(keys, g.Key)
	}
	if !slices.Contains(keys, "challenge:three-visits:1") || sim.Effects.Tier == nil || sim.Effects.Tier.To.ID != "gold" {
		t.Errorf("Simulate effects: grants %v, tier %+v; want the challenge completed and gold", keys, sim.Effects.Tier)
	}
	if after := e.state(card); after.Account != before.Account || len(after.Entries) != len(before.Entries) {
		t.Errorf("Simulate wrote: account %+v → %+v", before.Account, after.Account)
	}
	_, err = e.svc.Simulate(e.ctx, e.operator(), loyalty.SimulateRequest{CardNumber: card.Member.CardNumber, AmountMinor: 100, Currency: "USD"})
	wantErr(t, err, loyalty.ErrInvalid)
}
