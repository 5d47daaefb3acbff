package gamification

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEarn measures Earn on a history of 60 purchases in the last 30
// days: under rules with stars only, and under rules with 3 tiers, 20
// running challenges of every kind (half of them opt-in and activated), 2
// boosts and a stamp card.
func BenchmarkEarn(b *testing.B) {
	now := at(b, "2026-05-20 15:30")
	stars := Stars{Points: 1, PerMinor: 100}

	full := Rules{
		TimeZone: "Europe/Berlin",
		Stars: Stars{Points: 1, PerMinor: 100, Boosts: []Boost{
			{ID: "double-tuesday", Name: Text{DE: "Doppelte Sterne"}, Multiplier: 2000, Weekdays: []time.Weekday{time.Tuesday}},
			{ID: "afternoon", Name: Text{DE: "Nachmittag"}, Multiplier: 1500, From: "14:00", To: "17:00"},
		}},
		Tiers: []Tier{
			{ID: "silber", Name: Text{DE: "Silber"}, Multiplier: 1000},
			{ID: "gold", Name: Text{DE: "Gold"}, Multiplier: 1200, QualifyingStars: 300},
			{ID: "platin", Name: Text{DE: "Platin"}, Multiplier: 1500, QualifyingStars: 1000},
		},
		TierPolicy: TierPolicy{WindowMonths: 12, StatusMonths: 12},
		StampCards: []StampCard{{ID: "cake-card", Name: Text{DE: "Kuchenkarte"}, Stamps: 9, Categories: []string{"kuchen"}, RewardID: "free-pastry"}},
	}
	kinds := []Challenge{
		{Kind: KindVisits, Target: 100},
		{Kind: KindSpend, Target: 1_000_000},
		{Kind: KindProduct, Target: 1000, Categories: []string{"kuchen"}},
		{Kind: KindStreak, Target: 100},
		{Kind: KindTimeOfDay, Target: 1000, From: "14:00"},
		{Kind: KindMulti, Steps: []Challenge{
			{Kind: KindProduct, Target: 1000, Categories: []string{"kuchen"}},
			{Kind: KindTimeOfDay, Target: 1, From: "14:00"},
			{Kind: KindVisits, Target: 1000},
		}},
	}
	m := Member{ID: "m1", Tier: TierState{ID: "gold", Since: now.AddDate(0, -2, 0), Until: now.AddDate(0, 10, 0)},
		Challenges: map[string]ChallengeState{}, Stamps: map[string]int64{"cake-card": 5}}
	for i := range 20 {
		c := kinds[i%len(kinds)]
		c.ID, c.Name, c.Reward, c.MaxCompletions = fmt.Sprintf("c%d", i), Text{DE: fmt.Sprintf("Challenge %d", i)}, 10, 5
		if i%3 == 0 {
			c.WindowDays = 14
		}
		if i%2 == 1 {
			c.OptIn = true
			m.Challenges[c.ID] = ChallengeState{ActivatedAt: now.AddDate(0, 0, -10)}
		}
		full.Challenges = append(full.Challenges, c)
	}

	// 60 purchases in the last 30 days, every 12 hours; p is the last.
	var h History
	for i := range 60 {
		p := Purchase{ID: fmt.Sprintf("p%d", i), At: now.Add(time.Duration(i-59) * 12 * time.Hour), AmountMinor: 450 + int64(i%7)*100,
			Lines: []Line{{SKU: "esp", Category: "kaffee", Quantity: 1}}}
		if i%3 == 0 {
			p.Lines = append(p.Lines, Line{SKU: "k1", Category: "kuchen", Quantity: 1})
		}
		p.Stars = stars.BaseStars(p.AmountMinor)
		h = append(h, p)
	}
	p := h[len(h)-1]

	for _, bc := range []struct {
		name string
		r    Rules
	}{
		{"none", Rules{TimeZone: "Europe/Berlin", Stars: stars}},
		{"20-challenges-tiers", full},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Earn(bc.r, m, h, p)
			}
		})
	}
}
