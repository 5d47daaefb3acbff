package gamification

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxRulesBytes bounds a rules file.
const MaxRulesBytes = 1 << 20

// ParseRules returns the rules in data, a JSON rules file, validated. It
// returns an error wrapping ErrInvalidRules when data is larger than
// MaxRulesBytes, not such JSON (unknown fields included, which are
// typos), or Validate refuses the rules.
func ParseRules(data []byte) (Rules, error) {
	if len(data) > MaxRulesBytes {
		return Rules{}, invalid("rules file of %d bytes, at most %d", len(data), MaxRulesBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("%w: %w", ErrInvalidRules, err)
	}
	if dec.More() {
		return Rules{}, invalid("more than one JSON value")
	}
	return r, Validate(r)
}
