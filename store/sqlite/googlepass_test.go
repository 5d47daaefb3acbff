package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/googlepass/googlepasstest"
)

func TestGooglePassStore(t *testing.T) {
	googlepasstest.Run(t, func(t *testing.T) googlepasstest.Harness {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "treue.db"))
		if err != nil {
			t.Fatal(err)
		}
		return googlepasstest.Harness{Store: s.GooglePasses(), Loyalty: s}
	})
}
