package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	ms, err := Load(fstest.MapFS{
		"m/0010_later.sql": {Data: []byte("B")},
		"m/0002_init.sql":  {Data: []byte("A")},
		"m/README.md":      {Data: []byte("not a migration")},
	}, "m/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Migration{2, "0002_init.sql", "A"}) || ms[1] != (Migration{10, "0010_later.sql", "B"}) {
		t.Fatalf("Load = %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no number":     {"m/init.sql": {}},
		"zero":          {"m/0000_init.sql": {}},
		"same version":  {"m/0001_a.sql": {}, "m/001_b.sql": {}},
		"no underscore": {"m/0001.sql": {}},
	} {
		if _, err := Load(fsys, "m/*.sql"); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: Load = %v, want an error", name, err)
		}
	}
}
