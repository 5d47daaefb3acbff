package applepass

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/treue/treue/assets"
)

// samplePassJSON is a pass.json of about 1 KB.
var samplePassJSON = []byte(`{
  "formatVersion": 1,
  "passTypeIdentifier": "pass.dev.treue.demo",
  "teamIdentifier": "TREUEDEV00",
  "serialNumber": "3f2a9c1e5b7d4a608e1f2c3b4d5e6f70",
  "authenticationToken": "9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d",
  "webServiceURL": "https://cards.example.com/applepass",
  "organizationName": "Café Treue",
  "description": "Café Treue loyalty card",
  "logoText": "Café Treue",
  "backgroundColor": "rgb(0, 112, 74)",
  "foregroundColor": "rgb(255, 255, 255)",
  "labelColor": "rgb(212, 233, 226)",
  "storeCard": {
    "headerFields": [{"key": "balance", "label": "balance_label", "value": 1234, "changeMessage": "balance_changed"}],
    "primaryFields": [{"key": "tier", "label": "tier_label", "value": "Grün"}],
    "secondaryFields": [{"key": "member", "label": "member_label", "value": "Alex Example"}],
    "auxiliaryFields": [{"key": "next", "label": "next_label", "value": "16 stars to a free drink"}],
    "backFields": [
      {"key": "card", "label": "card_label", "value": "4711 0815 1234 5678"},
      {"key": "terms", "label": "terms_label", "value": "Stars expire 24 months after the end of the month they were earned in."}
    ]
  },
  "barcodes": [{"format": "PKBarcodeFormatQR", "message": "TREUE:4711081512345678", "messageEncoding": "iso-8859-1", "altText": "4711 0815 1234 5678"}]
}`)

// demoFilesForTest returns the embedded images and two localizations.
func demoFilesForTest(t testing.TB) []File {
	t.Helper()
	sub, err := fs.Sub(assets.ApplePassImages, "applepass")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Images(sub)
	if err != nil {
		t.Fatal(err)
	}
	return append(files,
		File{Name: "de.lproj/pass.strings", Data: []byte("\"balance_label\" = \"Sterne\";\n\"tier_label\" = \"Stufe\";\n")},
		File{Name: "en.lproj/pass.strings", Data: []byte("\"balance_label\" = \"Stars\";\n\"tier_label\" = \"Tier\";\n")},
	)
}

// unzipPass returns the files of a .pkpass by name; reading each to its
// end checks its CRC-32.
func unzipPass(t *testing.T, pkpass []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if _, dup := files[f.Name]; dup {
			t.Fatalf("two entries named %s", f.Name)
		}
		files[f.Name] = data
	}
	return files
}

// checkManifest returns an error unless manifest.json lists exactly the
// files other than manifest.json and signature, each with the SHA-1 of
// its contents.
func checkManifest(files map[string][]byte) error {
	var manifest map[string]string
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		return fmt.Errorf("manifest.json: %v", err)
	}
	var listed, present []string
	for name := range manifest {
		listed = append(listed, name)
	}
	for name := range files {
		if name != "manifest.json" && name != "signature" {
			present = append(present, name)
		}
	}
	sort.Strings(listed)
	sort.Strings(present)
	if strings.Join(listed, ",") != strings.Join(present, ",") {
		return fmt.Errorf("manifest lists %v, archive holds %v", listed, present)
	}
	for name, want := range manifest {
		sum := sha1.Sum(files[name])
		if got := hex.EncodeToString(sum[:]); got != want {
			return fmt.Errorf("%s: SHA-1 %s, manifest says %s", name, got, want)
		}
	}
	return nil
}

// opensslVerify runs openssl cms -verify on the pass's signature and
// manifest with caFile as the only trusted root, and returns its error
// with its output.
func opensslVerify(t *testing.T, files map[string][]byte, caFile string) error {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl is needed to check signatures independently: %v", err)
		}
		t.Skipf("openssl not installed (%v): cannot check the signature independently", err)
	}
	dir := t.TempDir()
	sig, manifest := filepath.Join(dir, "signature"), filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(sig, files["signature"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, files["manifest.json"], 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
		"-content", manifest, "-CAfile", caFile, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// TestPackageVerifiedIndependently builds a pass and checks it with
// archive/zip, its own manifest check and openssl, then checks that
// tampering with pass.json or manifest.json is caught.
func TestPackageVerifiedIndependently(t *testing.T) {
	t.Parallel()
	id, _, dir := devIdentityForTest(t)
	input := demoFilesForTest(t)
	before := time.Now().Truncate(time.Second)
	p, err := NewPackager(id, input)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	signingTime := time.Now().Add(time.Hour).Truncate(time.Second) // unlike the fixed files' date
	pkpass, err := p.Package(samplePassJSON, signingTime)
	if err != nil {
		t.Fatal(err)
	}
	files := unzipPass(t, pkpass)
	if len(files) != len(input)+3 {
		t.Errorf("archive holds %d files, want %d", len(files), len(input)+3)
	}
	if !bytes.Equal(files["pass.json"], samplePassJSON) {
		t.Error("pass.json differs from the input")
	}
	for _, f := range input {
		if !bytes.Equal(files[f.Name], f.Data) {
			t.Errorf("%s differs from the input", f.Name)
		}
	}
	if err := checkManifest(files); err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(dir, DevRootFile)
	if err := opensslVerify(t, files, rootFile); err != nil {
		t.Fatalf("openssl rejects the signature: %v", err)
	}

	// Entries: PNGs stored, the rest deflated; the pass's own files dated
	// signingTime, the fixed ones when the Packager was made.
	zr, _ := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	for _, f := range zr.File {
		want := zip.Deflate
		if strings.HasSuffix(f.Name, ".png") || f.Name == "signature" {
			want = zip.Store
		}
		if f.Method != want {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, want)
		}
		switch f.Name {
		case "pass.json", "manifest.json", "signature":
			if !f.Modified.Equal(signingTime) {
				t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, signingTime)
			}
		default:
			if f.Modified.Before(before) || f.Modified.After(after) {
				t.Errorf("%s: modified %v, want between %v and %v", f.Name, f.Modified, before, after)
			}
		}
		if f.ReaderVersion != 20 {
			t.Errorf("%s: needs zip version %d to extract, want 20", f.Name, f.ReaderVersion)
		}
	}

	// The signature itself.
	p7, err := pkcs7.Parse(files["signature"])
	if err != nil {
		t.Fatal(err)
	}
	var signed time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &signed); err != nil || !signed.Equal(signingTime) {
		t.Errorf("signing time %v (%v), want %v", signed, err, signingTime)
	}
	if len(p7.Certificates) != 2 || !p7.Certificates[0].Equal(id.Certificate) || !p7.Certificates[1].Equal(id.WWDR) {
		t.Error("the signature does not carry the pass and WWDR certificates")
	}
	if s := p7.GetOnlySigner(); s == nil || !s.Equal(id.Certificate) {
		t.Error("the signer is not the pass certificate")
	}

	// Tampering.
	tampered := map[string][]byte{}
	for k, v := range files {
		tampered[k] = v
	}
	tampered["pass.json"] = bytes.Clone(files["pass.json"])
	tampered["pass.json"][100] ^= 1
	if err := checkManifest(tampered); err == nil || !strings.Contains(err.Error(), "pass.json: SHA-1") {
		t.Errorf("a changed pass.json passes the manifest check: %v", err)
	}
	tampered["pass.json"] = files["pass.json"]
	tampered["manifest.json"] = bytes.Clone(files["manifest.json"])
	tampered["manifest.json"][20] ^= 1
	if err := opensslVerify(t, tampered, rootFile); err == nil {
		t.Error("openssl accepts a changed manifest.json")
	}
	// The same pass against another root.
	_, _, otherDir := devIdentityForTest(t)
	if err := opensslVerify(t, files, filepath.Join(otherDir, DevRootFile)); err == nil {
		t.Error("openssl accepts the signature under another root")
	}
}

// TestPackageConcurrent packages passes from several goroutines at once;
// each is complete and correctly signed (run with -race).
func TestPackageConcurrent(t *testing.T) {
	t.Parallel()
	id, root, _ := devIdentityForTest(t)
	p, err := NewPackager(id, demoFilesForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			passJSON := fmt.Appendf(nil, `{"serialNumber":"%d"}`, i)
			pkpass, err := p.Package(passJSON, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			files := unzipPass(t, pkpass)
			if !bytes.Equal(files["pass.json"], passJSON) {
				t.Errorf("pass %d: another pass.json", i)
			}
			if err := checkManifest(files); err != nil {
				t.Errorf("pass %d: %v", i, err)
			}
			p7, err := pkcs7.Parse(files["signature"])
			if err != nil {
				t.Error(err)
				return
			}
			p7.Content = files["manifest.json"]
			if err := p7.VerifyWithChain(roots); err != nil {
				t.Errorf("pass %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// TestNewPackagerRefuses checks the files NewPackager refuses.
func TestNewPackagerRefuses(t *testing.T) {
	t.Parallel()
	id, _, _ := devIdentityForTest(t)
	icon := File{Name: "icon.png", Data: []byte("png")}
	for _, tc := range []struct {
		name  string
		id    Identity
		files []File
		want  string
	}{
		{"no icon", id, []File{{Name: "logo.png"}}, "icon.png"},
		{"duplicate", id, []File{icon, {Name: "de.lproj/pass.strings"}, {Name: "de.lproj/pass.strings"}}, "two files"},
		{"duplicate ignoring case", id, []File{icon, {Name: "Icon.PNG"}}, "two files"},
		{"pass.json", id, []File{icon, {Name: "pass.json"}}, "writes itself"},
		{"manifest.json", id, []File{icon, {Name: "manifest.json"}}, "writes itself"},
		{"signature", id, []File{icon, {Name: "Signature"}}, "writes itself"},
		{"absolute", id, []File{icon, {Name: "/etc/passwd"}}, "unsafe"},
		{"parent", id, []File{icon, {Name: "../icon.png"}}, "unsafe"},
		{"inner parent", id, []File{icon, {Name: "de.lproj/../../x"}}, "unsafe"},
		{"backslash", id, []File{icon, {Name: `de.lproj\pass.strings`}}, "unsafe"},
		{"empty", id, []File{icon, {Name: ""}}, "unsafe"},
		{"directory", id, []File{icon, {Name: "de.lproj/"}}, "unsafe"},
		{"no key", Identity{Certificate: id.Certificate, WWDR: id.WWDR}, []File{icon}, "identity"},
		{"no WWDR", Identity{Certificate: id.Certificate, Key: id.Key}, []File{icon}, "identity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPackager(tc.id, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPackagerKeepsItsFiles checks that changing the caller's slices
// after NewPackager does not change the passes.
func TestPackagerKeepsItsFiles(t *testing.T) {
	t.Parallel()
	id, _, _ := devIdentityForTest(t)
	files := []File{{Name: "icon.png", Data: []byte("icon")}, {Name: "en.lproj/pass.strings", Data: []byte(`"a" = "b";`)}}
	p, err := NewPackager(id, files)
	if err != nil {
		t.Fatal(err)
	}
	files[0].Data[0] = 'X'
	files[1].Data[0] = 'X'
	pkpass, err := p.Package([]byte("{}"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := unzipPass(t, pkpass)
	if string(got["icon.png"]) != "icon" || string(got["en.lproj/pass.strings"]) != `"a" = "b";` {
		t.Errorf("the pass carries the changed files: %q, %q", got["icon.png"], got["en.lproj/pass.strings"])
	}
	if err := checkManifest(got); err != nil {
		t.Error(err)
	}
}
