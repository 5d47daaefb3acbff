package postgres

import (
	"testing"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/store/storetest"
)

func TestPushStore(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) notify.Store {
		s, err := Open(t.Context(), newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
