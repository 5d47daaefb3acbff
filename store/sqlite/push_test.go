package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

func TestPushStore(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) notify.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "treue.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
