package bff

// HasAudience reports whether the audience table names procedure.
func HasAudience(procedure string) bool {
	_, ok := audiences[procedure]
	return ok
}
