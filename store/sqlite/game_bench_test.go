package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

func BenchmarkEarnRules(b *testing.B) {
	storetest.BenchmarkEarnRules(b, func(b *testing.B) loyalty.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "treue.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
