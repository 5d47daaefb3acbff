package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/store/storetest"
)

// TestProperty runs the seeded randomized ledger test on a fresh database.
// Set TREUE_PROPERTY_SEED to replay a run.
func TestProperty(t *testing.T) {
	url := newDB(t)
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunProperty(t, storetest.Harness{
		Store: s,
		// Test servers often run without autovacuum (the local one does):
		// without statistics the planner joins the invariant checks' tables
		// badly, taking minutes instead of milliseconds once a run has
		// written 100,000 operations. Analyzing first keeps the checks fast.
		CheckInvariants: func(ctx context.Context) error {
			if err := analyze(ctx, url); err != nil {
				return err
			}
			return s.CheckInvariants(ctx)
		},
	}, storetest.PropertyOptions{})
}

// analyze updates the planner's statistics of the database at url.
func analyze(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}
