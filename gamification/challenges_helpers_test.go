package gamification

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var loadBerlin = sync.OnceValues(func() (*time.Location, error) { return time.LoadLocation("Europe/Berlin") })

// berlin returns the zone of the tests' rules.
func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := loadBerlin()
	if err != nil {
		t.Fatalf("zone data: %v", err)
	}
	return loc
}

// at returns the Berlin wall-clock time "2006-01-02 15:04".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin(t))
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

// utc returns the UTC time "2006-01-02 15:04".
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

// buys returns purchases of 5 EUR at the given times, with IDs p1, p2, ….
func buys(times ...time.Time) History {
	h := make(History, len(times))
	for i, tm := range times {
		h[i] = Purchase{ID: fmt.Sprintf("p%d", i+1), At: tm, AmountMinor: 500}
	}
	return h
}

// berlinRules returns rules in Europe/Berlin with the challenges cs.
func berlinRules(cs ...Challenge) Rules {
	return Rules{TimeZone: "Europe/Berlin", Challenges: cs}
}

// activated returns a member whose state of challenge id is st.
func activated(id string, st ChallengeState) Member {
	return Member{ID: "m1", Challenges: map[string]ChallengeState{id: st}}
}
