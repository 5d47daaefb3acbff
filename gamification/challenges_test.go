package gamification

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEligible(t *testing.T) {
	tiers := []Tier{{ID: "silber"}, {ID: "gold"}, {ID: "platin"}}
	start, end := at(t, "2026-05-01 00:00"), at(t, "2026-06-01 00:00")
	now := at(t, "2026-05-15 12:00")
	tests := []struct {
		name      string
		ruleTiers []Tier
		c         Challenge
		m         Member
		now       time.Time
		want      bool
	}{
		{"everyone", tiers, Challenge{}, Member{}, now, true},
		{"tier in audience", tiers, Challenge{Tiers: []string{"gold", "platin"}}, Member{Tier: TierState{ID: "gold"}}, now, true},
		{"tier not in audience", tiers, Challenge{Tiers: []string{"gold", "platin"}}, Member{Tier: TierState{ID: "silber"}}, now, false},
		{"no tier is the base tier", tiers, Challenge{Tiers: []string{"silber"}}, Member{}, now, true},
		{"no tier is not gold", tiers, Challenge{Tiers: []string{"gold"}}, Member{}, now, false},
		{"unknown tier is the base tier", tiers, Challenge{Tiers: []string{"silber"}}, Member{Tier: TierState{ID: "diamant"}}, now, true},
		{"unknown tier is not gold", tiers, Challenge{Tiers: []string{"gold"}}, Member{Tier: TierState{ID: "diamant"}}, now, false},
		{"no tier without tiers", nil, Challenge{Tiers: []string{"gold"}}, Member{}, now, false},
		{"segment in audience", tiers, Challenge{Segments: []string{"students", "staff"}}, Member{Segments: []string{"neighbours", "staff"}}, now, true},
		{"segment not in audience", tiers, Challenge{Segments: []string{"students"}}, Member{Segments: []string{"staff"}}, now, false},
		{"no segments", tiers, Challenge{Segments: []string{"students"}}, Member{}, now, false},
		{"tier but not segment", tiers, Challenge{Tiers: []string{"gold"}, Segments: []string{"students"}}, Member{Tier: TierState{ID: "gold"}, Segments: []string{"staff"}}, now, false},
		{"tier and segment", tiers, Challenge{Tiers: []string{"gold"}, Segments: []string{"students"}}, Member{Tier: TierState{ID: "gold"}, Segments: []string{"students"}}, now, true},
		{"before start", tiers, Challenge{Start: start, End: end}, Member{}, start.Add(-time.Minute), false},
		{"at start", tiers, Challenge{Start: start, End: end}, Member{}, start, true},
		{"before end", tiers, Challenge{Start: start, End: end}, Member{}, end.Add(-time.Minute), true},
		{"at end", tiers, Challenge{Start: start, End: end}, Member{}, end, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rules{TimeZone: "Europe/Berlin", Tiers: tt.ruleTiers}
			if got := Eligible(r, tt.c, tt.m, tt.now); got != tt.want {
				t.Errorf("Eligible = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestActivate(t *testing.T) {
	now := at(t, "2026-05-15 12:00")
	r := Rules{
		TimeZone: "Europe/Berlin",
		Tiers:    []Tier{{ID: "silber"}, {ID: "gold"}},
		Challenges: []Challenge{
			{ID: "auto", Kind: KindVisits, Target: 3},
			{ID: "week", Kind: KindVisits, Target: 3, OptIn: true, WindowDays: 7, MaxCompletions: 2},
			{ID: "once", Kind: KindProduct, Target: 1, OptIn: true},
			{ID: "twice", Kind: KindProduct, Target: 1, OptIn: true, MaxCompletions: 2},
			{ID: "gold", Kind: KindVisits, Target: 3, OptIn: true, Tiers: []string{"gold"}},
			{ID: "over", Kind: KindVisits, Target: 3, OptIn: true, End: at(t, "2026-05-15 12:00")},
			{ID: "later", Kind: KindVisits, Target: 3, OptIn: true, Start: at(t, "2026-05-15 12:01")},
		},
	}
	tests := []struct {
		name string
		id   string
		st   ChallengeState
		want ChallengeState
		err  error
	}{
		{name: "unknown", id: "nope", err: ErrUnknownChallenge},
		{name: "automatic", id: "auto", err: ErrNotOptIn},
		{name: "not in audience", id: "gold", err: ErrNotEligible},
		{name: "ended", id: "over", err: ErrNotRunning},
		{name: "not started", id: "later", err: ErrNotRunning},
		{name: "first activation", id: "week", want: ChallengeState{ActivatedAt: now}},
		{
			name: "window runs",
			id:   "week",
			st:   ChallengeState{ActivatedAt: at(t, "2026-05-08 12:01")},
			err:  ErrAlreadyActive,
		},
		{
			name: "window ended without completion",
			id:   "week",
			st:   ChallengeState{ActivatedAt: at(t, "2026-05-08 12:00")},
			want: ChallengeState{ActivatedAt: now},
		},
		{
			name: "window runs after a completion",
			id:   "week",
			st:   ChallengeState{ActivatedAt: at(t, "2026-05-10 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-12 12:00")},
			err:  ErrAlreadyActive,
		},
		{
			name: "window ended after a completion",
			id:   "week",
			st:   ChallengeState{ActivatedAt: at(t, "2026-05-01 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-05-03 12:00")},
			want: ChallengeState{ActivatedAt: now, Completions: 1, LastCompletedAt: at(t, "2026-05-03 12:00")},
		},
		{
			name: "completed max times",
			id:   "week",
			st:   ChallengeState{ActivatedAt: at(t, "2026-05-01 12:00"), Completions: 2, LastCompletedAt: at(t, "2026-05-03 12:00")},
			err:  ErrCompleted,
		},
		{
			name: "no window, not completed",
			id:   "twice",
			st:   ChallengeState{ActivatedAt: at(t, "2026-01-01 12:00")},
			err:  ErrAlreadyActive,
		},
		{
			name: "no window, completed once of twice",
			id:   "twice",
			st:   ChallengeState{ActivatedAt: at(t, "2026-01-01 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-01-02 12:00")},
			want: ChallengeState{ActivatedAt: now, Completions: 1, LastCompletedAt: at(t, "2026-01-02 12:00")},
		},
		{
			name: "no window, reactivated after the completion",
			id:   "twice",
			st:   ChallengeState{ActivatedAt: at(t, "2026-01-03 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-01-02 12:00")},
			err:  ErrAlreadyActive,
		},
		{
			name: "no window, default max completed",
			id:   "once",
			st:   ChallengeState{ActivatedAt: at(t, "2026-01-01 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-01-02 12:00")},
			err:  ErrCompleted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := activated(tt.id, tt.st)
			got, err := Activate(r, tt.id, m, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Activate error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); err == nil && diff != "" {
				t.Errorf("Activate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestActivateThenEvaluate checks that an activation lets purchases count
// from then on.
func TestActivateThenEvaluate(t *testing.T) {
	c := Challenge{ID: "cold-brew", Name: Text{DE: "Probier unseren Cold Brew", EN: "Try our cold brew"}, Kind: KindProduct, Target: 1, Categories: []string{"cold-brew"}, OptIn: true, Reward: 15}
	r := berlinRules(c)
	h := buys(at(t, "2026-05-04 09:00"), at(t, "2026-05-04 11:00"))
	for i := range h {
		h[i].Lines = []Line{{SKU: "cb", Category: "cold-brew", Quantity: 1}}
	}
	m := Member{ID: "m1"}
	if progress, grants, _ := EvaluateChallenges(r, m, h[:1], h[0]); len(progress) != 0 || len(grants) != 0 {
		t.Fatalf("before activation: progress %+v, grants %+v, want none", progress, grants)
	}
	st, err := Activate(r, c.ID, m, at(t, "2026-05-04 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	m.Challenges = map[string]ChallengeState{c.ID: st}
	_, grants, completed := EvaluateChallenges(r, m, h, h[1])
	if len(grants) != 1 || grants[0].Reason != (Text{DE: "Challenge „Probier unseren Cold Brew“ geschafft", EN: "Challenge \"Try our cold brew\" completed"}) {
		t.Fatalf("grants = %+v, want the cold brew's", grants)
	}
	want := ChallengeState{ActivatedAt: at(t, "2026-05-04 10:00"), Completions: 1, LastCompletedAt: h[1].At}
	if diff := cmp.Diff(want, completed[c.ID]); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestEvaluateChallengesCompletion(t *testing.T) {
	c := Challenge{ID: "three-visits", Name: Text{DE: "3 Besuche in 7 Tagen", EN: "3 visits in 7 days"}, Kind: KindVisits, Target: 3, WindowDays: 7, OptIn: true, MaxCompletions: 4, Reward: 30}
	r := berlinRules(c)
	act := at(t, "2026-05-04 08:00")
	m := activated(c.ID, ChallengeState{ActivatedAt: act})
	h := buys(at(t, "2026-05-04 09:00"), at(t, "2026-05-05 09:00"), at(t, "2026-05-06 09:00"))
	p := h[2]

	progress, grants, completed := EvaluateChallenges(r, m, h, p)
	wantGrant := Grant{
		MemberID: "m1", Points: 30, Kind: ReasonChallenge, RuleID: "three-visits",
		Reason: Text{DE: "Challenge „3 Besuche in 7 Tagen“ geschafft", EN: "Challenge \"3 visits in 7 days\" completed"},
		Key:    "challenge:three-visits:1",
	}
	if diff := cmp.Diff([]Grant{wantGrant}, grants); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	wantState := map[string]ChallengeState{c.ID: {ActivatedAt: act, Completions: 1, LastCompletedAt: p.At}}
	if diff := cmp.Diff(wantState, completed); diff != "" {
		t.Errorf("completed (-want +got):\n%s", diff)
	}
	wantProgress := []Progress{{ID: c.ID, Current: 3, Target: 3, Text: Text{DE: "3 von 3 Besuchen", EN: "3 of 3 visits"}}}
	if diff := cmp.Diff(wantProgress, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	// The same purchase from the same state, as a retry or another replica
	// would evaluate it, gives the same key: the ledger grants once.
	_, again, _ := EvaluateChallenges(r, m, h, p)
	if !cmp.Equal(again, grants) {
		t.Errorf("second evaluation grants %+v, want %+v", again, grants)
	}

	// The next purchase, with the state not yet updated, does not complete
	// it again: without it the target was reached already.
	h4 := append(h, buys(at(t, "2026-05-07 09:00"))[0])
	h4[3].ID = "p4"
	if _, g, _ := EvaluateChallenges(r, m, h4, h4[3]); len(g) != 0 {
		t.Errorf("next purchase grants %+v, want none", g)
	}

	// A purchase that was not the last of h still counts once: h lacks p.
	if _, g, _ := EvaluateChallenges(r, m, h[:2], p); len(g) != 1 {
		t.Errorf("h without p: grants %+v, want one", g)
	}
}

func TestEvaluateChallengesTwice(t *testing.T) {
	c := Challenge{ID: "v2", Name: Text{DE: "Zwei Besuche"}, Kind: KindVisits, Target: 2, MaxCompletions: 2, Reward: 10}
	r := berlinRules(c)
	h := buys(at(t, "2026-05-04 09:00"), at(t, "2026-05-05 09:00"), at(t, "2026-05-06 09:00"), at(t, "2026-05-07 09:00"), at(t, "2026-05-08 09:00"))
	m := Member{ID: "m1"}

	_, g1, st1 := EvaluateChallenges(r, m, h[:2], h[1])
	if len(g1) != 1 || g1[0].Key != "challenge:v2:1" || g1[0].Reason.EN != "Challenge \"Zwei Besuche\" completed" {
		t.Fatalf("first completion: %+v", g1)
	}
	m.Challenges = st1

	// Progress restarts after the completion: the first two visits no
	// longer count.
	progress, g, _ := EvaluateChallenges(r, m, h[:3], h[2])
	if len(g) != 0 || len(progress) != 1 || progress[0].Current != 1 {
		t.Fatalf("after the first completion: progress %+v, grants %+v, want 1 of 2 and none", progress, g)
	}
	_, g2, st2 := EvaluateChallenges(r, m, h[:4], h[3])
	if len(g2) != 1 || g2[0].Key != "challenge:v2:2" {
		t.Fatalf("second completion: %+v, want key challenge:v2:2", g2)
	}
	if diff := cmp.Diff(ChallengeState{Completions: 2, LastCompletedAt: h[3].At}, st2["v2"]); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	m.Challenges = st2

	// Completed twice of two: no more progress, no more grants.
	if progress, g, st := EvaluateChallenges(r, m, h, h[4]); len(progress) != 0 || len(g) != 0 || st != nil {
		t.Errorf("after max completions: progress %+v, grants %+v, states %+v, want none", progress, g, st)
	}
}

func TestEvaluateChallengesTakingPart(t *testing.T) {
	now := at(t, "2026-05-06 09:00")
	r := Rules{
		TimeZone: "Europe/Berlin",
		Tiers:    []Tier{{ID: "silber"}, {ID: "gold"}},
		Challenges: []Challenge{
			{ID: "b-visits", Kind: KindVisits, Target: 5},
			{ID: "a-optin", Kind: KindVisits, Target: 5, OptIn: true},
			{ID: "gold-only", Kind: KindVisits, Target: 5, Tiers: []string{"gold"}},
			{ID: "students", Kind: KindVisits, Target: 5, Segments: []string{"students"}},
			{ID: "over", Kind: KindVisits, Target: 5, End: now},
			{ID: "window-over", Kind: KindVisits, Target: 5, OptIn: true, WindowDays: 1},
			{ID: "c-spend", Kind: KindSpend, Target: 5000},
		},
	}
	m := Member{ID: "m1", Segments: []string{"students"}, Challenges: map[string]ChallengeState{
		"window-over": {ActivatedAt: at(t, "2026-05-05 09:00")},
	}}
	h := buys(at(t, "2026-05-05 09:00"), now)
	progress, _, _ := EvaluateChallenges(r, m, h, h[1])
	var ids []string
	for _, p := range progress {
		ids = append(ids, p.ID)
	}
	if want := []string{"b-visits", "students", "c-spend"}; !cmp.Equal(ids, want) {
		t.Errorf("progress of %v, want %v in the rules' order", ids, want)
	}
}

func TestEvaluateChallengesNoCompletion(t *testing.T) {
	c := Challenge{ID: "c", Kind: KindVisits, Target: 2, Reward: 10}
	tests := []struct {
		name string
		c    Challenge
		h    History
	}{
		// A fully returned purchase is no visit.
		{"returned purchase", c, History{{ID: "a", At: at(t, "2026-05-04 09:00"), AmountMinor: 500}, {ID: "b", At: at(t, "2026-05-05 09:00")}}},
		{"below target", c, buys(at(t, "2026-05-05 09:00"))},
		{"no target", Challenge{ID: "c", Kind: KindVisits, Reward: 10}, buys(at(t, "2026-05-05 09:00"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, grants, completed := EvaluateChallenges(berlinRules(tt.c), Member{ID: "m1"}, tt.h, tt.h[len(tt.h)-1])
			if len(grants) != 0 || completed != nil {
				t.Errorf("grants %+v, completed %+v, want none", grants, completed)
			}
		})
	}
}
