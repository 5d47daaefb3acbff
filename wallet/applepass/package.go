package applepass

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"
)

// ContentType is the media type of a .pkpass file.
const ContentType = "application/vnd.apple.pkpass"

// Names of the files a Packager writes itself.
const (
	passJSONName  = "pass.json"
	manifestName  = "manifest.json"
	signatureName = "signature"
)

// Packager makes the .pkpass files of one kind of pass: each carries its
// own pass.json and the same fixed files (images, localizations). It is
// safe for concurrent use.
type Packager struct {
	id Identity
	// entries are the fixed files, compressed once, ready to be copied
	// into an archive.
	entries []zipEntry
	// manifestTail is the manifest's entries for the fixed files, each
	// preceded by a comma, and the closing brace.
	manifestTail []byte
	// size is the fixed files' share of an archive's size.
	size int
}

// zipEntry is a compressed file with the header that copies it into an
// archive as it is.
type zipEntry struct {
	header zip.FileHeader
	raw    []byte
}

// NewPackager returns a Packager that signs with id and adds files to
// every pass. Files ending in .png are stored as they are (PNG is
// compressed already), others deflated; they are dated when NewPackager
// runs.
//
// It returns an error when id lacks a part, or files lack icon.png (Apple
// requires it), hold two files with the same name (ignoring case),
// a reserved name (pass.json, manifest.json, signature) or a name that is
// not a clean relative slash-separated path (absolute, with "." or ".."
// elements, or with a backslash).
func NewPackager(id Identity, files []File) (*Packager, error) {
	if id.Certificate == nil || id.Key == nil || id.WWDR == nil {
		return nil, errors.New("applepass: packager: identity needs a certificate, its key and the WWDR certificate")
	}
	seen := map[string]bool{}
	hasIcon := false
	for _, f := range files {
		folded := strings.ToLower(f.Name)
		switch {
		case !fs.ValidPath(f.Name) || f.Name == "." || strings.Contains(f.Name, `\`):
			return nil, fmt.Errorf("applepass: packager: unsafe file name %q", f.Name)
		case folded == passJSONName || folded == manifestName || folded == signatureName:
			return nil, fmt.Errorf("applepass: packager: %q is a name the packager writes itself", f.Name)
		case seen[folded]:
			return nil, fmt.Errorf("applepass: packager: two files named %q", f.Name)
		}
		seen[folded] = true
		hasIcon = hasIcon || f.Name == "icon.png"
	}
	if !hasIcon {
		return nil, errors.New("applepass: packager: files lack icon.png, which Apple requires")
	}

	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	entries, size, err := compressOnce(sorted, time.Now())
	if err != nil {
		return nil, fmt.Errorf("applepass: packager: %w", err)
	}
	p := &Packager{id: id, entries: entries, size: size, manifestTail: []byte{}}
	for _, f := range sorted {
		sum := sha1.Sum(f.Data)
		name, _ := json.Marshal(f.Name) // a string always marshals
		p.manifestTail = append(p.manifestTail, ',')
		p.manifestTail = append(p.manifestTail, name...)
		p.manifestTail = append(p.manifestTail, ':', '"')
		p.manifestTail = hex.AppendEncode(p.manifestTail, sum[:])
		p.manifestTail = append(p.manifestTail, '"')
	}
	p.manifestTail = append(p.manifestTail, '}')
	return p, nil
}

// compressOnce returns files as zip entries dated modified (PNGs stored,
// the rest deflated at the best compression) and their size in an
// archive. It writes them to an archive and reads it back, so the
// headers are complete as archive/zip's CreateHeader writes them.
func compressOnce(files []File, modified time.Time) ([]zipEntry, int, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, f := range files {
		method := zip.Deflate
		if strings.HasSuffix(strings.ToLower(f.Name), ".png") {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: method, Modified: modified.UTC()})
		if err != nil {
			return nil, 0, err
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	archive := buf.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, 0, err
	}
	entries := make([]zipEntry, len(zr.File))
	for i, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			return nil, 0, err
		}
		h := f.FileHeader
		h.Extra = slices.Clip(h.Extra) // appending copies: entries are shared
		entries[i] = zipEntry{header: h, raw: archive[off : off+int64(f.CompressedSize64)]}
	}
	return entries, len(archive), nil
}

// Package returns a signed .pkpass holding passJSON as pass.json, the
// fixed files, manifest.json (each file's name mapped to the lowercase hex
// SHA-1 of its contents) and signature (Sign of manifest.json at
// signingTime). pass.json, manifest.json and signature are dated
// signingTime.
//
// It returns an error when signing or writing the archive fails; it does
// not check passJSON.
func (p *Packager) Package(passJSON []byte, signingTime time.Time) ([]byte, error) {
	sum := sha1.Sum(passJSON)
	manifest := make([]byte, 0, len(p.manifestTail)+64)
	manifest = append(manifest, `{"`+passJSONName+`":"`...)
	manifest = hex.AppendEncode(manifest, sum[:])
	manifest = append(manifest, '"')
	manifest = append(manifest, p.manifestTail...)

	signature, err := Sign(p.id, manifest, signingTime)
	if err != nil {
		return nil, err
	}

	modified := signingTime.UTC()
	buf := bytes.NewBuffer(make([]byte, 0, p.size+len(passJSON)+len(manifest)+len(signature)+1024))
	zw := zip.NewWriter(buf)
	for _, f := range []struct {
		name   string
		data   []byte
		method uint16
	}{
		{passJSONName, passJSON, zip.Deflate},
		{manifestName, manifest, zip.Deflate},
		{signatureName, signature, zip.Store},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method, Modified: modified})
		if err != nil {
			return nil, fmt.Errorf("applepass: package: %w", err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("applepass: package: %w", err)
		}
	}
	for i := range p.entries {
		h := p.entries[i].header // a copy: the writer keeps a pointer
		w, err := zw.CreateRaw(&h)
		if err != nil {
			return nil, fmt.Errorf("applepass: package: %w", err)
		}
		if _, err := w.Write(p.entries[i].raw); err != nil {
			return nil, fmt.Errorf("applepass: package: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("applepass: package: %w", err)
	}
	return buf.Bytes(), nil
}
