package gamification

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// view is what TestOverview checks of a ChallengeView.
type view struct {
	ID          string
	Status      ChallengeStatus
	Current     int64
	Until       time.Time
	Completions int
}

func TestOverview(t *testing.T) {
	now := at(t, "2026-05-20 12:00")
	end := at(t, "2026-06-01 00:00")
	tiers := []Tier{{ID: "silber"}, {ID: "gold", QualifyingStars: 300}}
	h := buys(at(t, "2026-05-15 09:00"), at(t, "2026-05-18 09:00"), at(t, "2026-05-19 09:00"))
	h[2].Lines = []Line{{SKU: "cb", Category: "cold-brew", Quantity: 1}}

	auto := Challenge{ID: "auto", Kind: KindVisits, Target: 5}
	autoEnd := Challenge{ID: "auto-end", Kind: KindVisits, Target: 5, End: end}
	week := Challenge{ID: "week", Kind: KindVisits, Target: 3, OptIn: true, WindowDays: 7, MaxCompletions: 2}
	short := Challenge{ID: "short", Kind: KindVisits, Target: 3, OptIn: true, WindowDays: 7, End: at(t, "2026-05-22 00:00")}
	once := Challenge{ID: "once", Kind: KindProduct, Target: 1, Categories: []string{"cold-brew"}, OptIn: true}
	twice := Challenge{ID: "twice", Kind: KindVisits, Target: 2, OptIn: true, MaxCompletions: 2}
	gold := Challenge{ID: "gold", Kind: KindVisits, Target: 3, OptIn: true, WindowDays: 7, Tiers: []string{"gold"}, End: end}
	goldAuto := Challenge{ID: "gold-auto", Kind: KindVisits, Target: 5, Tiers: []string{"gold"}, MaxCompletions: 3}
	silber := Challenge{ID: "silber-only", Kind: KindVisits, Target: 5, Tiers: []string{"silber"}}
	students := Challenge{ID: "students", Kind: KindVisits, Target: 5, Segments: []string{"students"}}
	over := Challenge{ID: "over", Kind: KindVisits, Target: 5, OptIn: true, End: now}
	later := Challenge{ID: "later", Kind: KindVisits, Target: 5, Start: now.Add(time.Minute)}

	member := func(tier string, states map[string]ChallengeState) Member {
		return Member{ID: "m1", Tier: TierState{ID: tier}, Challenges: states}
	}
	type states = map[string]ChallengeState
	tests := []struct {
		name string
		cs   []Challenge
		m    Member
		want []view
	}{
		{"automatic ones count, opt-in ones wait, in the rules' order",
			[]Challenge{week, auto, once, autoEnd}, member("", nil),
			[]view{{"week", StatusAvailable, 0, time.Time{}, 0}, {"auto", StatusActive, 3, time.Time{}, 0},
				{"once", StatusAvailable, 0, time.Time{}, 0}, {"auto-end", StatusActive, 3, end, 0}}},
		{"available until the challenge's End", []Challenge{short}, member("", nil),
			[]view{{"short", StatusAvailable, 0, at(t, "2026-05-22 00:00"), 0}}},
		{"not running: ended or not started, also when completed or activated",
			[]Challenge{over, later}, member("", states{"over": {ActivatedAt: at(t, "2026-05-18 00:00")}, "later": {Completions: 1}}), nil},
		{"activated: counts from activation until the window ends",
			[]Challenge{week}, member("", states{"week": {ActivatedAt: at(t, "2026-05-16 10:00")}}),
			[]view{{"week", StatusActive, 2, at(t, "2026-05-23 10:00"), 0}}},
		{"activated: the challenge's End before the window's",
			[]Challenge{short}, member("", states{"short": {ActivatedAt: at(t, "2026-05-18 08:00")}}),
			[]view{{"short", StatusActive, 2, at(t, "2026-05-22 00:00"), 0}}},
		{"activated: the window ends before the challenge's End",
			[]Challenge{gold}, member("gold", states{"gold": {ActivatedAt: at(t, "2026-05-18 08:00")}}),
			[]view{{"gold", StatusActive, 2, at(t, "2026-05-25 08:00"), 0}}},
		{"window runs after a completion: counting goes on after it",
			[]Challenge{week}, member("", states{"week": {ActivatedAt: at(t, "2026-05-14 10:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-15 09:00")}}),
			[]view{{"week", StatusActive, 2, at(t, "2026-05-21 10:00"), 1}}},
		{"window ran out, completions left: available again",
			[]Challenge{week}, member("", states{"week": {ActivatedAt: at(t, "2026-05-13 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-15 09:00")}}),
			[]view{{"week", StatusAvailable, 0, time.Time{}, 1}}},
		{"window ran out without completion: available again",
			[]Challenge{week}, member("", states{"week": {ActivatedAt: at(t, "2026-05-13 12:00")}}),
			[]view{{"week", StatusAvailable, 0, time.Time{}, 0}}},
		{"completed MaxCompletions times",
			[]Challenge{week, once}, member("", states{
				"week": {ActivatedAt: at(t, "2026-05-14 10:00"), Completions: 2, LastCompletedAt: at(t, "2026-05-19 09:00")},
				"once": {ActivatedAt: at(t, "2026-05-14 10:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-19 09:00")}}),
			[]view{{"week", StatusCompleted, 3, time.Time{}, 2}, {"once", StatusCompleted, 1, time.Time{}, 1}}},
		{"automatic completed", []Challenge{auto}, member("", states{"auto": {Completions: 1, LastCompletedAt: at(t, "2026-05-01 09:00")}}),
			[]view{{"auto", StatusCompleted, 5, time.Time{}, 1}}},
		{"automatic with completions left counts after the last",
			[]Challenge{goldAuto}, member("gold", states{"gold-auto": {Completions: 1, LastCompletedAt: at(t, "2026-05-15 09:00")}}),
			[]view{{"gold-auto", StatusActive, 2, time.Time{}, 1}}},
		{"without window, activated: active, open",
			[]Challenge{once, twice}, member("", states{"once": {ActivatedAt: at(t, "2026-05-01 10:00")}, "twice": {ActivatedAt: at(t, "2026-05-18 10:00")}}),
			[]view{{"once", StatusActive, 1, time.Time{}, 0}, {"twice", StatusActive, 1, time.Time{}, 0}}},
		{"without window, a completion ended the activation: available again",
			[]Challenge{twice}, member("", states{"twice": {ActivatedAt: at(t, "2026-05-01 10:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-15 09:00")}}),
			[]view{{"twice", StatusAvailable, 0, time.Time{}, 1}}},
		{"without window, activated again after a completion",
			[]Challenge{twice}, member("", states{"twice": {ActivatedAt: at(t, "2026-05-16 10:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-15 09:00")}}),
			[]view{{"twice", StatusActive, 2, time.Time{}, 1}}},
		{"audience: no tier is the base tier",
			[]Challenge{silber, gold, goldAuto, students}, member("", nil),
			[]view{{"silber-only", StatusActive, 3, time.Time{}, 0}}},
		{"audience: an unknown tier is the base tier",
			[]Challenge{silber, gold, goldAuto}, member("platinum", nil),
			[]view{{"silber-only", StatusActive, 3, time.Time{}, 0}}},
		{"audience: gold",
			[]Challenge{silber, gold, goldAuto}, member("gold", nil),
			[]view{{"gold", StatusAvailable, 0, end, 0}, {"gold-auto", StatusActive, 3, time.Time{}, 0}}},
		{"audience: segment",
			[]Challenge{students}, Member{ID: "m1", Segments: []string{"staff", "students"}},
			[]view{{"students", StatusActive, 3, time.Time{}, 0}}},
		{"left the audience mid-activation: ended",
			[]Challenge{gold}, member("silber", states{"gold": {ActivatedAt: at(t, "2026-05-18 08:00")}}),
			[]view{{"gold", StatusEnded, 0, time.Time{}, 0}}},
		{"left the audience after a completion, completions left: ended",
			[]Challenge{goldAuto}, member("silber", states{"gold-auto": {Completions: 1, LastCompletedAt: at(t, "2026-03-01 09:00")}}),
			[]view{{"gold-auto", StatusEnded, 0, time.Time{}, 1}}},
		{"left the audience after the last completion: completed",
			[]Challenge{gold}, member("silber", states{"gold": {ActivatedAt: at(t, "2026-05-18 08:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-19 09:00")}}),
			[]view{{"gold", StatusCompleted, 3, time.Time{}, 1}}},
		{"never in the segment: not shown, whatever the state says",
			[]Challenge{students}, member("", states{"students": {}}), nil},
		{"left the segment after a completion, completions left: ended",
			[]Challenge{{ID: "students", Kind: KindVisits, Target: 5, Segments: []string{"students"}, MaxCompletions: 2}},
			member("", states{"students": {Completions: 1, LastCompletedAt: at(t, "2026-04-01 09:00")}}),
			[]view{{"students", StatusEnded, 0, time.Time{}, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rules{TimeZone: "Europe/Berlin", Tiers: tiers, Challenges: tt.cs}
			views := Overview(r, tt.m, h, now)
			var got []view
			for _, v := range views {
				got = append(got, view{v.Challenge.ID, v.Status, v.Progress.Current, v.ActiveUntil, v.Completions})
				// The app's button: available exactly when Activate succeeds.
				if _, err := Activate(r, v.Challenge.ID, tt.m, now); v.Challenge.OptIn && (err == nil) != (v.Status == StatusAvailable) {
					t.Errorf("%s is %s, but Activate says %v", v.Challenge.ID, v.Status, err)
				}
				if want := challengeTarget(v.Challenge); v.Progress.ID != v.Challenge.ID || v.Progress.Target != want {
					t.Errorf("%s: progress %+v, want its ID and target %d", v.Challenge.ID, v.Progress, want)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("Overview (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOverviewView checks a whole view: the challenge, and the progress
// as EvaluateChallenges would give it, text included.
func TestOverviewView(t *testing.T) {
	c := Challenge{ID: "three-visits", Name: Text{DE: "3 Besuche in 7 Tagen", EN: "3 visits in 7 days"}, Kind: KindVisits, Target: 3, WindowDays: 7, OptIn: true, Reward: 30}
	r := berlinRules(c)
	m := activated(c.ID, ChallengeState{ActivatedAt: at(t, "2026-05-18 10:00")})
	h := buys(at(t, "2026-05-17 09:00"), at(t, "2026-05-19 09:00"))
	want := []ChallengeView{{
		Challenge:   c,
		Status:      StatusActive,
		Progress:    Progress{ID: c.ID, Current: 1, Target: 3, Text: Text{DE: "1 von 3 Besuchen", EN: "1 of 3 visits"}},
		ActiveUntil: at(t, "2026-05-25 10:00"),
	}}
	got := Overview(r, m, h, at(t, "2026-05-20 12:00"))
	if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
		t.Errorf("Overview (-want +got):\n%s", diff)
	}
	progress, _, _ := EvaluateChallenges(r, m, h, h[1])
	if diff := cmp.Diff(progress, []Progress{got[0].Progress}); diff != "" {
		t.Errorf("Overview's progress differs from EvaluateChallenges' (-evaluate +overview):\n%s", diff)
	}
}

func TestTierOutlook(t *testing.T) {
	now := at(t, "2026-05-20 12:00")
	silber := Tier{ID: "silber", Name: Text{DE: "Silber"}, Multiplier: 1000}
	gold := Tier{ID: "gold", Name: Text{DE: "Gold"}, Multiplier: 1200, QualifyingStars: 300}
	platin := Tier{ID: "platin", Name: Text{DE: "Platin"}, Multiplier: 1500, QualifyingStars: 1000}
	policy := TierPolicy{WindowMonths: 12, StatusMonths: 12}
	h := History{
		{ID: "old", At: at(t, "2025-05-20 12:00"), Stars: 500}, // exactly a window ago: out
		{ID: "p1", At: at(t, "2025-06-01 12:00"), Stars: 200},
		{ID: "p2", At: now, Stars: 150},
		{ID: "later", At: now.Add(time.Minute), Stars: 1000}, // after now: out
	}
	tests := []struct {
		name       string
		tiers      []Tier
		tier       string
		cur        Tier
		next       *Tier
		qualifying int64
	}{
		{"no tiers", nil, "gold", Tier{}, nil, 0},
		{"no tier is the base tier", []Tier{silber, gold, platin}, "", silber, &gold, 350},
		{"unknown tier is the base tier", []Tier{silber, gold, platin}, "diamant", silber, &gold, 350},
		{"middle tier", []Tier{silber, gold, platin}, "gold", gold, &platin, 350},
		{"top tier", []Tier{silber, gold, platin}, "platin", platin, nil, 350},
		{"only a base tier", []Tier{silber}, "", silber, nil, 350},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rules{TimeZone: "Europe/Berlin", Tiers: tt.tiers, TierPolicy: policy}
			cur, next, q := TierOutlook(r, Member{ID: "m1", Tier: TierState{ID: tt.tier}}, h, now)
			if diff := cmp.Diff(tt.cur, cur); diff != "" {
				t.Errorf("cur (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.next, next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
			if q != tt.qualifying {
				t.Errorf("qualifying = %d, want %d", q, tt.qualifying)
			}
			// next is a copy: changing it leaves the rules alone.
			if next != nil {
				next.QualifyingStars = -1
				if slices.ContainsFunc(r.Tiers, func(t Tier) bool { return t.QualifyingStars < 0 }) {
					t.Errorf("changing next changed r.Tiers: %+v", r.Tiers)
				}
			}
		})
	}
}
