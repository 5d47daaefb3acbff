package gamification

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestChallengeProgressKinds(t *testing.T) {
	day := func(s string) time.Time { return at(t, "2026-05-"+s) }
	lines := func(p Purchase, ls ...Line) Purchase { p.Lines = ls; return p }
	tests := []struct {
		name   string
		c      Challenge
		h      History
		want   int64
		target int64
		de, en string
	}{
		{
			name: "visits",
			c:    Challenge{Kind: KindVisits, Target: 3},
			h:    buys(day("04 08:00"), day("04 12:00")),
			want: 2, target: 3, de: "2 von 3 Besuchen", en: "2 of 3 visits",
		},
		{
			name: "one visit",
			c:    Challenge{Kind: KindVisits, Target: 1},
			want: 0, target: 1, de: "0 von 1 Besuch", en: "0 of 1 visit",
		},
		{
			name: "spend",
			c:    Challenge{Kind: KindSpend, Target: 2000},
			h:    History{{ID: "a", At: day("04 08:00"), AmountMinor: 500}, {ID: "b", At: day("05 08:00"), AmountMinor: 750}},
			want: 1250, target: 2000, de: "12,50 € von 20,00 €", en: "€12.50 of €20.00",
		},
		{
			name: "spend in thousands",
			c:    Challenge{Kind: KindSpend, Target: 123456},
			h:    History{{ID: "a", At: day("04 08:00"), AmountMinor: 100005}},
			want: 100005, target: 123456, de: "1.000,05 € von 1.234,56 €", en: "€1,000.05 of €1,234.56",
		},
		{
			name: "spend capped at target",
			c:    Challenge{Kind: KindSpend, Target: 2000},
			h:    History{{ID: "a", At: day("04 08:00"), AmountMinor: 2550}},
			want: 2000, target: 2000, de: "20,00 € von 20,00 €", en: "€20.00 of €20.00",
		},
		{
			name: "product by SKU and category",
			c:    Challenge{Kind: KindProduct, Target: 5, SKUs: []string{"cb-1"}, Categories: []string{"kuchen"}},
			h: History{
				lines(buys(day("04 08:00"))[0], Line{SKU: "cb-1", Category: "cold-brew", Quantity: 2}, Line{SKU: "esp", Category: "kaffee", Quantity: 3}),
				lines(buys(day("05 08:00"))[0], Line{SKU: "k1", Category: "kuchen", Quantity: 1}, Line{SKU: "cb-1", Category: "cold-brew", Quantity: -1}),
			},
			want: 3, target: 5, de: "3 von 5", en: "3 of 5",
		},
		{
			name: "product capped",
			c:    Challenge{Kind: KindProduct, Target: 1, Categories: []string{"cold-brew"}},
			h:    History{lines(buys(day("04 08:00"))[0], Line{SKU: "cb-1", Category: "cold-brew", Quantity: 2})},
			want: 1, target: 1, de: "1 von 1", en: "1 of 1",
		},
		{
			name: "streak is the longest run",
			c:    Challenge{Kind: KindStreak, Target: 5},
			h:    buys(day("01 08:00"), day("02 08:00"), day("04 08:00"), day("04 18:00"), day("05 08:00"), day("06 08:00"), day("08 08:00")),
			want: 3, target: 5, de: "3 von 5 Tagen in Folge", en: "3 of 5 days in a row",
		},
		{
			name: "time of day from 14:00",
			c:    Challenge{Kind: KindTimeOfDay, Target: 3, From: "14:00"},
			h:    buys(day("04 13:59"), day("04 14:00"), day("05 23:59")),
			want: 2, target: 3, de: "2 von 3 Besuchen ab 14:00", en: "2 of 3 visits after 14:00",
		},
		{
			name: "time of day from 14:00 to 17:00",
			c:    Challenge{Kind: KindTimeOfDay, Target: 3, From: "14:00", To: "17:00"},
			h:    buys(day("04 14:00"), day("04 16:59"), day("04 17:00")),
			want: 2, target: 3, de: "2 von 3 Besuchen von 14:00 bis 17:00", en: "2 of 3 visits from 14:00 to 17:00",
		},
		{
			name: "time of day before 11:00",
			c:    Challenge{Kind: KindTimeOfDay, Target: 3, To: "11:00"},
			h:    buys(day("04 00:00"), day("04 10:59"), day("04 11:00")),
			want: 2, target: 3, de: "2 von 3 Besuchen vor 11:00", en: "2 of 3 visits before 11:00",
		},
		{
			name: "multi counts done steps",
			c: Challenge{Kind: KindMulti, Target: 99, Steps: []Challenge{
				{Kind: KindProduct, Target: 1, Categories: []string{"kuchen"}},
				{Kind: KindTimeOfDay, Target: 1, From: "14:00"},
				{Kind: KindVisits, Target: 2},
			}},
			h:    buys(day("04 08:00"), day("05 09:00")),
			want: 1, target: 3, de: "1 von 3 Schritten", en: "1 of 3 steps",
		},
		{
			name: "multi all steps",
			c: Challenge{Kind: KindMulti, Steps: []Challenge{
				{Kind: KindProduct, Target: 1, Categories: []string{"kuchen"}},
				{Kind: KindTimeOfDay, Target: 1, From: "14:00"},
			}},
			h:    History{lines(buys(day("04 15:00"))[0], Line{SKU: "k1", Category: "kuchen", Quantity: 1})},
			want: 2, target: 2, de: "2 von 2 Schritten", en: "2 of 2 steps",
		},
		{
			name: "multi step without target is never done",
			c:    Challenge{Kind: KindMulti, Steps: []Challenge{{Kind: KindVisits}}},
			h:    buys(day("04 08:00")),
			want: 0, target: 1, de: "0 von 1 Schritt", en: "0 of 1 step",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.ID = "c"
			got := ChallengeProgress(berlinRules(tt.c), tt.c, Member{ID: "m1"}, tt.h, day("20 12:00"))
			want := Progress{ID: "c", Current: tt.want, Target: tt.target, Text: Text{DE: tt.de, EN: tt.en}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ChallengeProgress (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChallengeProgressCounting checks which purchases count: one
// purchase per case, counted or not.
func TestChallengeProgressCounting(t *testing.T) {
	visits := Challenge{ID: "c", Kind: KindVisits, Target: 3}
	optIn7 := visits
	optIn7.OptIn, optIn7.WindowDays = true, 7
	optIn := visits
	optIn.OptIn = true
	auto7 := visits
	auto7.WindowDays = 7
	scheduled := visits
	scheduled.Start, scheduled.End = at(t, "2026-05-01 00:00"), at(t, "2026-06-01 00:00")
	act := ChallengeState{ActivatedAt: at(t, "2026-05-04 10:00")}
	tests := []struct {
		name string
		c    Challenge
		st   ChallengeState
		p    time.Time
		now  time.Time
		want int64
	}{
		{"opt-in at activation", optIn7, act, at(t, "2026-05-04 10:00"), at(t, "2026-05-20 12:00"), 1},
		{"opt-in before activation", optIn7, act, at(t, "2026-05-04 09:59"), at(t, "2026-05-20 12:00"), 0},
		{"opt-in last minute of window", optIn7, act, at(t, "2026-05-11 09:59"), at(t, "2026-05-20 12:00"), 1},
		{"opt-in at window end", optIn7, act, at(t, "2026-05-11 10:00"), at(t, "2026-05-20 12:00"), 0},
		// Activated in CET, the window ends at 10:00 CEST, 167 hours later.
		{"window across DST by wall clock", optIn7, ChallengeState{ActivatedAt: at(t, "2026-03-25 10:00")}, at(t, "2026-04-01 09:59"), at(t, "2026-04-20 12:00"), 1},
		{"window across DST ends at wall clock", optIn7, ChallengeState{ActivatedAt: at(t, "2026-03-25 10:00")}, at(t, "2026-04-01 10:30"), at(t, "2026-04-20 12:00"), 0},
		{"opt-in never activated", optIn, ChallengeState{}, at(t, "2026-05-04 10:00"), at(t, "2026-05-20 12:00"), 0},
		{"opt-in without window, after activation", optIn, act, at(t, "2026-05-19 10:00"), at(t, "2026-05-20 12:00"), 1},
		{"opt-in without window, completed since activation", optIn, ChallengeState{ActivatedAt: act.ActivatedAt, Completions: 1, LastCompletedAt: at(t, "2026-05-05 10:00")}, at(t, "2026-05-19 10:00"), at(t, "2026-05-20 12:00"), 0},
		{"opt-in with window, completed in window", optIn7, ChallengeState{ActivatedAt: act.ActivatedAt, Completions: 1, LastCompletedAt: at(t, "2026-05-05 10:00")}, at(t, "2026-05-06 10:00"), at(t, "2026-05-06 12:00"), 1},
		{"automatic window start", auto7, ChallengeState{}, at(t, "2026-05-13 12:00"), at(t, "2026-05-20 12:00"), 1},
		{"automatic before window", auto7, ChallengeState{}, at(t, "2026-05-13 11:59"), at(t, "2026-05-20 12:00"), 0},
		{"automatic at now", auto7, ChallengeState{}, at(t, "2026-05-20 12:00"), at(t, "2026-05-20 12:00"), 1},
		{"after now", visits, ChallengeState{}, at(t, "2026-05-20 12:01"), at(t, "2026-05-20 12:00"), 0},
		{"automatic across DST by wall clock", auto7, ChallengeState{}, at(t, "2026-03-25 12:00"), at(t, "2026-04-01 12:00"), 1},
		{"automatic across DST before window", auto7, ChallengeState{}, at(t, "2026-03-25 11:59"), at(t, "2026-04-01 12:00"), 0},
		{"at start", scheduled, ChallengeState{}, at(t, "2026-05-01 00:00"), at(t, "2026-06-20 12:00"), 1},
		{"before start", scheduled, ChallengeState{}, at(t, "2026-04-30 23:59"), at(t, "2026-06-20 12:00"), 0},
		{"at end", scheduled, ChallengeState{}, at(t, "2026-06-01 00:00"), at(t, "2026-06-20 12:00"), 0},
		{"at last completion", visits, ChallengeState{Completions: 1, LastCompletedAt: at(t, "2026-05-05 10:00")}, at(t, "2026-05-05 10:00"), at(t, "2026-05-20 12:00"), 0},
		{"after last completion", visits, ChallengeState{Completions: 1, LastCompletedAt: at(t, "2026-05-05 10:00")}, at(t, "2026-05-05 10:01"), at(t, "2026-05-20 12:00"), 1},
		// 400 days before 20 May 2026 is 15 April 2025.
		{"without window, MaxHistoryDays back", visits, ChallengeState{}, at(t, "2025-04-15 12:00"), at(t, "2026-05-20 12:00"), 1},
		{"without window, more than MaxHistoryDays back", visits, ChallengeState{}, at(t, "2025-04-15 11:59"), at(t, "2026-05-20 12:00"), 0},
		{"opt-in activated long ago, MaxHistoryDays back", optIn, ChallengeState{ActivatedAt: at(t, "2025-01-01 12:00")}, at(t, "2025-04-15 12:00"), at(t, "2026-05-20 12:00"), 1},
		{"opt-in activated long ago, more than MaxHistoryDays back", optIn, ChallengeState{ActivatedAt: at(t, "2025-01-01 12:00")}, at(t, "2025-04-15 11:59"), at(t, "2026-05-20 12:00"), 0},
		// 400 days before 1 April 2026 12:00 CEST is 25 February 2025 12:00
		// CET by the wall clock; 400×24 hours before is 11:00 CET.
		{"MaxHistoryDays by the wall clock", visits, ChallengeState{}, at(t, "2025-02-25 12:00"), at(t, "2026-04-01 12:00"), 1},
		{"MaxHistoryDays by the wall clock, just out", visits, ChallengeState{}, at(t, "2025-02-25 11:30"), at(t, "2026-04-01 12:00"), 0},
		{"MaxHistoryDays by the wall clock, now in UTC", visits, ChallengeState{}, at(t, "2025-02-25 11:30"), utc(t, "2026-04-01 10:00"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ChallengeProgress(berlinRules(tt.c), tt.c, activated("c", tt.st), buys(tt.p), tt.now)
			if got.Current != tt.want {
				t.Errorf("Current = %d, want %d", got.Current, tt.want)
			}
		})
	}
}

// TestChallengeProgressReturned checks that a fully returned purchase
// counts for nothing in any kind.
func TestChallengeProgressReturned(t *testing.T) {
	p := buys(at(t, "2026-05-04 15:00"), at(t, "2026-05-05 15:00"))
	p[1].Lines = []Line{{SKU: "k1", Category: "kuchen", Quantity: 1}}
	kinds := []Challenge{
		{Kind: KindVisits, Target: 5},
		{Kind: KindSpend, Target: 5000},
		{Kind: KindProduct, Target: 5, Categories: []string{"kuchen"}},
		{Kind: KindStreak, Target: 5},
		{Kind: KindTimeOfDay, Target: 5, From: "14:00"},
		{Kind: KindMulti, Steps: []Challenge{{Kind: KindVisits, Target: 2}}},
	}
	for _, c := range kinds {
		t.Run(string(c.Kind), func(t *testing.T) {
			c.ID = "c"
			now := at(t, "2026-05-06 12:00")
			kept := ChallengeProgress(berlinRules(c), c, Member{}, p, now).Current
			returned := append(History(nil), p...)
			returned[1].AmountMinor = 0
			got := ChallengeProgress(berlinRules(c), c, Member{}, returned, now).Current
			var want int64 // what the first purchase alone gives
			switch c.Kind {
			case KindSpend:
				want = 500
			case KindVisits, KindStreak, KindTimeOfDay:
				want = 1
			}
			if kept == got || got != want {
				t.Errorf("Current with purchase %d, returned %d, want %d", kept, got, want)
			}
		})
	}
}

// TestChallengeProgressZone checks that streaks and times of day are in
// the program's zone, also on the days daylight saving time begins
// (2026-03-29) and ends (2026-10-25).
func TestChallengeProgressZone(t *testing.T) {
	streak := Challenge{ID: "c", Kind: KindStreak, Target: 5}
	afternoon := Challenge{ID: "c", Kind: KindTimeOfDay, Target: 5, From: "14:00"}
	tests := []struct {
		name string
		c    Challenge
		h    History
		want int64
	}{
		// 23:30 UTC on the 4th is 01:30 on the 5th in Berlin.
		{"late UTC purchase is next Berlin day", streak, buys(utc(t, "2026-05-04 10:00"), utc(t, "2026-05-04 23:30"), utc(t, "2026-05-06 10:00")), 3},
		// 21:30 and 22:30 UTC on the 4th are on the 4th and 5th in Berlin.
		{"one UTC day, two Berlin days", streak, buys(utc(t, "2026-05-04 21:30"), utc(t, "2026-05-04 22:30")), 2},
		// 00:30 CEST on the 30th is 22:30 UTC on the 29th.
		{"streak across DST start", streak, buys(at(t, "2026-03-28 23:30"), at(t, "2026-03-29 23:30"), at(t, "2026-03-30 00:30")), 3},
		{"streak across DST end", streak, buys(at(t, "2026-10-24 23:30"), at(t, "2026-10-25 23:30"), at(t, "2026-10-26 00:30")), 3},
		{"streak around DST start, early", streak, buys(at(t, "2026-03-28 00:10"), at(t, "2026-03-29 00:10"), at(t, "2026-03-30 00:10"), at(t, "2026-03-31 00:10")), 4},
		{"streak broken on DST day", streak, buys(at(t, "2026-03-28 10:00"), at(t, "2026-03-30 10:00")), 1},
		{"afternoon on DST days", afternoon, buys(at(t, "2026-03-29 14:30"), at(t, "2026-10-25 14:30")), 2},
		{"before 14:00 on DST days", afternoon, buys(at(t, "2026-03-29 13:59"), at(t, "2026-10-25 13:59")), 0},
		// 12:30 UTC is 14:30 in Berlin in summer, 11:30 UTC 13:30.
		{"afternoon in Berlin, not UTC", afternoon, buys(utc(t, "2026-07-01 12:30"), utc(t, "2026-07-01 11:30")), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ChallengeProgress(berlinRules(tt.c), tt.c, Member{}, tt.h, at(t, "2026-12-31 12:00"))
			if got.Current != tt.want {
				t.Errorf("Current = %d, want %d", got.Current, tt.want)
			}
		})
	}
}

// TestChallengeProgressMultiWindow checks that steps count with the
// parent's start of counting and window.
func TestChallengeProgressMultiWindow(t *testing.T) {
	c := Challenge{ID: "c", Kind: KindMulti, OptIn: true, WindowDays: 7, Steps: []Challenge{
		{Kind: KindVisits, Target: 1},
		{Kind: KindTimeOfDay, Target: 1, From: "14:00"},
	}}
	m := activated("c", ChallengeState{ActivatedAt: at(t, "2026-05-04 10:00")})
	h := buys(at(t, "2026-05-03 15:00"), at(t, "2026-05-05 09:00"), at(t, "2026-05-11 15:00"))
	got := ChallengeProgress(berlinRules(c), c, m, h, at(t, "2026-05-20 12:00"))
	if got.Current != 1 || got.Target != 2 {
		t.Errorf("ChallengeProgress = %+v, want 1 of 2: the afternoon purchases are outside the window", got)
	}
}
