package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
)

// benchMembers is how many members the benchmarks spread purchases over.
const benchMembers = 64

// benchRules are a busy program's rules: three tiers, a stamp card and 20
// challenges of every kind, half of them opt-in (and activated by every
// member). Boosts are left out: a boosted purchase writes a second entry,
// which is the boost's cost, not the rules'.
func benchRules() gamification.Rules {
	r := gameRules()
	r.Tiers = append(r.Tiers, gamification.Tier{ID: "platin", Name: gamification.Text{DE: "Platin", EN: "Platinum"}, Multiplier: 2000, QualifyingStars: 1000})
	kinds := []gamification.Challenge{
		{Kind: gamification.KindVisits, Target: 50, WindowDays: 30},
		{Kind: gamification.KindSpend, Target: 100_000, WindowDays: 7},
		{Kind: gamification.KindProduct, Target: 100, Categories: []string{"kuchen"}},
		{Kind: gamification.KindStreak, Target: 30},
		{Kind: gamification.KindTimeOfDay, Target: 40, From: "14:00", WindowDays: 14},
	}
	r.Challenges = nil
	for i := range 20 {
		c := kinds[i%len(kinds)]
		c.ID = fmt.Sprint("c", i)
		c.Name = gamification.Text{DE: fmt.Sprint("Challenge ", i), EN: fmt.Sprint("Challenge ", i)}
		c.OptIn = i%2 == 1
		c.Reward = 10
		r.Challenges = append(r.Challenges, c)
	}
	return r
}

// BenchmarkEarnRules measures Service.Earn on the store open returns, in
// a program with benchRules ("rules") against the same program without
// rules ("none"), each member with a history of 30 purchases. The ratio
// to quote is none ns/op ÷ rules ns/op:
//
//	go test ./store/sqlite -run '^$' -bench EarnRules -count 5
func BenchmarkEarnRules(b *testing.B, open func(b *testing.B) loyalty.Store) {
	for _, name := range []string{"none", "rules"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			clock := NewClock(start)
			svc := loyalty.NewService(open(b), loyalty.WithClock(clock.Now))
			seed := DemoSeed("cafe-a")
			if name == "rules" {
				r := benchRules()
				seed.Program.Rules = &r
			}
			if err := svc.ApplySeed(ctx, seed); err != nil {
				b.Fatal(err)
			}
			till, err := svc.AuthenticateTill(ctx, TillKey("cafe-a"))
			if err != nil {
				b.Fatal(err)
			}
			cards := make([]string, benchMembers)
			lines := []loyalty.LineItem{{SKU: "apfelkuchen", Category: "kuchen", Quantity: 1, AmountMinor: 350}, {SKU: "kaffee", Category: "kaffee", Quantity: 1, AmountMinor: 900}}
			earn := func(card string, key string) {
				_, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: key, Lines: lines})
				if err != nil {
					b.Fatal(err)
				}
			}
			for i := range cards {
				c := loyalty.Customer{ProgramID: "cafe-a", UID: fmt.Sprint("u", i)}
				card, _, err := svc.Enroll(ctx, c, loyalty.LocaleDE)
				if err != nil {
					b.Fatal(err)
				}
				cards[i] = card.Member.CardNumber
				if name == "rules" {
					for j := 1; j < 20; j += 2 {
						if _, _, err := svc.ActivateChallenge(ctx, c, fmt.Sprint("c", j)); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			for k := range 30 {
				clock.Advance(7 * time.Hour)
				for i, card := range cards {
					earn(card, fmt.Sprint("h", k, "-", i))
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				earn(cards[i%benchMembers], fmt.Sprint("b", i))
			}
		})
	}
}
