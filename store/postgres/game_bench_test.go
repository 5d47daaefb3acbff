package postgres

import (
	"testing"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/postgres/pgtest"
	"github.com/treue/treue/store/storetest"
)

func BenchmarkEarnRules(b *testing.B) {
	storetest.BenchmarkEarnRules(b, func(b *testing.B) loyalty.Store {
		s, err := Open(b.Context(), pgtest.NewDatabase(b, Migrate))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
