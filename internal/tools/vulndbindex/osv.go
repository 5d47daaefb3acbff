package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// entry is one OSV entry: the fields the index needs, and the entry as it
// is written (compact JSON).
type entry struct {
	ID       string     `json:"id"`
	Modified time.Time  `json:"modified"`
	Aliases  []string   `json:"aliases"`
	Affected []affected `json:"affected"`
	raw      []byte
}

// affected is one module an entry affects and its versions.
type affected struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Ranges []struct {
		Type   string `json:"type"`
		Events []struct {
			Introduced string `json:"introduced"`
			Fixed      string `json:"fixed"`
		} `json:"events"`
	} `json:"ranges"`
}

// parseEntry parses one OSV entry of the Go ecosystem.
func parseEntry(b []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return entry{}, err
	}
	if e.ID == "" || strings.ContainsAny(e.ID, `/\`) {
		return entry{}, fmt.Errorf("entry id %q: want an id like GO-2024-1234", e.ID)
	}
	for _, a := range e.Affected {
		if a.Package.Name == "" || a.Package.Ecosystem != "Go" {
			return entry{}, fmt.Errorf("%s: affected package %q of ecosystem %q: want a Go module", e.ID, a.Package.Name, a.Package.Ecosystem)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return entry{}, err
	}
	e.raw = buf.Bytes()
	return e, nil
}

// stamp gives an entry without a modified time the time t.
func (e *entry) stamp(t time.Time) error {
	if !e.Modified.IsZero() {
		return nil
	}
	if t.IsZero() {
		return fmt.Errorf("%s has no modified time: pack it with -modified", e.ID)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(e.raw, &fields); err != nil {
		return err
	}
	fields["modified"], _ = json.Marshal(t)
	raw, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	e.Modified, e.raw = t, raw
	return nil
}

// fixed is the version that fixes the last vulnerable range of a, without
// the "v": empty when there is none, or when the vulnerability came back
// after it. It is what govulncheck compares a module's version with
// before it reads the entry.
func (a affected) fixed() string {
	var latest string
	for _, r := range a.Ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			if ev.Fixed != "" && semverLess(latest, ev.Fixed) {
				latest = ev.Fixed
			}
		}
		for _, ev := range r.Events {
			if ev.Introduced != "" && ev.Introduced != "0" && semverLess(latest, ev.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// semverLess compares versions written with or without a "v" or "go";
// an empty version is the least.
func semverLess(a, b string) bool {
	canon := func(v string) string {
		return "v" + strings.TrimPrefix(strings.TrimPrefix(v, "v"), "go")
	}
	return semver.Compare(canon(a), canon(b)) < 0
}

// readDir reads the OSV files <ID>.json of dir.
func readDir(ctx context.Context, dir string) ([]entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		e, err := parseEntry(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if filepath.Base(name) != e.ID+".json" {
			return nil, fmt.Errorf("%s holds entry %s: want files named <ID>.json", name, e.ID)
		}
		entries = append(entries, e)
	}
	return sortEntries(entries)
}

// sortEntries sorts entries by id and refuses duplicates.
func sortEntries(entries []entry) ([]entry, error) {
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(entries); i++ {
		if entries[i].ID == entries[i-1].ID {
			return nil, errors.New("entry " + entries[i].ID + " appears twice")
		}
	}
	return entries, nil
}
