package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// index is the database's index: index/db.json, index/modules.json and
// index/vulns.json.
type index struct {
	modified time.Time
	modules  []moduleMeta
	vulns    []vulnMeta
}

// dbMeta is index/db.json.
type dbMeta struct {
	// Modified is the latest modified time of any entry.
	Modified time.Time `json:"modified"`
}

// moduleMeta is one element of index/modules.json: a module and the
// entries that affect it.
type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// Fixed is the version that fixes it (see affected.fixed).
	Fixed string `json:"fixed,omitempty"`
}

// vulnMeta is one element of index/vulns.json.
type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// newIndex indexes entries, sorted by module path and then id.
func newIndex(entries []entry) index {
	idx := index{modules: []moduleMeta{}, vulns: []vulnMeta{}}
	byPath := map[string]*moduleMeta{}
	for _, e := range entries {
		idx.vulns = append(idx.vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		if e.Modified.After(idx.modified) {
			idx.modified = e.Modified
		}
		for _, a := range e.Affected {
			m := byPath[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name}
				byPath[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: a.fixed()})
		}
	}
	for _, m := range byPath {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return cmp.Compare(a.ID, b.ID) })
		idx.modules = append(idx.modules, *m)
	}
	slices.SortFunc(idx.modules, func(a, b moduleMeta) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortFunc(idx.vulns, func(a, b vulnMeta) int { return cmp.Compare(a.ID, b.ID) })
	return idx
}

// writeDB writes entries into dir, which must not exist or be empty, in
// the v1 layout: index/db.json, index/modules.json, index/vulns.json and
// ID/<id>.json.
func writeDB(dir string, entries []entry) (index, error) {
	if names, err := os.ReadDir(dir); err == nil && len(names) > 0 {
		return index{}, fmt.Errorf("%s is not empty", dir)
	}
	for _, sub := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return index{}, err
		}
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(dir, "ID", e.ID+".json"), e.raw, 0o644); err != nil {
			return index{}, err
		}
	}
	idx := newIndex(entries)
	db, err := json.Marshal(dbMeta{Modified: idx.modified})
	if err != nil {
		return index{}, err
	}
	vulns, err := json.Marshal(idx.vulns)
	if err != nil {
		return index{}, err
	}
	modules, err := json.Marshal(idx.modules)
	if err != nil {
		return index{}, err
	}
	// index/modules.json goes last: govulncheck takes a directory with it
	// for a whole database.
	for _, f := range []struct {
		name string
		data []byte
	}{{"db.json", db}, {"vulns.json", vulns}, {"modules.json", modules}} {
		if err := os.WriteFile(filepath.Join(dir, "index", f.name), f.data, 0o644); err != nil {
			return index{}, err
		}
	}
	return idx, nil
}
