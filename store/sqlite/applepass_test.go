package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/applepass/applepasstest"
)

func TestApplePassStore(t *testing.T) {
	applepasstest.Run(t, func(t *testing.T) applepasstest.Harness {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "treue.db"))
		if err != nil {
			t.Fatal(err)
		}
		return applepasstest.Harness{Store: s, Loyalty: s}
	})
}
