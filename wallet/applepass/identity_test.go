package applepass

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// identityFiles is a test identity and the directory its files go to.
type identityFiles struct {
	dir      string
	wwdrCert *x509.Certificate
	passCert *x509.Certificate
}

// newIdentityFiles returns a WWDR stand-in and a pass certificate for key
// issued by it, after edit changes the pass certificate's template.
func newIdentityFiles(t *testing.T, key crypto.Signer, edit func(*x509.Certificate)) *identityFiles {
	t.Helper()
	wwdrKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	wwdr, err := createCertificate(&x509.Certificate{
		Subject:   pkix.Name{CommonName: "Test WWDR", OrganizationalUnit: []string{"G4"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}, nil, wwdrKey.Public(), wwdrKey)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Pass Type ID: pass.test.card",
			OrganizationalUnit: []string{"TEAM123456"},
			ExtraNames:         []pkix.AttributeTypeAndValue{{Type: oidUserID, Value: "pass.test.card"}},
		},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if edit != nil {
		edit(tmpl)
	}
	pass, err := createCertificate(tmpl, wwdr, key.Public(), wwdrKey)
	if err != nil {
		t.Fatal(err)
	}
	return &identityFiles{dir: t.TempDir(), wwdrCert: wwdr, passCert: pass}
}

// write writes data to name in the files' directory and returns its path.
func (f *identityFiles) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rsaKeyForTest(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKeyForTest(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// TestLoadIdentity loads identities in each supported form.
func TestLoadIdentity(t *testing.T) {
	t.Parallel()
	rsaKey := rsaKeyForTest(t)
	ecKey := ecKeyForTest(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   crypto.Signer
		files func(t *testing.T, f *identityFiles) (cert, key, password, wwdr string)
	}{
		{"PEM with PKCS#1 key, DER WWDR", rsaKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			return f.write(t, "pass.pem", pemBlock("CERTIFICATE", f.passCert.Raw)),
				f.write(t, "key.pem", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))), "",
				f.write(t, "wwdr.cer", f.wwdrCert.Raw)
		}},
		{"PEM with PKCS#8 key, PEM WWDR", rsaKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			return f.write(t, "pass.pem", pemBlock("CERTIFICATE", f.passCert.Raw)),
				f.write(t, "key.pem", pemBlock("PRIVATE KEY", pkcs8)), "",
				f.write(t, "wwdr.pem", pemBlock("CERTIFICATE", f.wwdrCert.Raw))
		}},
		{"PEM with EC key", ecKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			return f.write(t, "pass.pem", pemBlock("CERTIFICATE", f.passCert.Raw)),
				f.write(t, "key.pem", pemBlock("EC PRIVATE KEY", sec1)), "",
				f.write(t, "wwdr.pem", pemBlock("CERTIFICATE", f.wwdrCert.Raw))
		}},
		{"one PEM file with certificate, key and WWDR", rsaKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			all := append(append(pemBlock("CERTIFICATE", f.passCert.Raw), pemBlock("PRIVATE KEY", pkcs8)...), pemBlock("CERTIFICATE", f.wwdrCert.Raw)...)
			return f.write(t, "all.pem", all), "", "", ""
		}},
		{"PKCS#12 with WWDR file", rsaKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			p12, err := pkcs12.Modern.Encode(rsaKey, f.passCert, nil, "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			return f.write(t, "pass.p12", p12), "", "s3cret", f.write(t, "wwdr.cer", f.wwdrCert.Raw)
		}},
		{"PKCS#12 carrying WWDR", rsaKey, func(t *testing.T, f *identityFiles) (string, string, string, string) {
			p12, err := pkcs12.Modern.Encode(rsaKey, f.passCert, []*x509.Certificate{f.wwdrCert}, "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			return f.write(t, "pass.pfx", p12), "", "s3cret", ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newIdentityFiles(t, tc.key, nil)
			id, err := LoadIdentity(tc.files(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if id.PassTypeID() != "pass.test.card" || id.TeamID() != "TEAM123456" {
				t.Errorf("PassTypeID %q, TeamID %q", id.PassTypeID(), id.TeamID())
			}
			if !id.Certificate.Equal(f.passCert) || !id.WWDR.Equal(f.wwdrCert) {
				t.Error("loaded other certificates")
			}
			if !id.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key.Public()) {
				t.Error("loaded another key")
			}
			if _, err := Sign(id, []byte("{}"), time.Now()); err != nil {
				t.Errorf("cannot sign with the loaded identity: %v", err)
			}
		})
	}
}

// TestLoadIdentityErrors checks that bad identities are refused with an
// error that names the file and the problem, and never quotes the key.
func TestLoadIdentityErrors(t *testing.T) {
	t.Parallel()
	key := ecKeyForTest(t)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pemBlock("PRIVATE KEY", der)
	keyBody := strings.Split(string(keyPEM), "\n")[1]
	good := newIdentityFiles(t, key, nil)
	cert := good.write(t, "pass.pem", pemBlock("CERTIFICATE", good.passCert.Raw))
	keyFile := good.write(t, "key.pem", keyPEM)
	wwdr := good.write(t, "wwdr.pem", pemBlock("CERTIFICATE", good.wwdrCert.Raw))
	if _, err := LoadIdentity(cert, keyFile, "", wwdr); err != nil {
		t.Fatalf("the good identity does not load: %v", err)
	}
	other := newIdentityFiles(t, key, nil)

	for _, tc := range []struct {
		name  string
		files func(t *testing.T) (cert, key, password, wwdr string)
		want  []string
	}{
		{"key of another certificate", func(t *testing.T) (string, string, string, string) {
			otherKey, _ := x509.MarshalPKCS8PrivateKey(ecKeyForTest(t))
			return cert, good.write(t, "other-key.pem", pemBlock("PRIVATE KEY", otherKey)), "", wwdr
		}, []string{"other-key.pem", "does not belong"}},
		{"expired certificate", func(t *testing.T) (string, string, string, string) {
			f := newIdentityFiles(t, key, func(c *x509.Certificate) {
				c.NotBefore, c.NotAfter = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
			})
			return f.write(t, "expired.pem", pemBlock("CERTIFICATE", f.passCert.Raw)), keyFile, "",
				f.write(t, "wwdr.pem", pemBlock("CERTIFICATE", f.wwdrCert.Raw))
		}, []string{"expired.pem", "expired on 2021-03-04T05:06:07Z"}},
		{"certificate without pass type ID", func(t *testing.T) (string, string, string, string) {
			f := newIdentityFiles(t, key, func(c *x509.Certificate) { c.Subject.ExtraNames = nil })
			return f.write(t, "nouid.pem", pemBlock("CERTIFICATE", f.passCert.Raw)), keyFile, "",
				f.write(t, "wwdr.pem", pemBlock("CERTIFICATE", f.wwdrCert.Raw))
		}, []string{"nouid.pem", "no pass type ID"}},
		{"WWDR that did not issue the certificate", func(t *testing.T) (string, string, string, string) {
			return cert, keyFile, "", other.write(t, "other-wwdr.pem", pemBlock("CERTIFICATE", other.wwdrCert.Raw))
		}, []string{"other-wwdr.pem", "not issued by"}},
		{"password for a PEM file", func(*testing.T) (string, string, string, string) {
			return cert, keyFile, "pw", wwdr
		}, []string{"pass.pem", "PKCS#12"}},
		{"encrypted PEM key", func(t *testing.T) (string, string, string, string) {
			return cert, good.write(t, "enc.pem", pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})), "", wwdr
		}, []string{"enc.pem", "encrypted"}},
		{"damaged PEM key", func(t *testing.T) (string, string, string, string) {
			return cert, good.write(t, "bad-key.pem", pemBlock("PRIVATE KEY", der[:len(der)-9])), "", wwdr
		}, []string{"bad-key.pem", "unreadable"}},
		{"key file without key", func(t *testing.T) (string, string, string, string) {
			return cert, wwdr, "", wwdr
		}, []string{"wwdr.pem", "no private key"}},
		{"no key anywhere", func(*testing.T) (string, string, string, string) {
			return cert, "", "", wwdr
		}, []string{"pass.pem", "no private key"}},
		{"missing certificate file", func(*testing.T) (string, string, string, string) {
			return filepath.Join(good.dir, "missing.pem"), keyFile, "", wwdr
		}, []string{"missing.pem"}},
		{"missing WWDR", func(*testing.T) (string, string, string, string) {
			return cert, keyFile, "", ""
		}, []string{"pass.pem", "WWDR"}},
		{"PKCS#12 with wrong password", func(t *testing.T) (string, string, string, string) {
			p12, err := pkcs12.Modern.Encode(key, good.passCert, nil, "right")
			if err != nil {
				t.Fatal(err)
			}
			return good.write(t, "pass.p12", p12), "", "wrong", wwdr
		}, []string{"pass.p12", "wrong password"}},
		{"PKCS#12 with a key file", func(t *testing.T) (string, string, string, string) {
			p12, err := pkcs12.Modern.Encode(key, good.passCert, nil, "right")
			if err != nil {
				t.Fatal(err)
			}
			return good.write(t, "pass2.p12", p12), keyFile, "right", wwdr
		}, []string{"pass2.p12", "PKCS#12"}},
		{"garbage certificate file", func(t *testing.T) (string, string, string, string) {
			return good.write(t, "garbage.p12", []byte("not a certificate")), "", "", wwdr
		}, []string{"garbage.p12", "neither PEM nor"}},
		{"garbage WWDR file", func(t *testing.T) (string, string, string, string) {
			return cert, keyFile, "", good.write(t, "garbage.cer", []byte("not a certificate"))
		}, []string{"garbage.cer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadIdentity(tc.files(t))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), keyBody[:24]) {
				t.Errorf("error quotes the key: %q", err)
			}
		})
	}
}

// TestIdentityWithoutCertificate checks the accessors of an empty
// Identity and that Validate refuses it.
func TestIdentityWithoutCertificate(t *testing.T) {
	t.Parallel()
	var id Identity
	if id.PassTypeID() != "" || id.TeamID() != "" {
		t.Error("empty identity has a pass type or team ID")
	}
	if id.Validate(time.Now()) == nil {
		t.Error("empty identity is valid")
	}
}
