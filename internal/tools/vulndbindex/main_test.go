package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// osvFiles are two entries as data/osv of golang.org/x/vulndb has them:
// without a modified time.
var osvFiles = map[string]string{
	"GO-2099-0001.json": `{
  "schema_version": "1.3.1", "id": "GO-2099-0001", "modified": "0001-01-01T00:00:00Z",
  "aliases": ["CVE-2099-1"],
  "affected": [
    {"package": {"name": "example.com/a", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}, {"introduced": "2.0.0"}, {"fixed": "2.4.1"}]}]},
    {"package": {"name": "stdlib", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.25.9"}]}]}
  ]
}`,
	"GO-2099-0002.json": `{
  "schema_version": "1.3.1", "id": "GO-2099-0002", "modified": "0001-01-01T00:00:00Z",
  "affected": [
    {"package": {"name": "example.com/a", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}, {"introduced": "1.5.0"}]}]}
  ]
}`,
}

func TestPackThenBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "osv")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range osvFiles {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	snap := filepath.Join(dir, "osv.jsonl.gz")
	if err := run(ctx, []string{"-osv", src, "-pack", snap}, io.Discard); err == nil || !strings.Contains(err.Error(), "-note") {
		t.Fatalf("pack without a note: %v", err)
	}
	if err := run(ctx, []string{"-osv", src, "-pack", snap, "-note", "test"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-modified") {
		t.Fatalf("pack of entries without modified times and no -modified: %v", err)
	}
	if err := run(ctx, []string{"-osv", src, "-pack", snap, "-note", "test", "-modified", "2099-01-02T03:04:05Z"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	var out strings.Builder
	if err := run(ctx, []string{"-osv", snap, "-out", db}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 entries, 2 modules") || !strings.Contains(out.String(), "(test)") {
		t.Errorf("output %q", out.String())
	}
	read := func(name string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(db, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	stamp := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	var meta dbMeta
	read("index/db.json", &meta)
	if !meta.Modified.Equal(stamp) {
		t.Errorf("db.json modified %v, want %v", meta.Modified, stamp)
	}
	var modules []moduleMeta
	read("index/modules.json", &modules)
	want := []moduleMeta{
		{Path: "example.com/a", Vulns: []moduleVuln{
			{ID: "GO-2099-0001", Modified: stamp, Fixed: "2.4.1"},
			// Introduced again after the last fix: no fixed version.
			{ID: "GO-2099-0002", Modified: stamp},
		}},
		{Path: "stdlib", Vulns: []moduleVuln{{ID: "GO-2099-0001", Modified: stamp, Fixed: "1.25.9"}}},
	}
	if diff := cmp.Diff(want, modules); diff != "" {
		t.Errorf("modules.json (-want +got):\n%s", diff)
	}
	var vulns []vulnMeta
	read("index/vulns.json", &vulns)
	if len(vulns) != 2 || vulns[0].Aliases[0] != "CVE-2099-1" {
		t.Errorf("vulns.json: %+v", vulns)
	}
	var e struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Affected []any     `json:"affected"`
	}
	read("ID/GO-2099-0001.json", &e)
	if e.ID != "GO-2099-0001" || !e.Modified.Equal(stamp) || len(e.Affected) != 2 {
		t.Errorf("ID/GO-2099-0001.json: %+v", e)
	}
	if err := run(ctx, []string{"-osv", snap, "-out", db}, io.Discard); err == nil {
		t.Error("wrote into a database that is there")
	}
}

func TestBuiltinSnapshot(t *testing.T) {
	t.Parallel()
	entries, origin, err := load(context.Background(), "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 1000 || !strings.Contains(origin, "golang.org/x/vulndb") {
		t.Fatalf("%d entries from %s", len(entries), origin)
	}
	idx := newIndex(entries)
	var stdlib bool
	for _, m := range idx.modules {
		stdlib = stdlib || m.Path == "stdlib"
	}
	if !stdlib || idx.modified.IsZero() {
		t.Errorf("built-in snapshot: stdlib indexed %v, modified %v", stdlib, idx.modified)
	}
	t.Logf("%d entries, %d modules, from %s", len(entries), len(idx.modules), origin)
}

func TestRefusesForeignEntries(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"other ecosystem": `{"id":"PYSEC-1","affected":[{"package":{"name":"x","ecosystem":"PyPI"}}]}`,
		"no id":           `{"affected":[]}`,
		"path in id":      `{"id":"../x"}`,
	} {
		if _, err := parseEntry([]byte(body)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
