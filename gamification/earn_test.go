package gamification

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/assets"
)

// TestEarnStarsMatchReference is the property test: for random purchase
// streams under the demo rules, the stars Earn grants for purchases (base,
// tier and boost) equal a straightforward computation of the same rules,
// with the member's tier carried along as Earn reports it; and no grant
// key repeats, so no challenge completes twice.
func TestEarnStarsMatchReference(t *testing.T) {
	r, err := ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	loc := r.Location()
	// Spans the end of daylight saving time on 25 October 2026.
	start := time.Date(2026, 9, 1, 7, 0, 0, 0, loc)
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		m := Member{ID: "m1", EnrolledAt: start, Tier: TierState{ID: "silber", Since: start}, Challenges: map[string]ChallengeState{}}
		for _, c := range r.Challenges {
			if c.OptIn {
				if st, err := Activate(r, c.ID, m, start); err == nil {
					m.Challenges[c.ID] = st
				}
			}
		}
		var (
			h          History
			got, want  int64
			keys       = map[string]bool{}
			at         = start
			refTier    = 0
			qualifying int64
		)
		for i := range 60 + rng.IntN(60) {
			at = at.Add(time.Duration(rng.IntN(40*60)) * time.Minute)
			p := Purchase{ID: fmt.Sprintf("p%d", i), At: at, AmountMinor: int64(rng.IntN(4000))}
			h = append(h, p)
			base, e := Earn(r, m, h, p)
			h[len(h)-1].Stars = base
			got += base
			for _, g := range e.Grants {
				if keys[g.Key] {
					t.Fatalf("seed %d: grant key %q twice", seed, g.Key)
				}
				keys[g.Key] = true
				if g.Kind == ReasonTier || g.Kind == ReasonBoost {
					got += g.Points
				}
			}
			for id, st := range e.Completed {
				m.Challenges[id] = st
			}
			if e.Tier != nil {
				m.Tier = e.Tier.To
			}

			// The reference: 1 star per full euro; the tier's bonus and the
			// best boost's (Tuesdays 2×, 14–17 h 1.5×), each rounded down.
			refBase := p.AmountMinor / 100
			local := p.At.In(loc)
			boost := int64(1000)
			if local.Hour() >= 14 && local.Hour() < 17 {
				boost = 1500
			}
			if local.Weekday() == time.Tuesday {
				boost = 2000
			}
			tierMult := []int64{1000, 1200, 1500}[refTier]
			want += refBase + refBase*(tierMult-1000)/1000 + refBase*(boost-1000)/1000
			// Within these four months nobody is moved down: a tier reached
			// lasts 12 months.
			qualifying += refBase
			for refTier < 2 && qualifying >= []int64{300, 1000}[refTier] {
				refTier++
			}
			if id := r.Tiers[refTier].ID; id != m.Tier.ID {
				t.Fatalf("seed %d, purchase %d: tier %s, reference %s", seed, i, m.Tier.ID, id)
			}
		}
		if got != want {
			t.Fatalf("seed %d: %d stars, reference %d", seed, got, want)
		}
	}
}

// TestEarnThreeVisits: a member who activated "3 visits in 7 days" sees
// 1 of 3 and 2 of 3, and the third purchase grants the bonus once, with
// its reason.
func TestEarnThreeVisits(t *testing.T) {
	r, err := ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, r.Location()) // a Monday
	m := Member{ID: "m1", Tier: TierState{ID: "silber"}, Challenges: map[string]ChallengeState{}}
	st, err := Activate(r, "three-visits", m, at)
	if err != nil {
		t.Fatal(err)
	}
	m.Challenges["three-visits"] = st
	var h History
	for i, want := range []string{"1 von 3 Besuchen", "2 von 3 Besuchen", "3 von 3 Besuchen"} {
		at = at.Add(49 * time.Hour)
		p := Purchase{ID: fmt.Sprintf("p%d", i), At: at, AmountMinor: 450}
		h = append(h, p)
		_, e := Earn(r, m, h, p)
		var progress string
		for _, pr := range e.Challenges {
			if pr.ID == "three-visits" {
				progress = pr.Text.DE
			}
		}
		if progress != want {
			t.Fatalf("purchase %d: progress %q, want %q", i+1, progress, want)
		}
		var bonus []Grant
		for _, g := range e.Grants {
			if g.Kind == ReasonChallenge {
				bonus = append(bonus, g)
			}
		}
		switch {
		case i < 2 && len(bonus) != 0:
			t.Fatalf("purchase %d: challenge grants %+v before the third visit", i+1, bonus)
		case i == 2 && (len(bonus) != 1 || bonus[0].Points != 30 || bonus[0].Key != "challenge:three-visits:1" ||
			bonus[0].Reason.DE != "Challenge „3 Besuche in 7 Tagen“ geschafft"):
			t.Fatalf("third purchase: challenge grants %+v, want one of 30 stars with its reason", bonus)
		}
		for id, st := range e.Completed {
			m.Challenges[id] = st
		}
	}
}

// TestEarnStampsAndReferral applies Earn's effects as the caller does,
// storing the stamp totals and clearing the referrer after the first
// paid purchase: the referral is granted once, on that purchase, and
// the cake card's voucher on the purchase that fills it.
func TestEarnStampsAndReferral(t *testing.T) {
	r, err := ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	m := Member{ID: "m2", Tier: TierState{ID: "silber"}, Referrer: "m1", ReferrerRewarded: 1}
	cake := func(n int64) []Line {
		return []Line{{SKU: "k1", Category: "kuchen", Quantity: n}, {SKU: "esp", Category: "kaffee", Quantity: 1}}
	}
	steps := []struct {
		p         Purchase
		referral  []string // keys of referral grants
		vouchers  []string // keys
		totals    map[string]int64
		stampText string
	}{
		// Fully returned: no first purchase, no stamps.
		{Purchase{ID: "p1", At: at(t, "2026-05-04 09:00"), Lines: cake(0)}, nil, nil, nil, "0 von 9 Stempeln"},
		{Purchase{ID: "p2", At: at(t, "2026-05-05 09:00"), AmountMinor: 900, Lines: cake(4)},
			[]string{"referral:m2", "referral"}, nil, map[string]int64{"cake-card": 4}, "4 von 9 Stempeln"},
		{Purchase{ID: "p3", At: at(t, "2026-05-06 09:00"), AmountMinor: 900, Lines: cake(4)},
			nil, nil, map[string]int64{"cake-card": 8}, "8 von 9 Stempeln"},
		{Purchase{ID: "p4", At: at(t, "2026-05-07 09:00"), AmountMinor: 900, Lines: cake(3)},
			nil, []string{"stamp:cake-card:1"}, map[string]int64{"cake-card": 11}, "2 von 9 Stempeln"},
		{Purchase{ID: "p5", At: at(t, "2026-05-08 09:00"), AmountMinor: 300},
			nil, nil, nil, "2 von 9 Stempeln"},
	}
	var h History
	for _, s := range steps {
		h = append(h, s.p)
		_, e := Earn(r, m, h, s.p)
		var referral, vouchers []string
		for _, g := range e.Grants {
			if g.Kind == ReasonReferral {
				referral = append(referral, g.Key)
			}
		}
		for _, v := range e.Vouchers {
			vouchers = append(vouchers, v.Key)
		}
		if !cmp.Equal(referral, s.referral) || !cmp.Equal(vouchers, s.vouchers) || !cmp.Equal(e.StampTotals, s.totals) {
			t.Errorf("%s: referral %v, vouchers %v, stamp totals %v; want %v, %v, %v",
				s.p.ID, referral, vouchers, e.StampTotals, s.referral, s.vouchers, s.totals)
		}
		if len(e.Stamps) != 1 || e.Stamps[0].Text.DE != s.stampText {
			t.Errorf("%s: stamp progress %+v, want %q", s.p.ID, e.Stamps, s.stampText)
		}
		// What the caller stores.
		for id, n := range e.StampTotals {
			if m.Stamps == nil {
				m.Stamps = map[string]int64{}
			}
			m.Stamps[id] = n
		}
		if s.p.AmountMinor > 0 {
			m.Referrer = ""
		}
	}
}
