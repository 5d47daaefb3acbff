package bff

import (
	"github.com/treue/treue/assets"
	"github.com/treue/treue/gamification"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// HasAudience reports whether the audience table names procedure.
func HasAudience(procedure string) bool {
	_, ok := audiences[procedure]
	return ok
}

// AudienceName returns who may call procedure: "customer", "till",
// "operator", or "" when nobody may.
func AudienceName(procedure string) string {
	switch audiences[procedure] {
	case customerSelf, customerSensitive:
		return "customer"
	case tillOfProgram:
		return "till"
	case operatorOfProgram:
		return "operator"
	}
	return ""
}

// DemoRulesProto returns the demo café's rules (assets/demo/rules.json) as
// AdminService takes them.
func DemoRulesProto() (*treuev1.Rules, error) {
	r, err := gamification.ParseRules(assets.DemoRules)
	if err != nil {
		return nil, err
	}
	return toProtoRules(r), nil
}
