package gamification

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBaseStars(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		stars  Stars
		amount int64
		want   int64
	}{
		{"zero amount", Stars{Points: 1, PerMinor: 100}, 0, 0},
		{"negative amount", Stars{Points: 1, PerMinor: 100}, -500, 0},
		{"below one unit", Stars{Points: 1, PerMinor: 100}, 99, 0},
		{"one unit", Stars{Points: 1, PerMinor: 100}, 100, 1},
		{"full units only", Stars{Points: 1, PerMinor: 100}, 199, 1},
		{"points per unit", Stars{Points: 2, PerMinor: 100}, 450, 8},
		{"no per minor", Stars{Points: 1, PerMinor: 0}, 450, 0},
		{"negative per minor", Stars{Points: 1, PerMinor: -100}, 450, 0},
		{"no points", Stars{Points: 0, PerMinor: 100}, 450, 0},
		{"largest", Stars{Points: 1_000_000, PerMinor: 1}, 100_000_000_000, 100_000_000_000_000_000},
	}
	for _, c := range cases {
		if got := c.stars.BaseStars(c.amount); got != c.want {
			t.Errorf("%s: %+v.BaseStars(%d) = %d, want %d", c.name, c.stars, c.amount, got, c.want)
		}
	}
}

func TestBonusStars(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		base int64
		mult Permille
		want int64
	}{
		{"20 %", 10, 1200, 2},
		{"floored", 999, 1200, 199},
		{"floored to zero", 4, 1200, 0},
		{"double", 7, 2000, 7},
		{"2.5 %", 1000, 1025, 25},
		{"1×", 100, 1000, 0},
		{"below 1×", 100, 900, 0},
		{"no base", 0, 2000, 0},
		{"negative base", -100, 2000, 0},
		// base×9000 overflows int64; the result does not.
		{"largest", 100_000_000_000_000_000, 10_000, 900_000_000_000_000_000},
		{"largest with remainder", 100_000_000_000_000_999, 10_000, 900_000_000_000_008_991},
	}
	for _, c := range cases {
		if got := bonusStars(c.base, c.mult); got != c.want {
			t.Errorf("%s: bonusStars(%d, %d) = %d, want %d", c.name, c.base, c.mult, got, c.want)
		}
	}
}

func TestPercent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mult   Permille
		de, en string
	}{
		{1200, "+20 %", "+20%"},
		{2000, "+100 %", "+100%"},
		{1025, "+2,5 %", "+2.5%"},
		{1005, "+0,5 %", "+0.5%"},
		{10000, "+900 %", "+900%"},
	}
	for _, c := range cases {
		if de, en := percentDE(c.mult), percentEN(c.mult); de != c.de || en != c.en {
			t.Errorf("percent(%d) = %q, %q, want %q, %q", c.mult, de, en, c.de, c.en)
		}
	}
}

func TestActiveBoost(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	if berlin.String() != DefaultTimeZone {
		t.Fatalf("no zone data: Location() = %v", berlin)
	}
	at := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, berlin) }
	afternoon := Boost{ID: "afternoon", Multiplier: 1500, From: "14:00", To: "17:00"}
	sunday := Boost{ID: "sunday", Multiplier: 2000, Weekdays: []time.Weekday{time.Sunday}}
	night := Boost{ID: "night", Multiplier: 1500, From: "22:00", To: "02:00"}
	dated := Boost{ID: "dated", Multiplier: 1500, Start: at(2026, 5, 1, 0, 0), End: at(2026, 6, 1, 0, 0)}
	cases := []struct {
		name   string
		boosts []Boost
		t      time.Time
		want   string // "" for none
	}{
		{"none", nil, at(2026, 5, 5, 15, 0), ""},
		{"plain day in", []Boost{afternoon}, at(2026, 5, 5, 14, 30), "afternoon"},
		{"from is included", []Boost{afternoon}, at(2026, 5, 5, 14, 0), "afternoon"},
		{"before from", []Boost{afternoon}, at(2026, 5, 5, 13, 59), ""},
		{"before to", []Boost{afternoon}, at(2026, 5, 5, 16, 59), "afternoon"},
		{"to is excluded", []Boost{afternoon}, at(2026, 5, 5, 17, 0), ""},
		// Daylight saving time begins on 29 March 2026 (UTC+1 to UTC+2) and
		// ends on 25 October 2026: 14:30 is 12:30 and 13:30 UTC.
		{"DST begins, in", []Boost{afternoon}, at(2026, 3, 29, 14, 30), "afternoon"},
		{"DST begins, before", []Boost{afternoon}, at(2026, 3, 29, 13, 59), ""},
		{"DST begins, in, given in UTC", []Boost{afternoon}, time.Date(2026, 3, 29, 12, 30, 0, 0, time.UTC), "afternoon"},
		{"DST begins, 14:30 UTC is 16:30", []Boost{afternoon}, time.Date(2026, 3, 29, 14, 30, 0, 0, time.UTC), "afternoon"},
		{"DST begins, 15:30 UTC is 17:30", []Boost{afternoon}, time.Date(2026, 3, 29, 15, 30, 0, 0, time.UTC), ""},
		{"DST ends, in", []Boost{afternoon}, at(2026, 10, 25, 14, 30), "afternoon"},
		{"DST ends, before", []Boost{afternoon}, at(2026, 10, 25, 13, 59), ""},
		{"DST ends, 13:30 UTC is 14:30", []Boost{afternoon}, time.Date(2026, 10, 25, 13, 30, 0, 0, time.UTC), "afternoon"},
		{"DST ends, 12:30 UTC is 13:30", []Boost{afternoon}, time.Date(2026, 10, 25, 12, 30, 0, 0, time.UTC), ""},
		{"weekday", []Boost{sunday}, at(2026, 3, 29, 10, 0), "sunday"},
		{"other weekday", []Boost{sunday}, at(2026, 3, 28, 10, 0), ""},
		// Saturday 23:30 UTC is Sunday 01:30 in Berlin.
		{"weekday by local date", []Boost{sunday}, time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), "sunday"},
		{"weekday by local date, not UTC's", []Boost{sunday}, time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC), ""},
		{"across midnight, late", []Boost{night}, at(2026, 5, 5, 23, 0), "night"},
		{"across midnight, early", []Boost{night}, at(2026, 5, 6, 1, 59), "night"},
		{"across midnight, after", []Boost{night}, at(2026, 5, 6, 2, 0), ""},
		{"before start", []Boost{dated}, at(2026, 4, 30, 23, 59), ""},
		{"at start", []Boost{dated}, at(2026, 5, 1, 0, 0), "dated"},
		{"before end", []Boost{dated}, at(2026, 5, 31, 23, 59), "dated"},
		{"at end", []Boost{dated}, at(2026, 6, 1, 0, 0), ""},
		{"best of two", []Boost{afternoon, sunday}, at(2026, 3, 29, 14, 30), "sunday"},
		{"best of two, either order", []Boost{sunday, afternoon}, at(2026, 3, 29, 14, 30), "sunday"},
		{"only one running", []Boost{sunday, afternoon}, at(2026, 3, 28, 14, 30), "afternoon"},
		{"first of equals", []Boost{afternoon, dated}, at(2026, 5, 5, 14, 30), "afternoon"},
	}
	for _, c := range cases {
		got, ok := activeBoost(Rules{Stars: Stars{Boosts: c.boosts}}, c.t)
		if ok != (c.want != "") || got.ID != c.want {
			t.Errorf("%s: activeBoost(%v) = %q, %v, want %q", c.name, c.t, got.ID, ok, c.want)
		}
	}
}

func TestPurchaseStars(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	quiet := time.Date(2026, 5, 5, 10, 0, 0, 0, berlin)     // a Tuesday morning: no boost
	afternoon := time.Date(2026, 5, 5, 15, 0, 0, 0, berlin) // happy hour
	sunday := time.Date(2026, 5, 10, 15, 0, 0, 0, berlin)   // happy hour and double stars
	r := Rules{
		Stars: Stars{Points: 1, PerMinor: 100, Boosts: []Boost{
			{ID: "happy", Name: Text{DE: "Happy Hour", EN: "Happy hour"}, Multiplier: 1500, From: "14:00", To: "17:00"},
			{ID: "double", Name: Text{DE: "Doppelte Sterne", EN: "Double stars"}, Multiplier: 2000, Weekdays: []time.Weekday{time.Sunday}},
			{ID: "flat", Name: Text{DE: "Nichts"}, Multiplier: 1000, Weekdays: []time.Weekday{time.Tuesday}, From: "09:00", To: "11:00"},
		}},
		Tiers: []Tier{
			{ID: "green", Name: Text{DE: "Grün", EN: "Green"}, Multiplier: 1000},
			{ID: "gold", Name: Text{DE: "Gold", EN: "Gold"}, Multiplier: 1200, QualifyingStars: 300},
		},
	}
	gold := Member{ID: "m1", Tier: TierState{ID: "gold"}}
	goldGrant := func(pts int64) Grant {
		return Grant{MemberID: "m1", Points: pts, Kind: ReasonTier, RuleID: "gold",
			Reason: Text{DE: "Gold-Bonus (+20 %)", EN: "Gold bonus (+20%)"}, Key: "p1:tier"}
	}
	doubleGrant := func(pts int64) Grant {
		return Grant{MemberID: "m1", Points: pts, Kind: ReasonBoost, RuleID: "double",
			Reason: Text{DE: "Doppelte Sterne (+100 %)", EN: "Double stars (+100%)"}, Key: "p1:boost"}
	}
	cases := []struct {
		name   string
		m      Member
		p      Purchase
		base   int64
		grants []Grant
	}{
		{"base tier, 1× boost adds nothing", Member{ID: "m1", Tier: TierState{ID: "green"}}, Purchase{ID: "p1", At: quiet, AmountMinor: 1050}, 10, nil},
		{"gold", gold, Purchase{ID: "p1", At: quiet, AmountMinor: 1050}, 10, []Grant{goldGrant(2)}},
		{"stored stars are ignored", gold, Purchase{ID: "p1", At: quiet, AmountMinor: 1050, Stars: 999}, 10, []Grant{goldGrant(2)}},
		{"gold bonus floored to zero is left out", gold, Purchase{ID: "p1", At: quiet, AmountMinor: 450}, 4, nil},
		{"unknown tier is 1×", Member{ID: "m1", Tier: TierState{ID: "platinum"}}, Purchase{ID: "p1", At: quiet, AmountMinor: 1050}, 10, nil},
		{"no tier is 1×", Member{ID: "m1"}, Purchase{ID: "p1", At: quiet, AmountMinor: 1050}, 10, nil},
		{"gold in happy hour", gold, Purchase{ID: "p1", At: afternoon, AmountMinor: 1050}, 10, []Grant{goldGrant(2), {
			MemberID: "m1", Points: 5, Kind: ReasonBoost, RuleID: "happy",
			Reason: Text{DE: "Happy Hour (+50 %)", EN: "Happy hour (+50%)"}, Key: "p1:boost"}}},
		// Additive: 10 + 2 + 10, not 10×1.2×2.
		{"best boost only", gold, Purchase{ID: "p1", At: sunday, AmountMinor: 1050}, 10, []Grant{goldGrant(2), doubleGrant(10)}},
		{"boost without tier", Member{ID: "m1"}, Purchase{ID: "p1", At: sunday, AmountMinor: 1050}, 10, []Grant{doubleGrant(10)}},
		{"nothing bought", gold, Purchase{ID: "p1", At: sunday, AmountMinor: 0}, 0, nil},
	}
	for _, c := range cases {
		base, grants := PurchaseStars(r, c.m, c.p)
		if base != c.base {
			t.Errorf("%s: base = %d, want %d", c.name, base, c.base)
		}
		if diff := cmp.Diff(c.grants, grants); diff != "" {
			t.Errorf("%s: grants (-want +got):\n%s", c.name, diff)
		}
	}
}
