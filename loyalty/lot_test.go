package loyalty

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExpiresAt(t *testing.T) {
	t.Parallel()
	berlin, err := location("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		months int
		earned time.Time
		want   time.Time
	}{
		{"never", 0, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), time.Time{}},
		{"mid-month", 12, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)},
		// 23:30 UTC on 31 January is already 1 February in Berlin.
		{"month end in UTC is next month in Berlin", 1, time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, berlin)},
		{"year wraps", 3, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, berlin)},
		// Berlin's midnight is 22:00 UTC in summer, 23:00 in winter.
		{"summer midnight", 1, time.Date(2026, 5, 10, 8, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)},
		{"winter midnight", 1, time.Date(2026, 10, 10, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)},
		{"ten years", 120, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(2036, 2, 1, 0, 0, 0, 0, berlin)},
	}
	for _, c := range cases {
		got := ExpiryPolicy{MonthsAfterMonthEnd: c.months}.expiresAt(c.earned, berlin)
		if !got.Equal(c.want) {
			t.Errorf("%s: expiresAt(%v) = %v, want %v", c.name, c.earned, got, c.want)
		}
	}
}

func TestStandingAndTake(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	later, sooner := now.Add(48*time.Hour), now.Add(24*time.Hour)
	lots := []Lot{
		{ID: 1, Remaining: 10},                                     // never expires
		{ID: 2, Remaining: 20, ExpiresAt: later},                   // expires later
		{ID: 3, Remaining: 30, ExpiresAt: sooner},                  // expires sooner
		{ID: 4, Remaining: 40, AvailableAt: now.Add(time.Hour)},    // pending
		{ID: 5, Remaining: 50, ExpiresAt: now},                     // due
		{ID: 6, Remaining: 0, ExpiresAt: sooner},                   // empty
		{ID: 7, Remaining: 5, ExpiresAt: sooner, AvailableAt: now}, // same expiry as 3
	}
	holds := []Hold{
		{ID: "a", Points: 7, Status: HoldActive, ExpiresAt: now.Add(time.Minute)},
		{ID: "b", Points: 100, Status: HoldActive, ExpiresAt: now},     // expired
		{ID: "c", Points: 100, Status: HoldReleased, ExpiresAt: later}, // closed
	}
	got := standing(155, lots, holds, now)
	want := Standing{
		Balance: 155, Available: 58, Pending: 40, Reserved: 7, Spendable: 65, Due: 50,
		NextExpiry: sooner, NextExpiryPoints: 35,
		// Hold a runs out first.
		ChangesAt: now.Add(time.Minute),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("standing (-want +got):\n%s", diff)
	}
	if got := standing(155, lots, nil, now).ChangesAt; !got.Equal(now.Add(time.Hour)) {
		t.Errorf("without holds, the standing changes at %v, want when lot 4 becomes available", got)
	}
	sortLots(lots)
	uses, taken := take(lots, 40, func(l Lot) bool { return l.spendableAt(now) })
	if diff := cmp.Diff([]LotUse{{3, 30}, {7, 5}, {2, 5}}, uses); diff != "" || taken != 40 {
		t.Errorf("take 40: %d (-want +got):\n%s", taken, diff)
	}
	if _, taken := take(lots, 1000, func(l Lot) bool { return l.spendableAt(now) }); taken != 65 {
		t.Errorf("take 1000 took %d, want all 65 spendable", taken)
	}
}

func TestExpiryUsesKeepHeldPoints(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	lots := []Lot{
		{ID: 1, Remaining: 30, ExpiresAt: now},
		{ID: 2, Remaining: 10, ExpiresAt: now.Add(time.Hour)},
	}
	active := []Hold{{ID: "h", Points: 25, Status: HoldActive, ExpiresAt: now.Add(time.Minute)}}
	// The hold needs 25: 10 spendable cover part, 15 stay in the due lot.
	uses, n := expiryUses(lots, active, now)
	if n != 15 || len(uses) != 1 || uses[0] != (LotUse{1, 15}) {
		t.Errorf("expiryUses with a hold = %v, %d; want 15 of lot 1", uses, n)
	}
	if _, n := expiryUses(lots, nil, now); n != 30 {
		t.Errorf("expiryUses without holds took %d, want 30", n)
	}
}
