package postgres

import (
	"testing"

	"github.com/treue/treue/store/storetest"
)

// TestProperty runs the seeded randomized ledger test on a fresh database.
// Set TREUE_PROPERTY_SEED to replay a run.
func TestProperty(t *testing.T) {
	s, err := Open(t.Context(), newDB(t))
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunProperty(t, storetest.Harness{Store: s, CheckInvariants: s.CheckInvariants}, storetest.PropertyOptions{})
}
