package gamification

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAddMonths(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	cases := []struct {
		name string
		t    time.Time
		n    int
		want time.Time
	}{
		{"back a year", time.Date(2026, 6, 15, 12, 0, 0, 0, berlin), -12, time.Date(2025, 6, 15, 12, 0, 0, 0, berlin)},
		{"clamped to February", time.Date(2026, 3, 31, 12, 0, 0, 0, berlin), -1, time.Date(2026, 2, 28, 12, 0, 0, 0, berlin)},
		{"29 February plus a year", time.Date(2028, 2, 29, 9, 0, 0, 0, berlin), 12, time.Date(2029, 2, 28, 9, 0, 0, 0, berlin)},
		{"across New Year", time.Date(2026, 11, 30, 9, 0, 0, 0, berlin), 3, time.Date(2027, 2, 28, 9, 0, 0, 0, berlin)},
		// Wall clock kept: 10:00 CEST is 08:00 UTC, 10:00 CET 09:00 UTC.
		{"across DST", time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC), -2, time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC)},
		{"zero", time.Date(2026, 4, 15, 8, 0, 0, 5, time.UTC), 0, time.Date(2026, 4, 15, 8, 0, 0, 5, time.UTC)},
	}
	for _, c := range cases {
		if got := addMonths(c.t, c.n, berlin); !got.Equal(c.want) {
			t.Errorf("%s: addMonths(%v, %d) = %v, want %v", c.name, c.t, c.n, got, c.want)
		}
	}
}

func TestQualifyingStars(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, berlin)
	yearAgo := time.Date(2025, 6, 15, 12, 0, 0, 0, berlin)
	buy := func(at time.Time, stars int64) Purchase { return Purchase{At: at, Stars: stars} }
	cases := []struct {
		name   string
		window int
		now    time.Time
		h      History
		want   int64
	}{
		{"empty", 12, now, nil, 0},
		{"exactly a window ago does not count", 12, now, History{buy(yearAgo, 10)}, 0},
		{"a microsecond later counts", 12, now, History{buy(yearAgo.Add(time.Microsecond), 10)}, 10},
		{"now counts", 12, now, History{buy(now, 10)}, 10},
		{"after now does not", 12, now, History{buy(now.Add(time.Nanosecond), 10)}, 0},
		{"sums", 12, now, History{buy(yearAgo, 1), buy(yearAgo.AddDate(0, 1, 0), 20), buy(now, 300)}, 320},
		{"non-positive stars are not subtracted", 12, now, History{buy(now, -5), buy(now, 0), buy(now, 7)}, 7},
		// 25 October 2026 12:00 CET is 11:00 UTC, and a year before 12:00
		// CEST 10:00 UTC: the window starts by Berlin's wall clock.
		{"window in local months across DST", 12, time.Date(2026, 10, 25, 12, 0, 0, 0, berlin),
			History{buy(time.Date(2025, 10, 25, 10, 30, 0, 0, time.UTC), 10)}, 10},
		{"window in local months across DST, just out", 12, time.Date(2026, 10, 25, 12, 0, 0, 0, berlin),
			History{buy(time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC), 10)}, 0},
		// A month before 31 March is 28 February, not 3 March.
		{"window clamped to month end", 1, time.Date(2026, 3, 31, 12, 0, 0, 0, berlin),
			History{buy(time.Date(2026, 2, 28, 13, 0, 0, 0, berlin), 10)}, 10},
		// A 24-month window holds MaxHistoryDays: 400 days before 15 June
		// 2026 is 11 May 2025.
		{"long window, MaxHistoryDays back", 24, now, History{buy(time.Date(2025, 5, 11, 12, 0, 0, 0, berlin), 10)}, 10},
		{"long window, more than MaxHistoryDays back", 24, now, History{buy(time.Date(2025, 5, 11, 11, 59, 0, 0, berlin), 10)}, 0},
	}
	for _, c := range cases {
		r := Rules{TierPolicy: TierPolicy{WindowMonths: c.window, StatusMonths: 12}}
		if got := QualifyingStars(r, c.h, c.now); got != c.want {
			t.Errorf("%s: QualifyingStars = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestEvaluateTier(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, berlin)
	nextYear := time.Date(2027, 6, 15, 12, 0, 0, 0, berlin)
	since := time.Date(2025, 5, 1, 9, 0, 0, 0, berlin)
	r := Rules{
		Tiers: []Tier{
			{ID: "green", Name: Text{DE: "Grün", EN: "Green"}, Multiplier: 1000},
			{ID: "silver", Name: Text{DE: "Silber", EN: "Silver"}, Multiplier: 1100, QualifyingStars: 100},
			{ID: "gold", Name: Text{DE: "Gold", EN: "Gold"}, Multiplier: 1200, QualifyingStars: 300},
		},
		TierPolicy: TierPolicy{WindowMonths: 12, StatusMonths: 12},
	}
	stars := func(n int64) History { return History{{ID: "p", At: now.AddDate(0, -1, 0), Stars: n}} }
	gold := func(until time.Time) TierState { return TierState{ID: "gold", Since: since, Until: until} }
	nowGreen := Text{DE: "Du bist jetzt Grün", EN: "You are now Green"}
	nowSilver := Text{DE: "Du bist jetzt Silber", EN: "You are now Silver"}
	nowGold := Text{DE: "Du bist jetzt Gold", EN: "You are now Gold"}
	cases := []struct {
		name string
		r    Rules
		tier TierState
		h    History
		want *TierChange
	}{
		{"no tiers", Rules{}, TierState{}, stars(1000), nil},
		{"new member below silver", r, TierState{}, stars(99), nil},
		{"base member below silver", r, TierState{ID: "green", Since: since}, stars(99), nil},
		{"new member reaches silver", r, TierState{}, stars(100), &TierChange{
			To: TierState{ID: "silver", Since: now, Until: nextYear}, Reason: nowSilver}},
		{"base member skips to gold", r, TierState{ID: "green", Since: since}, stars(300), &TierChange{
			From: TierState{ID: "green", Since: since},
			To:   TierState{ID: "gold", Since: now, Until: nextYear}, Reason: nowGold}},
		{"upgrade before Until", r, TierState{ID: "silver", Since: since, Until: now.AddDate(0, 3, 0)}, stars(350), &TierChange{
			From: TierState{ID: "silver", Since: since, Until: now.AddDate(0, 3, 0)},
			To:   TierState{ID: "gold", Since: now, Until: nextYear}, Reason: nowGold}},
		{"no downgrade before Until", r, gold(now.Add(time.Nanosecond)), stars(10), nil},
		{"no renewal before Until", r, gold(now.Add(time.Nanosecond)), stars(400), nil},
		{"downgrade at Until", r, gold(now), stars(120), &TierChange{
			From: gold(now), To: TierState{ID: "silver", Since: now, Until: nextYear}, Reason: nowSilver}},
		{"downgrade to base has no Until", r, gold(now.AddDate(0, -1, 0)), stars(10), &TierChange{
			From: gold(now.AddDate(0, -1, 0)), To: TierState{ID: "green", Since: now}, Reason: nowGreen}},
		{"renewed after Until", r, gold(now.AddDate(0, 0, -1)), stars(300), &TierChange{
			From: gold(now.AddDate(0, 0, -1)), To: gold(nextYear),
			Reason: Text{DE: "Dein Status Gold wurde verlängert", EN: "Your Gold status was renewed"}}},
		{"unknown tier is base", r, TierState{ID: "platinum", Since: since}, stars(50), nil},
		{"unknown tier upgrades", r, TierState{ID: "platinum", Since: since}, stars(150), &TierChange{
			From: TierState{ID: "platinum", Since: since},
			To:   TierState{ID: "silver", Since: now, Until: nextYear}, Reason: nowSilver}},
		{"upper tier without Until has run out", r, TierState{ID: "silver", Since: since}, stars(150), &TierChange{
			From:   TierState{ID: "silver", Since: since},
			To:     TierState{ID: "silver", Since: since, Until: nextYear},
			Reason: Text{DE: "Dein Status Silber wurde verlängert", EN: "Your Silver status was renewed"}}},
		{"old purchases do not qualify", r, TierState{}, History{{At: now.AddDate(-1, 0, 0), Stars: 500}}, nil},
	}
	for _, c := range cases {
		got := EvaluateTier(c.r, Member{ID: "m1", Tier: c.tier}, c.h, now)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: EvaluateTier (-want +got):\n%s", c.name, diff)
		}
	}
}
