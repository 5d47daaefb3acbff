// Package migration reads a store's embedded, versioned SQL migrations.
// Each store applies them in its own dialect and records them in its own
// schema_migrations table.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one version of a schema.
type Migration struct {
	// Version orders the migrations; it is the number the file name starts
	// with.
	Version int
	// Name is the file name, such as 0001_init.sql.
	Name string
	SQL  string
}

// Load returns the migrations in fsys matching pattern (such as
// "migrations/*.sql"), in the order of their versions. It returns an error
// for a file whose name does not start with a positive number and "_", or
// for two files with one version.
func Load(fsys fs.FS, pattern string) ([]Migration, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number and _, like 0001_init.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", prev, base, v)
		}
		seen[v] = base
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}
