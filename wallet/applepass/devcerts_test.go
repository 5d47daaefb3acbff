package applepass

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// devIdentityForTest returns a new development identity in a temporary
// directory, its root, and the directory.
func devIdentityForTest(t testing.TB) (Identity, *x509.Certificate, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dev-certs")
	id, root, created, err := LoadOrCreateDevIdentity(dir, time.Now())
	if err != nil || !created {
		t.Fatalf("LoadOrCreateDevIdentity: created %v, %v", created, err)
	}
	return id, root, dir
}

// TestDevIdentity checks what a new development identity is, the files it
// is kept in, and that the next call loads it.
func TestDevIdentity(t *testing.T) {
	t.Parallel()
	id, root, dir := devIdentityForTest(t)
	if got := id.PassTypeID(); got != DevPassTypeID {
		t.Errorf("PassTypeID = %q, want %q", got, DevPassTypeID)
	}
	if got := id.TeamID(); got != DevTeamID {
		t.Errorf("TeamID = %q, want %q", got, DevTeamID)
	}
	if cn := id.Certificate.Subject.CommonName; cn != "Pass Type ID: pass.dev.treue.demo (DEV, unusable on a real iPhone)" {
		t.Errorf("pass certificate CN = %q", cn)
	}
	if cn := root.Subject.CommonName; cn != "Treue DEV root CA — NOT trusted by any iPhone" {
		t.Errorf("root CN = %q", cn)
	}
	if err := id.Validate(time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, r := range id.Certificate.Issuer.String() {
		if r < ' ' || r > '~' {
			t.Errorf("pass certificate issuer %q is not ASCII; node-forge would mangle it", id.Certificate.Issuer)
			break
		}
	}
	if _, ok := id.WWDR.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("WWDR key is %T, want RSA as Apple's (node-forge reads no other)", id.WWDR.PublicKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	inter.AddCert(id.WWDR)
	if _, err := id.Certificate.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("pass certificate does not chain to the root: %v", err)
	}

	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	for _, name := range []string{DevRootFile, DevWWDRFile, DevPassCertFile, DevPassKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", name, fi.Mode().Perm(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("dir holds %d entries, want the 4 files (no temp or lock file left)", len(entries))
	}

	again, root2, created, err := LoadOrCreateDevIdentity(dir, time.Now())
	if err != nil || created {
		t.Fatalf("second call: created %v, %v", created, err)
	}
	if !again.Certificate.Equal(id.Certificate) || !again.WWDR.Equal(id.WWDR) || !root2.Equal(root) {
		t.Error("second call returned other certificates")
	}
	if !again.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(id.Key.Public()) {
		t.Error("second call returned another key")
	}
}

// TestDevIdentityReplaced checks that a damaged, incomplete, mismatched or
// expiring identity is replaced by a new, valid one (the documented
// choice: these files are disposable).
func TestDevIdentityReplaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		now    time.Time
	}{
		{"corrupt certificate", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, DevPassCertFile), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
		}, time.Now()},
		{"truncated key", func(t *testing.T, dir string) {
			key, _ := os.ReadFile(filepath.Join(dir, DevPassKeyFile))
			os.WriteFile(filepath.Join(dir, DevPassKeyFile), key[:len(key)/2], 0o600)
		}, time.Now()},
		{"missing root", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, DevRootFile))
		}, time.Now()},
		{"root of another identity", func(t *testing.T, dir string) {
			_, _, other := devIdentityForTest(t)
			data, _ := os.ReadFile(filepath.Join(other, DevRootFile))
			os.WriteFile(filepath.Join(dir, DevRootFile), data, 0o600)
		}, time.Now()},
		{"expiring in ten days", func(*testing.T, string) {}, time.Now().Add(devPassLifetime - 10*24*time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			old, _, dir := devIdentityForTest(t)
			tc.damage(t, dir)
			id, root, created, err := LoadOrCreateDevIdentity(dir, tc.now)
			if err != nil || !created {
				t.Fatalf("created %v, %v; want a new identity", created, err)
			}
			if id.Certificate.Equal(old.Certificate) {
				t.Error("the old certificate was kept")
			}
			if err := id.Validate(tc.now.Add(devRenewBefore)); err != nil {
				t.Error(err)
			}
			if err := id.WWDR.CheckSignatureFrom(root); err != nil {
				t.Error(err)
			}
			loaded, _, created, err := LoadOrCreateDevIdentity(dir, tc.now)
			if err != nil || created || !loaded.Certificate.Equal(id.Certificate) {
				t.Errorf("the new identity was not kept: created %v, %v", created, err)
			}
		})
	}
}

// TestDevIdentityConcurrent starts several creators on one empty
// directory at once: exactly one creates, all get the same identity.
func TestDevIdentityConcurrent(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dev-certs")
	const n = 6
	var wg sync.WaitGroup
	ids := make([]Identity, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { ids[i], _, created[i], errs[i] = LoadOrCreateDevIdentity(dir, time.Now()) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if created[i] {
			creators++
		}
		if !bytes.Equal(ids[i].Certificate.Raw, ids[0].Certificate.Raw) {
			t.Errorf("caller %d got another certificate", i)
		}
	}
	if creators != 1 {
		t.Errorf("%d callers created the identity, want 1", creators)
	}
	if _, _, again, err := LoadOrCreateDevIdentity(dir, time.Now()); err != nil || again {
		t.Errorf("after the race: created %v, %v", again, err)
	}
}
