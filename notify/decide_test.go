package notify

import (
	"testing"
	"time"
)

func TestQuietUntil(t *testing.T) {
	t.Parallel()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	night := policy{quietStart: 21, quietEnd: 8}
	early := policy{quietStart: 1, quietEnd: 6}
	tests := []struct {
		name string
		p    policy
		t    time.Time
		want time.Time
	}{
		{"day", night, at(2026, 6, 10, 12, 0), time.Time{}},
		{"just before", night, at(2026, 6, 10, 20, 59), time.Time{}},
		{"start", night, at(2026, 6, 10, 21, 0), at(2026, 6, 11, 8, 0)},
		{"evening", night, at(2026, 6, 10, 22, 30), at(2026, 6, 11, 8, 0)},
		{"after midnight", night, at(2026, 6, 11, 3, 0), at(2026, 6, 11, 8, 0)},
		{"end", night, at(2026, 6, 11, 8, 0), time.Time{}},
		{"month end", night, at(2026, 6, 30, 23, 0), at(2026, 7, 1, 8, 0)},
		{"clocks go forward", night, at(2026, 3, 28, 22, 0), at(2026, 3, 29, 8, 0)},
		{"no quiet hours", policy{quietStart: 5, quietEnd: 5}, at(2026, 6, 10, 5, 0), time.Time{}},
		{"within a day", early, at(2026, 6, 10, 2, 0), at(2026, 6, 10, 6, 0)},
		{"before, within a day", early, at(2026, 6, 10, 0, 30), time.Time{}},
		{"after, within a day", early, at(2026, 6, 10, 6, 0), time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.p.quietUntil(tt.t); !got.Equal(tt.want) {
			t.Errorf("%s: quietUntil(%v) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}
	// Hours in the zone they are given in: 22:30 in Berlin is 16:30 in
	// New York.
	if got := night.quietUntil(at(2026, 6, 10, 22, 30).In(mustZone("America/New_York"))); !got.IsZero() {
		t.Errorf("16:30 in New York is quiet until %v", got)
	}
}

func TestCapUntil(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, berlin)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	p := policy{cap: 3, capWindow: 24 * time.Hour}
	tests := []struct {
		name string
		p    policy
		sent []time.Time
		want time.Time
	}{
		{"none", p, nil, time.Time{}},
		{"under the cap", p, []time.Time{ago(5 * time.Hour), ago(time.Hour)}, time.Time{}},
		{"at the cap", p, []time.Time{ago(20 * time.Hour), ago(5 * time.Hour), ago(time.Hour)}, now.Add(4 * time.Hour)},
		{"one left the window", p, []time.Time{ago(25 * time.Hour), ago(5 * time.Hour), ago(time.Hour)}, time.Time{}},
		{"over the cap", p, []time.Time{ago(23 * time.Hour), ago(22 * time.Hour), ago(2 * time.Hour), ago(time.Hour)}, now.Add(2 * time.Hour)},
		{"left at the edge", p, []time.Time{ago(24 * time.Hour), ago(5 * time.Hour), ago(time.Hour)}, time.Time{}},
		{"just inside", p, []time.Time{ago(24*time.Hour - time.Microsecond), ago(5 * time.Hour), ago(time.Hour)}, now.Add(time.Microsecond)},
		{"no cap", policy{cap: -1, capWindow: time.Hour}, []time.Time{now, now, now, now}, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.p.capUntil(tt.sent, now); !got.Equal(tt.want) {
			t.Errorf("%s: capUntil = %v, want %v", tt.name, got, tt.want)
		}
	}
}
