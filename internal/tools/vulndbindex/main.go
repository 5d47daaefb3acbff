// Command vulndbindex builds a Go vulnerability database that govulncheck
// reads offline (govulncheck -db file:///dir), from OSV entries:
//
//	go run ./internal/tools/vulndbindex -out /tmp/vulndb
//	go tool govulncheck -db file:///tmp/vulndb ./...
//
// The database is in the v1 layout that vuln.go.dev serves (see
// https://go.dev/doc/security/vuln/database#api): index/db.json,
// index/modules.json and ID/<id>.json.
//
// Without -osv the entries are the snapshot in snapshot/osv.jsonl.gz,
// built into this program, because CI reaches neither vuln.go.dev nor a
// copy of golang.org/x/vulndb (the module proxy refuses that module).
// -osv names a directory of OSV files instead, such as data/osv of a
// golang.org/x/vulndb checkout, or another snapshot file. -pack writes a
// snapshot: snapshot/README.md says how to refresh the built-in one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulndbindex:", err)
		os.Exit(1)
	}
}

// run parses args and builds the database or, with -pack, a snapshot.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vulndbindex", flag.ContinueOnError)
	var (
		src      = fs.String("osv", "", "directory of OSV files (<ID>.json) or a snapshot (.jsonl.gz); empty: the built-in snapshot")
		out      = fs.String("out", "", "directory to write the database (v1 layout) to; it must not exist or be empty")
		pack     = fs.String("pack", "", "instead of a database, write the entries of -osv as a snapshot file here")
		modified = fs.String("modified", "", "with -pack: RFC 3339 time for entries without a modified time (data/osv of golang.org/x/vulndb has none): the time of the checkout's commit")
		note     = fs.String("note", "", "with -pack: where the entries come from, kept in the snapshot")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (*out == "") == (*pack == "") {
		return errors.New("want one of -out and -pack")
	}
	if *pack != "" && *note == "" {
		return errors.New("-pack needs -note: where the entries come from")
	}
	var stamp time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			return fmt.Errorf("-modified: %w", err)
		}
		stamp = t.UTC()
	}
	entries, origin, err := load(ctx, *src, stamp)
	if err != nil {
		return err
	}
	if *pack != "" {
		if err := writeSnapshot(*pack, *note, entries); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d entries from %s packed into %s\n", len(entries), origin, *pack)
		return nil
	}
	idx, err := writeDB(*out, entries)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vulnerability database in %s: %d entries, %d modules, modified %s, from %s\n",
		*out, len(entries), len(idx.modules), idx.modified.Format(time.RFC3339), origin)
	return nil
}

// load reads the entries of src: the built-in snapshot when src is empty.
// Entries without a modified time get stamp, or an error when stamp is
// zero. It returns where the entries came from, for the log.
func load(ctx context.Context, src string, stamp time.Time) ([]entry, string, error) {
	var (
		entries []entry
		origin  string
		err     error
	)
	switch fi, statErr := os.Stat(src); {
	case src == "":
		entries, origin, err = readSnapshot(builtinSnapshot(), "built-in snapshot")
	case statErr != nil:
		return nil, "", statErr
	case fi.IsDir():
		entries, err = readDir(ctx, src)
		origin = src
	default:
		var f *os.File
		if f, err = os.Open(src); err != nil {
			return nil, "", err
		}
		defer f.Close()
		entries, origin, err = readSnapshot(f, src)
	}
	if err != nil {
		return nil, "", err
	}
	if len(entries) == 0 {
		return nil, "", fmt.Errorf("no OSV entries in %s", origin)
	}
	for i := range entries {
		if err := entries[i].stamp(stamp); err != nil {
			return nil, "", err
		}
	}
	return entries, origin, nil
}
