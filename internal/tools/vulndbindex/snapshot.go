package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
)

// snapshot is the built-in snapshot: gzip-compressed JSON lines, one OSV
// entry a line, sorted by id; the gzip header's comment says where the
// entries come from.
//
//go:embed snapshot/osv.jsonl.gz
var snapshot []byte

// builtinSnapshot returns the built-in snapshot.
func builtinSnapshot() io.Reader { return bytes.NewReader(snapshot) }

// maxEntryBytes bounds one line of a snapshot.
const maxEntryBytes = 4 << 20

// readSnapshot reads the entries of a snapshot named name; the returned
// origin is name and the note the snapshot was packed with.
func readSnapshot(r io.Reader, name string) ([]entry, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	defer zr.Close()
	origin := name
	if zr.Comment != "" {
		origin += " (" + zr.Comment + ")"
	}
	var entries []entry
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, maxEntryBytes)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		e, err := parseEntry(sc.Bytes())
		if err != nil {
			return nil, "", fmt.Errorf("%s:%d: %w", name, line, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	entries, err = sortEntries(entries)
	return entries, origin, err
}

// writeSnapshot writes entries to the file name as a snapshot noting
// where they come from. The same entries give the same bytes.
func writeSnapshot(name, note string, entries []entry) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.Comment = note
	w := bufio.NewWriter(zw)
	for _, e := range entries {
		w.Write(e.raw)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return zw.Close()
}
