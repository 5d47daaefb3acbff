package gamification

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/assets"
)

func TestHistoryFrom(t *testing.T) {
	now := at(t, "2026-05-20 12:00")
	floor := at(t, "2025-04-15 12:00") // 400 days before now
	tiers := []Tier{{ID: "silber"}, {ID: "gold", QualifyingStars: 300}}
	year := TierPolicy{WindowMonths: 12, StatusMonths: 12}
	auto7 := Challenge{ID: "auto7", Kind: KindVisits, Target: 3, WindowDays: 7}
	open := Challenge{ID: "open", Kind: KindVisits, Target: 3}
	started := Challenge{ID: "started", Kind: KindVisits, Target: 3, Start: at(t, "2026-03-01 00:00")}
	optIn7 := Challenge{ID: "optin7", Kind: KindVisits, Target: 3, OptIn: true, WindowDays: 7}
	optIn := Challenge{ID: "optin", Kind: KindVisits, Target: 3, OptIn: true, MaxCompletions: 2}
	state := func(id string, st ChallengeState) map[string]ChallengeState { return map[string]ChallengeState{id: st} }
	tests := []struct {
		name   string
		tiers  []Tier
		policy TierPolicy
		cs     []Challenge
		m      Member
		now    time.Time
		want   time.Time
	}{
		{"no rule looks back", nil, TierPolicy{}, nil, Member{}, now, now},
		{"tier window", tiers, year, nil, Member{}, now, at(t, "2025-05-20 12:00")},
		{"tier window clamped to month end", tiers, TierPolicy{WindowMonths: 1}, nil, Member{}, at(t, "2026-03-31 12:00"), at(t, "2026-02-28 12:00")},
		{"long tier window bounded", tiers, TierPolicy{WindowMonths: 24}, nil, Member{}, now, floor},
		{"automatic with window", nil, TierPolicy{}, []Challenge{auto7}, Member{}, now, at(t, "2026-05-13 12:00")},
		// 7 days before 30 March 12:00 CEST is 23 March 12:00 CET.
		{"automatic window by the wall clock", nil, TierPolicy{}, []Challenge{auto7}, Member{}, at(t, "2026-03-30 12:00"), at(t, "2026-03-23 12:00")},
		{"automatic window by the wall clock, now in UTC", nil, TierPolicy{}, []Challenge{auto7}, Member{}, utc(t, "2026-03-30 10:00"), at(t, "2026-03-23 12:00")},
		{"automatic without window is bounded", nil, TierPolicy{}, []Challenge{open}, Member{}, now, floor},
		{"bounded by the wall clock, now in UTC", nil, TierPolicy{}, []Challenge{open}, Member{}, utc(t, "2026-04-01 10:00"), at(t, "2025-02-25 12:00")},
		{"automatic from its start", nil, TierPolicy{}, []Challenge{started}, Member{}, now, at(t, "2026-03-01 00:00")},
		{"the earliest counts", tiers, year, []Challenge{auto7, started}, Member{}, now, at(t, "2025-05-20 12:00")},
		{"the earliest of challenges", nil, TierPolicy{}, []Challenge{auto7, started, optIn7}, Member{}, now, at(t, "2026-03-01 00:00")},
		{"opt-in from activation", nil, TierPolicy{}, []Challenge{optIn7},
			Member{Challenges: state("optin7", ChallengeState{ActivatedAt: at(t, "2026-05-15 09:00")})}, now, at(t, "2026-05-15 09:00")},
		{"opt-in not activated", nil, TierPolicy{}, []Challenge{optIn7, optIn}, Member{}, now, now},
		{"opt-in window ran out", nil, TierPolicy{}, []Challenge{optIn7},
			Member{Challenges: state("optin7", ChallengeState{ActivatedAt: at(t, "2026-05-13 12:00")})}, now, now},
		{"opt-in window runs a minute more", nil, TierPolicy{}, []Challenge{optIn7},
			Member{Challenges: state("optin7", ChallengeState{ActivatedAt: at(t, "2026-05-13 12:01")})}, now, at(t, "2026-05-13 12:01")},
		{"opt-in without window activated long ago", nil, TierPolicy{}, []Challenge{optIn},
			Member{Challenges: state("optin", ChallengeState{ActivatedAt: at(t, "2024-01-01 12:00")})}, now, floor},
		{"opt-in ended by a completion", nil, TierPolicy{}, []Challenge{optIn},
			Member{Challenges: state("optin", ChallengeState{ActivatedAt: at(t, "2026-01-01 12:00"), Completions: 1, LastCompletedAt: at(t, "2026-02-01 12:00")})}, now, now},
		{"completed max times", nil, TierPolicy{}, []Challenge{open},
			Member{Challenges: state("open", ChallengeState{Completions: 1, LastCompletedAt: at(t, "2026-02-01 12:00")})}, now, now},
		{"completions left", nil, TierPolicy{}, []Challenge{{ID: "open", Kind: KindVisits, Target: 3, MaxCompletions: 2}},
			Member{Challenges: state("open", ChallengeState{Completions: 1, LastCompletedAt: at(t, "2026-02-01 12:00")})}, now, floor},
		{"not started", nil, TierPolicy{}, []Challenge{{ID: "later", Kind: KindVisits, Target: 3, Start: now.Add(time.Minute)}}, Member{}, now, now},
		{"ended", nil, TierPolicy{}, []Challenge{{ID: "over", Kind: KindVisits, Target: 3, End: now}}, Member{}, now, now},
		{"not in the audience", tiers, TierPolicy{}, []Challenge{{ID: "gold", Kind: KindVisits, Target: 3, Tiers: []string{"gold"}}}, Member{}, now, now},
		{"in the audience", tiers, TierPolicy{}, []Challenge{{ID: "gold", Kind: KindVisits, Target: 3, Tiers: []string{"gold"}}},
			Member{Tier: TierState{ID: "gold"}}, now, floor},
		{"not in the segment", nil, TierPolicy{}, []Challenge{{ID: "students", Kind: KindVisits, Target: 3, Segments: []string{"students"}}}, Member{}, now, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rules{TimeZone: "Europe/Berlin", Tiers: tt.tiers, TierPolicy: tt.policy, Challenges: tt.cs}
			if got := HistoryFrom(r, tt.m, tt.now); !got.Equal(tt.want) {
				t.Errorf("HistoryFrom = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHistoryFromSuffices is a property test: for random purchase streams
// over two years under one or two challenges of the demo rules or of
// others that look back without a window, with tier windows of 12 or 24
// months or no tiers, Earn, Daily, Overview and TierOutlook answer on
// the history from HistoryFrom on as on the whole history.
func TestHistoryFromSuffices(t *testing.T) {
	demo, err := ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	loc := demo.Location()
	challenges := append(demo.Challenges,
		Challenge{ID: "hundred-visits", Name: Text{DE: "100 Besuche"}, Kind: KindVisits, Target: 100, MaxCompletions: 5, Reward: 100},
		Challenge{ID: "spring", Name: Text{DE: "Frühling"}, Kind: KindSpend, Target: 30000, Reward: 50,
			Start: time.Date(2027, 3, 1, 0, 0, 0, 0, loc), End: time.Date(2027, 6, 1, 0, 0, 0, 0, loc)},
		Challenge{ID: "streak-auto", Name: Text{DE: "10 Tage"}, Kind: KindStreak, Target: 10, MaxCompletions: 3, Reward: 40},
		Challenge{ID: "busy-week", Name: Text{DE: "30 Besuche in 7 Tagen"}, Kind: KindVisits, Target: 30, WindowDays: 7, Reward: 100},
		Challenge{ID: "gold-month", Name: Text{DE: "Gold-Monat"}, Kind: KindVisits, Target: 20, WindowDays: 30, Tiers: []string{"gold"}, MaxCompletions: 10, Reward: 20},
	)
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, loc)
	var cuts, checks int
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 2))
		r := demo
		// One or two challenges, half the time without tiers, so that each
		// rule is the one that says how far back now and then.
		r.Challenges = nil
		for _, i := range rng.Perm(len(challenges))[:1+rng.IntN(2)] {
			r.Challenges = append(r.Challenges, challenges[i])
		}
		r.TierPolicy.WindowMonths = []int{12, 24}[rng.IntN(2)]
		if rng.IntN(2) == 0 {
			r.Tiers = nil
		}
		spend := []int{600, 1500, 4000}[rng.IntN(3)]
		m := Member{ID: "m1", EnrolledAt: start, Challenges: map[string]ChallengeState{}}
		var h History
		at := start
		for i := 0; at.Before(start.AddDate(2, 0, 0)); i++ {
			// Bursts of visits and weeks away, so that streaks and windows
			// both complete and run out, and tiers rise and fall.
			gap := time.Duration(rng.IntN(48*60)) * time.Minute
			if rng.IntN(20) == 0 {
				gap = time.Duration(rng.IntN(90*24)) * time.Hour
			}
			at = at.Add(gap)
			for _, c := range r.Challenges {
				if c.OptIn && rng.IntN(3) == 0 {
					if st, err := Activate(r, c.ID, m, at); err == nil {
						m.Challenges[c.ID] = st
					}
				}
			}
			p := Purchase{ID: fmt.Sprintf("p%d", i), At: at, AmountMinor: int64(rng.IntN(spend)) - 100}
			if rng.IntN(4) == 0 {
				p.Lines = []Line{{SKU: "k", Category: "kuchen", Quantity: 1}}
			}
			h = append(h, p)
			cut := since(h, HistoryFrom(r, m, at))
			if len(cut) < len(h) {
				cuts++
			}
			base, e := Earn(r, m, h, p)
			cutBase, cutE := Earn(r, m, cut, p)
			if base != cutBase || !cmp.Equal(e, cutE) {
				t.Fatalf("seed %d, purchase %d at %v: Earn on the whole history %d, %+v; from %v on %d, %+v",
					seed, i, at, base, e, cut[0].At, cutBase, cutE)
			}
			checks++
			h[len(h)-1].Stars = base
			for id, st := range e.Completed {
				m.Challenges[id] = st
			}
			if e.Tier != nil {
				m.Tier = e.Tier.To
			}
			if rng.IntN(10) == 0 {
				now := at.Add(time.Duration(rng.IntN(10*24)) * time.Hour)
				cut := since(h, HistoryFrom(r, m, now))
				if got, want := Daily(r, m, cut, now), Daily(r, m, h, now); !cmp.Equal(got, want) {
					t.Fatalf("seed %d at %v: Daily on the cut history %+v, on the whole %+v", seed, now, got, want)
				}
				if got, want := Overview(r, m, cut, now), Overview(r, m, h, now); !cmp.Equal(got, want) {
					t.Fatalf("seed %d at %v: Overview on the cut history %+v, on the whole %+v", seed, now, got, want)
				}
				c1, n1, q1 := TierOutlook(r, m, cut, now)
				c2, n2, q2 := TierOutlook(r, m, h, now)
				if !cmp.Equal(c1, c2) || !cmp.Equal(n1, n2) || q1 != q2 {
					t.Fatalf("seed %d at %v: TierOutlook on the cut history %v %v %d, on the whole %v %v %d", seed, now, c1, n1, q1, c2, n2, q2)
				}
			}
		}
	}
	// The history must be cut for the test to test anything.
	if cuts < checks/4 {
		t.Errorf("history cut for %d of %d purchases, want a quarter at least", cuts, checks)
	}
}

// since returns the purchases of h at or after from.
func since(h History, from time.Time) History {
	for i, p := range h {
		if !p.At.Before(from) {
			return h[i:]
		}
	}
	return nil
}
