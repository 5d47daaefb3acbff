package postgres

import (
	"testing"

	"github.com/treue/treue/wallet/applepass/applepasstest"
)

func TestApplePassStore(t *testing.T) {
	applepasstest.Run(t, func(t *testing.T) applepasstest.Harness {
		s, err := Open(t.Context(), newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return applepasstest.Harness{Store: s, Loyalty: s}
	})
}
