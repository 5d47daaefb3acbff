package bff

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// everyFieldRules returns rules that set every field of every type in
// gamification.Rules at least once (TestEveryFieldIsConverted checks).
// They need not be sensible, only convertible.
func everyFieldRules() gamification.Rules {
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	text := func(de, en string) gamification.Text { return gamification.Text{DE: de, EN: en} }
	return gamification.Rules{
		TimeZone: "Europe/Vienna",
		Stars: gamification.Stars{Points: 2, PerMinor: 150, Boosts: []gamification.Boost{{
			ID: "weekend", Name: text("Wochenende", "Weekend"), Multiplier: 1500,
			Weekdays: []time.Weekday{time.Saturday, time.Sunday, time.Monday},
			From:     "08:00", To: "24:00", Start: t0, End: t0.AddDate(0, 1, 0),
		}}},
		Tiers: []gamification.Tier{
			{ID: "base", Name: text("Basis", ""), Multiplier: 1000},
			{ID: "vip", Name: text("VIP", "VIP"), Multiplier: 1250, QualifyingStars: 500},
		},
		TierPolicy: gamification.TierPolicy{WindowMonths: 12, StatusMonths: 6},
		Challenges: []gamification.Challenge{{
			ID: "morning-cake", Name: text("Morgens Kuchen", "Cake in the morning"), Description: text("Zwei Schritte", "Two steps"),
			Kind: gamification.KindMulti, Target: 2, SKUs: []string{"a1"}, Categories: []string{"kuchen"}, From: "06:00", To: "11:00",
			Steps: []gamification.Challenge{
				{ID: "early", Name: text("Früh", "Early"), Description: text("Vor 10", "Before 10"), Kind: gamification.KindTimeOfDay, Target: 1, From: "06:00", To: "10:00"},
				{Kind: gamification.KindProduct, Target: 2, SKUs: []string{"a1", "a2"}, Categories: []string{"kuchen"}},
			},
			Start: t0, End: t0.AddDate(0, 0, 14), WindowDays: 14, OptIn: true, Tiers: []string{"vip"}, Segments: []string{"students"},
			MaxCompletions: 3, Reward: 40,
		}},
		Welcome:  &gamification.Welcome{Points: 10},
		Birthday: &gamification.Birthday{Points: 50, DaysBefore: 3, DaysAfter: 4},
		Referral: &gamification.Referral{ReferrerPoints: 30, RefereePoints: 20, MaxPerReferrer: 5},
		StampCards: []gamification.StampCard{{
			ID: "coffee-card", Name: text("Kaffeekarte", "Coffee card"), Stamps: 9,
			SKUs: []string{"espresso"}, Categories: []string{"coffee"}, RewardID: "free-coffee",
		}},
	}
}

func demoRules(t *testing.T) gamification.Rules {
	t.Helper()
	r, err := gamification.ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRulesRoundTrip converts rules to proto, back and to proto again:
// nothing may be lost or changed either way.
func TestRulesRoundTrip(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]gamification.Rules{"demo": demoRules(t), "every field": everyFieldRules()} {
		t.Run(name, func(t *testing.T) {
			p := toProtoRules(r)
			back, err := fromProtoRules(p, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(r, back); d != "" {
				t.Fatalf("rules → proto → rules changed them (-want +got):\n%s", d)
			}
			// Through the wire, as a client sends them.
			b, err := proto.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			wire := &treuev1.Rules{}
			if err := proto.Unmarshal(b, wire); err != nil {
				t.Fatal(err)
			}
			back, err = fromProtoRules(wire, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if again := toProtoRules(back); !proto.Equal(p, again) {
				t.Fatalf("proto → rules → proto changed them:\n%v\nwant\n%v", again, p)
			}
		})
	}
	// The demo rules as the operator reads them.
	p := toProtoRules(demoRules(t))
	if b := p.GetStars().GetBoosts()[0]; b.GetMultiplierPermille() != 2000 || !slices.Equal(b.GetWeekdays(), []treuev1.Weekday{treuev1.Weekday_WEEKDAY_TUESDAY}) {
		t.Errorf("double-tuesday = %v", b)
	}
	if c := p.GetChallenges()[5]; c.GetKind() != treuev1.ChallengeKind_CHALLENGE_KIND_MULTI || len(c.GetSteps()) != 3 ||
		c.GetSteps()[1].GetFromTimeOfDay() != "14:00" || c.GetBonusPoints() != 40 || c.GetDescription() != nil {
		t.Errorf("explorer = %v", c)
	}
}

// TestEveryFieldIsConverted checks that everyFieldRules sets every field of
// the domain's rules and that their proto sets every field of the proto's:
// a field added to either side without its conversion fails the round trip
// above.
func TestEveryFieldIsConverted(t *testing.T) {
	t.Parallel()
	r := everyFieldRules()
	all, set := map[string]bool{}, map[string]bool{}
	goFields(reflect.TypeOf(r), all)
	goFieldsSet(reflect.ValueOf(r), set)
	for f := range all {
		if !set[f] {
			t.Errorf("everyFieldRules leaves %s unset", f)
		}
	}
	if len(all) < 40 {
		t.Fatalf("found only %d fields in gamification.Rules", len(all))
	}

	p := toProtoRules(r)
	all, set = map[string]bool{}, map[string]bool{}
	protoFields(p.ProtoReflect().Descriptor(), all)
	protoFieldsSet(p.ProtoReflect(), set)
	for f := range all {
		if !set[f] {
			t.Errorf("the proto of everyFieldRules leaves %s unset", f)
		}
	}
}

// goFields adds the fields of the structs reachable from t, by
// "Type.Field"; time.Time is a value.
func goFields(t reflect.Type, out map[string]bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		goFields(t.Elem(), out)
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name := t.Name() + "." + f.Name
			if out[name] {
				continue
			}
			out[name] = true
			goFields(f.Type, out)
		}
	}
}

// goFieldsSet adds the fields v sets, as goFields names them.
func goFieldsSet(v reflect.Value, out map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			goFieldsSet(v.Elem(), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			goFieldsSet(v.Index(i), out)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if !v.Field(i).IsZero() {
				out[v.Type().Name()+"."+v.Type().Field(i).Name] = true
				goFieldsSet(v.Field(i), out)
			}
		}
	}
}

// protoFields adds the fields of the messages reachable from md, by full
// name; well-known types are values.
func protoFields(md protoreflect.MessageDescriptor, out map[string]bool) {
	if md.ParentFile().Package() != "treue.v1" {
		return
	}
	for i := range md.Fields().Len() {
		f := md.Fields().Get(i)
		if out[string(f.FullName())] {
			continue
		}
		out[string(f.FullName())] = true
		if f.Message() != nil {
			protoFields(f.Message(), out)
		}
	}
}

// protoFieldsSet adds the fields m sets.
func protoFieldsSet(m protoreflect.Message, out map[string]bool) {
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(f.FullName())] = true
		switch {
		case f.IsList() && f.Message() != nil:
			for i := range v.List().Len() {
				protoFieldsSet(v.List().Get(i).Message(), out)
			}
		case f.Message() != nil && !f.IsMap():
			protoFieldsSet(v.Message(), out)
		}
		return true
	})
}

// TestRulesFromProtoInvalid checks that malformed requests, missing
// messages among them, are refused with invalid_argument naming the field,
// and never panic.
func TestRulesFromProtoInvalid(t *testing.T) {
	t.Parallel()
	valid := func() *treuev1.Rules { return toProtoRules(everyFieldRules()) }
	with := func(mod func(*treuev1.Rules)) *treuev1.Rules {
		r := valid()
		mod(r)
		return r
	}
	badTime := &timestamppb.Timestamp{Seconds: 1 << 62}
	cases := []struct {
		name  string
		rules *treuev1.Rules
		want  string
	}{
		{"no rules", nil, "rules is required"},
		{"no stars", with(func(r *treuev1.Rules) { r.Stars = nil }), "rules.stars is required"},
		{"nil boost name", with(func(r *treuev1.Rules) { r.Stars.Boosts[0].Name = nil }), "rules.stars.boosts[0].name is required"},
		{"nil boost", with(func(r *treuev1.Rules) { r.Stars.Boosts = []*treuev1.Boost{nil} }), "rules.stars.boosts[0].name is required"},
		{"unspecified weekday", with(func(r *treuev1.Rules) {
			r.Stars.Boosts[0].Weekdays = []treuev1.Weekday{treuev1.Weekday_WEEKDAY_MONDAY, treuev1.Weekday_WEEKDAY_UNSPECIFIED}
		}), "rules.stars.boosts[0].weekdays[1] WEEKDAY_UNSPECIFIED is not a weekday"},
		{"unknown weekday", with(func(r *treuev1.Rules) { r.Stars.Boosts[0].Weekdays = []treuev1.Weekday{8} }), "rules.stars.boosts[0].weekdays[0] 8 is not a weekday"},
		{"hour 25", with(func(r *treuev1.Rules) { r.Stars.Boosts[0].FromTimeOfDay = "25:00" }), `rules.stars.boosts[0].from_time_of_day "25:00" is not a time of day`},
		{"one-digit hour", with(func(r *treuev1.Rules) { r.Stars.Boosts[0].ToTimeOfDay = "9:00" }), "rules.stars.boosts[0].to_time_of_day"},
		{"minute 60", with(func(r *treuev1.Rules) { r.Challenges[0].FromTimeOfDay = "12:60" }), "rules.challenges[0].from_time_of_day"},
		{"after midnight", with(func(r *treuev1.Rules) { r.Challenges[0].Steps[0].ToTimeOfDay = "24:01" }), "rules.challenges[0].steps[0].to_time_of_day"},
		{"bad boost start", with(func(r *treuev1.Rules) { r.Stars.Boosts[0].StartTime = badTime }), "rules.stars.boosts[0].start_time is not a valid timestamp"},
		{"bad challenge end", with(func(r *treuev1.Rules) { r.Challenges[0].EndTime = badTime }), "rules.challenges[0].end_time"},
		{"nil tier name", with(func(r *treuev1.Rules) { r.Tiers[1].Name = nil }), "rules.tiers[1].name is required"},
		{"nil tier", with(func(r *treuev1.Rules) { r.Tiers[0] = nil }), "rules.tiers[0].name is required"},
		{"nil challenge name", with(func(r *treuev1.Rules) { r.Challenges[0].Name = nil }), "rules.challenges[0].name is required"},
		{"nil challenge", with(func(r *treuev1.Rules) { r.Challenges = append(r.Challenges, nil) }), "rules.challenges[1].name is required"},
		{"no kind", with(func(r *treuev1.Rules) { r.Challenges[0].Kind = 0 }), "rules.challenges[0].kind is required"},
		{"unknown kind", with(func(r *treuev1.Rules) { r.Challenges[0].Kind = 42 }), "rules.challenges[0].kind 42 is not a challenge kind"},
		{"nil step", with(func(r *treuev1.Rules) { r.Challenges[0].Steps[1] = nil }), "rules.challenges[0].steps[1].kind is required"},
		{"nil stamp card name", with(func(r *treuev1.Rules) { r.StampCards[0].Name = nil }), "rules.stamp_cards[0].name is required"},
		{"nil stamp card", with(func(r *treuev1.Rules) { r.StampCards = []*treuev1.StampCardRule{nil} }), "rules.stamp_cards[0].name is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := fromProtoRules(c.rules, "rules")
			checkInvalid(t, err, c.want)
		})
	}
	// The first bad field is named.
	_, err := fromProtoRules(with(func(r *treuev1.Rules) {
		r.Stars.Boosts[0].FromTimeOfDay = "x"
		r.StampCards[0].Name = nil
	}), "rules")
	checkInvalid(t, err, "rules.stars.boosts[0].from_time_of_day")

	_, err = fromProtoChallengeRule(nil, "challenge")
	checkInvalid(t, err, "challenge is required")
	_, err = fromProtoChallengeRule(&treuev1.ChallengeRule{Name: &treuev1.LocalizedText{De: "x"}, Steps: []*treuev1.ChallengeStep{{Kind: 9}}}, "challenge")
	checkInvalid(t, err, "challenge.kind is required")
	_, err = fromProtoChallengeRule(&treuev1.ChallengeRule{Name: &treuev1.LocalizedText{De: "x"}, Kind: 1, Steps: []*treuev1.ChallengeStep{{Kind: 9}}}, "challenge")
	checkInvalid(t, err, "challenge.steps[0].kind 9 is not a challenge kind")
	_, err = fromProtoCatalogReward(nil, "reward")
	checkInvalid(t, err, "reward is required")
	_, err = fromProtoCatalogReward(&treuev1.CatalogReward{Id: "x", Cost: 1}, "reward")
	checkInvalid(t, err, "reward.name is required")
}

// checkInvalid fails unless err is an invalid-argument domain error whose
// message, as the client gets it, contains want.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, loyalty.ErrInvalid) {
		t.Fatalf("got %v, want an invalid argument", err)
	}
	ce, public := toConnectError(err)
	if !public || ce.Code() != connect.CodeInvalidArgument || !strings.Contains(ce.Message(), want) {
		t.Fatalf("client gets %v (public %v), want invalid_argument saying %q", ce, public, want)
	}
}

// TestCatalogRewardRoundTrip converts rewards both ways.
func TestCatalogRewardRoundTrip(t *testing.T) {
	t.Parallel()
	stock := int64(0)
	for _, r := range []loyalty.Reward{
		{ID: "a", Name: loyalty.Text{DE: "A", EN: "A"}, Description: loyalty.Text{DE: "Ein A"}, Cost: 5, Stock: &stock, Active: true},
		{ID: "b", Name: loyalty.Text{DE: "B"}, Cost: 1},
	} {
		back, err := fromProtoCatalogReward(toProtoCatalogReward(r), "reward")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(r, back); d != "" {
			t.Errorf("reward round trip (-want +got):\n%s", d)
		}
	}
}

// TestWeekdays checks the ISO numbering of weekdays both ways.
func TestWeekdays(t *testing.T) {
	t.Parallel()
	if toProtoWeekday(time.Sunday) != treuev1.Weekday_WEEKDAY_SUNDAY || toProtoWeekday(time.Monday) != treuev1.Weekday_WEEKDAY_MONDAY ||
		toProtoWeekday(time.Saturday) != treuev1.Weekday_WEEKDAY_SATURDAY || toProtoWeekday(9) != treuev1.Weekday_WEEKDAY_UNSPECIFIED {
		t.Fatal("weekdays are not numbered as ISO 8601 does")
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		rr := &ruleReader{}
		if got := rr.weekdays("w", []treuev1.Weekday{toProtoWeekday(d)}); rr.err != nil || !slices.Equal(got, []time.Weekday{d}) {
			t.Errorf("%v → %v → %v (%v)", d, toProtoWeekday(d), got, rr.err)
		}
	}
}

// TestConvertIsTotal converts zero and odd domain values without panicking.
func TestConvertIsTotal(t *testing.T) {
	t.Parallel()
	if p := toProtoRules(gamification.Rules{}); p.GetStars() == nil || p.GetTierPolicy() != nil {
		t.Errorf("zero rules = %v", p)
	}
	odd := gamification.Rules{
		Stars:      gamification.Stars{Boosts: []gamification.Boost{{Weekdays: []time.Weekday{-1, 7}}}},
		Challenges: []gamification.Challenge{{Kind: "bogus", Steps: []gamification.Challenge{{}}}},
	}
	p := toProtoRules(odd)
	if p.GetChallenges()[0].GetKind() != treuev1.ChallengeKind_CHALLENGE_KIND_UNSPECIFIED ||
		p.GetStars().GetBoosts()[0].GetWeekdays()[0] != treuev1.Weekday_WEEKDAY_UNSPECIFIED {
		t.Errorf("odd rules = %v", p)
	}
	if _, err := fromProtoRules(&treuev1.Rules{Stars: &treuev1.Stars{}}, "rules"); err != nil {
		t.Errorf("empty rules: %v (the domain validates them, not the conversion)", err)
	}
	_ = toProtoSimulation(loyalty.Simulation{})
	_ = toProtoSimulation(loyalty.Simulation{Effects: gamification.Effects{
		Tier:      &gamification.TierChange{},
		Completed: map[string]gamification.ChallengeState{"b": {}, "a": {Completions: 1}},
	}})
	_ = toProtoChallenge(loyalty.ChallengeView{}, loyalty.LocaleDE)
	_ = toProtoCatalogReward(loyalty.Reward{})
}

// TestSimulationConversion checks the simulation's response: grants,
// totals and completions in a stable order.
func TestSimulationConversion(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	res := toProtoSimulation(loyalty.Simulation{
		Member: loyalty.Member{ID: "m1"},
		Points: 10,
		Effects: gamification.Effects{
			Grants: []gamification.Grant{
				{MemberID: "m1", Points: 10, Kind: gamification.ReasonBoost, RuleID: "double-tuesday", Reason: gamification.Text{DE: "Doppelt"}, Key: "boost:p1"},
				{MemberID: "m0", Points: 50, Kind: gamification.ReasonReferral, Key: "referral:m1"},
			},
			Vouchers:   []gamification.VoucherGrant{{RewardID: "free", CardID: "card", Reason: gamification.Text{DE: "voll"}, Key: "stamp:card:1"}},
			Tier:       &gamification.TierChange{From: gamification.TierState{ID: "silber"}, To: gamification.TierState{ID: "gold", Since: at, Until: at.AddDate(1, 0, 0)}},
			Challenges: []gamification.Progress{{ID: "c", Current: 1, Target: 3, Text: gamification.Text{DE: "1 von 3"}}},
			Completed: map[string]gamification.ChallengeState{
				"z": {Completions: 2, LastCompletedAt: at}, "a": {Completions: 1, ActivatedAt: at, LastCompletedAt: at},
			},
			Stamps:      []gamification.Progress{{ID: "card", Current: 0, Target: 9}},
			StampTotals: map[string]int64{"card": 9},
		},
	})
	if res.GetTotalPoints() != 20 || res.GetBasePoints() != 10 || res.GetMemberId() != "m1" {
		t.Errorf("points = base %d, total %d; want 10 and 20 (the referrer's 50 are not the member's)", res.GetBasePoints(), res.GetTotalPoints())
	}
	if g := res.GetGrants()[1]; g.GetKind() != treuev1.GrantKind_GRANT_KIND_REFERRAL || g.GetMemberId() != "m0" {
		t.Errorf("referral grant = %v", g)
	}
	if tc := res.GetTierChange(); tc.GetFrom().GetTierId() != "silber" || tc.GetFrom().GetSinceTime() != nil || !tc.GetTo().GetUntilTime().AsTime().Equal(at.AddDate(1, 0, 0)) {
		t.Errorf("tier change = %v", tc)
	}
	if cs := res.GetCompletedChallenges(); len(cs) != 2 || cs[0].GetChallengeId() != "a" || cs[0].GetActivateTime() == nil || cs[1].GetCompletions() != 2 {
		t.Errorf("completed = %v, want a then z", cs)
	}
	if res.GetStampTotals()["card"] != 9 || res.GetVouchers()[0].GetStampCardId() != "card" || res.GetStampCards()[0].GetTarget() != 9 {
		t.Errorf("stamps = %v", res)
	}
}
