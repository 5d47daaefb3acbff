package postgres

import (
	"testing"

	"github.com/treue/treue/wallet/googlepass/googlepasstest"
)

func TestGooglePassStore(t *testing.T) {
	googlepasstest.Run(t, func(t *testing.T) googlepasstest.Harness {
		s, err := Open(t.Context(), newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return googlepasstest.Harness{Store: s.GooglePasses(), Loyalty: s}
	})
}
