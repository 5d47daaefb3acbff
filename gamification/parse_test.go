package gamification

import (
	"errors"
	"strings"
	"testing"

	"github.com/treue/treue/assets"
)

// TestDemoRules: the demo café's rules file parses and validates, with
// every kind of rule in it.
func TestDemoRules(t *testing.T) {
	r, err := ParseRules(assets.DemoRules)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[ChallengeKind]bool{}
	for _, c := range r.Challenges {
		kinds[c.Kind] = true
	}
	if len(kinds) != 6 || len(r.Tiers) != 3 || len(r.Stars.Boosts) == 0 || r.Welcome == nil || r.Birthday == nil || r.Referral == nil || len(r.StampCards) == 0 {
		t.Fatalf("demo rules lack a kind of rule: %d challenge kinds, %d tiers, %+v", len(kinds), len(r.Tiers), r)
	}
}

// TestParseRulesRefuses: typos, trailing data and rules out of bounds are
// refused with ErrInvalidRules naming the field.
func TestParseRulesRefuses(t *testing.T) {
	base := string(assets.DemoRules)
	for _, tt := range []struct {
		name, data, want string
	}{
		{"typo", `{"stars": {"points": 1, "per_minor": 100}, "welcom": {"points": 5}}`, "welcom"},
		{"two values", `{"stars": {"points": 1, "per_minor": 100}} {}`, "more than one"},
		{"per minor 0", `{"stars": {"points": 1, "per_minor": 0}}`, "stars"},
		{"zone", `{"time_zone": "Mars/Olympus", "stars": {"points": 1, "per_minor": 100}}`, "time_zone"},
		{"boost below 1x", strings.Replace(base, `"multiplier": 2000`, `"multiplier": 900`, 1), "boosts[0].multiplier"},
		{"tiers not ascending", strings.Replace(base, `"qualifying_stars": 1000`, `"qualifying_stars": 200`, 1), "tiers[2].qualifying_stars"},
		{"unknown kind", strings.Replace(base, `"kind": "visits", "target": 3`, `"kind": "vists", "target": 3`, 1), "challenges[0].kind"},
		{"duplicate id", strings.Replace(base, `"id": "spend-20"`, `"id": "three-visits"`, 1), "used twice"},
		{"bad clock", strings.Replace(base, `"from": "14:00", "to": "17:00"`, `"from": "25:00", "to": "17:00"`, 1), "25:00"},
		{"unknown audience tier", strings.Replace(base, `"tiers": ["gold", "platin"]`, `"tiers": ["diamond"]`, 1), "diamond"},
		{"multi target", strings.Replace(base, `"kind": "multi", "target": 3`, `"kind": "multi", "target": 2`, 1), "number of steps"},
		{"step with reward", strings.Replace(base, `{"kind": "visits", "target": 2}`, `{"kind": "visits", "target": 2, "reward": 5}`, 1), "a step has only"},
		{"stamp card without reward", strings.Replace(base, `"reward_id": "free-pastry"`, `"reward_id": ""`, 1), "reward_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.data))
			if !errors.Is(err, ErrInvalidRules) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseRules: %v, want ErrInvalidRules naming %q", err, tt.want)
			}
		})
	}
}
