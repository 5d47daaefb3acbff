package applepass

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// The development identity: a pass type ID of our own, issued by a
// stand-in WWDR under a root CA of our own. Passes it signs open in tools
// that check the signature against dev-root.pem, never on a real iPhone.
const (
	DevPassTypeID = "pass.dev.treue.demo"
	DevTeamID     = "TREUEDEV00"
)

// The files of the development identity in its directory.
const (
	DevRootFile     = "dev-root.pem"
	DevWWDRFile     = "dev-wwdr.pem"
	DevPassCertFile = "dev-pass.pem"
	DevPassKeyFile  = "dev-pass-key.pem"
)

const (
	// devCALifetime and devPassLifetime are how long created certificates
	// are valid.
	devCALifetime   = 10 * 365 * 24 * time.Hour
	devPassLifetime = 2 * 365 * 24 * time.Hour
	// devRenewBefore is how long before expiry LoadOrCreateDevIdentity
	// replaces the certificates, so a running server never signs with an
	// expired one.
	devRenewBefore = 30 * 24 * time.Hour
)

// LoadOrCreateDevIdentity returns the development identity kept in dir and
// its root certificate, creating them when needed; created reports whether
// it did.
//
// It creates dir (0700) if missing and writes DevRootFile, DevWWDRFile,
// DevPassCertFile and DevPassKeyFile (all 0600), each atomically (temp file
// and rename) under a lock file, so processes starting together agree on
// one identity. When the files are missing, incomplete, unreadable,
// inconsistent (the key does not match, the chain does not lead to the
// root) or valid for less than 30 more days at now, all four are replaced
// by new ones: they are disposable, and no real device trusts them. It
// touches no other file of dir. It returns an error when dir cannot be
// created or written, or the lock is not released within 20 seconds.
func LoadOrCreateDevIdentity(dir string, now time.Time) (id Identity, root *x509.Certificate, created bool, err error) {
	if id, root, err := loadDevIdentity(dir, now); err == nil {
		return id, root, false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Identity{}, nil, false, fmt.Errorf("applepass: dev identity: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return Identity{}, nil, false, fmt.Errorf("applepass: dev identity: %w", err)
	}
	defer unlock()
	// Another process may have created them while this one waited.
	if id, root, err := loadDevIdentity(dir, now); err == nil {
		return id, root, false, nil
	}
	id, root, files, err := newDevIdentity(now)
	if err != nil {
		return Identity{}, nil, false, fmt.Errorf("applepass: dev identity: %w", err)
	}
	for _, name := range []string{DevRootFile, DevWWDRFile, DevPassKeyFile, DevPassCertFile} {
		if err := writeFileAtomic(filepath.Join(dir, name), files[name]); err != nil {
			return Identity{}, nil, false, fmt.Errorf("applepass: dev identity: %w", err)
		}
	}
	return id, root, true, nil
}

// loadDevIdentity returns the identity in dir if it is complete,
// consistent and valid for at least devRenewBefore after now.
func loadDevIdentity(dir string, now time.Time) (Identity, *x509.Certificate, error) {
	id, _, err := loadCertAndKey(filepath.Join(dir, DevPassCertFile), filepath.Join(dir, DevPassKeyFile), "")
	if err != nil {
		return Identity{}, nil, err
	}
	if id.WWDR, err = loadCertificate(filepath.Join(dir, DevWWDRFile)); err != nil {
		return Identity{}, nil, err
	}
	root, err := loadCertificate(filepath.Join(dir, DevRootFile))
	if err != nil {
		return Identity{}, nil, err
	}
	for _, t := range []time.Time{now, now.Add(devRenewBefore)} {
		if err := id.Validate(t); err != nil {
			return Identity{}, nil, err
		}
		if err := checkValidity("root certificate", root, t); err != nil {
			return Identity{}, nil, err
		}
	}
	if err := id.WWDR.CheckSignatureFrom(root); err != nil {
		return Identity{}, nil, fmt.Errorf("%s was not issued by %s: %w", DevWWDRFile, DevRootFile, err)
	}
	return id, root, nil
}

// newDevIdentity returns a new development identity, its root and the
// PEM contents of its files by name.
func newDevIdentity(now time.Time) (Identity, *x509.Certificate, map[string][]byte, error) {
	notBefore := now.Add(-time.Hour).UTC()
	// RSA throughout, as Apple's chain is: tools built on node-forge (such
	// as passkit-generator) read no other keys.
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	root, err := createCertificate(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "Treue DEV root CA — NOT trusted by any iPhone", Organization: []string{"Treue DEV"}},
		NotBefore:             notBefore,
		NotAfter:              now.Add(devCALifetime).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil, rootKey.Public(), rootKey)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	wwdrKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	// Mirrors Apple's "Apple Worldwide Developer Relations Certification
	// Authority", OU G4. The pass certificate's issuer name is ASCII, as
	// Apple's is: node-forge mangles other names in a signature's
	// issuerAndSerialNumber, and OpenSSL then finds no signer.
	wwdr, err := createCertificate(&x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Treue DEV Worldwide Developer Relations stand-in - NOT Apple",
			OrganizationalUnit: []string{"G4"},
			Organization:       []string{"Treue DEV"},
		},
		NotBefore:             notBefore,
		NotAfter:              now.Add(devCALifetime).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}, root, wwdrKey.Public(), rootKey)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	passKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	pass, err := createCertificate(&x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Pass Type ID: " + DevPassTypeID + " (DEV, unusable on a real iPhone)",
			OrganizationalUnit: []string{DevTeamID},
			Organization:       []string{"Treue DEV"},
			ExtraNames:         []pkix.AttributeTypeAndValue{{Type: oidUserID, Value: DevPassTypeID}},
		},
		NotBefore:   notBefore,
		NotAfter:    now.Add(devPassLifetime).UTC(),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, wwdr, passKey.Public(), wwdrKey)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(passKey)
	if err != nil {
		return Identity{}, nil, nil, err
	}
	files := map[string][]byte{
		DevRootFile:     pemCertificate(root),
		DevWWDRFile:     pemCertificate(wwdr),
		DevPassCertFile: pemCertificate(pass),
		DevPassKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	return Identity{Certificate: pass, Key: passKey, WWDR: wwdr}, root, files, nil
}

// createCertificate returns a certificate from template with a random
// serial number, signed by parentKey as parent (self-signed for a nil
// parent).
func createCertificate(template, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	template.SerialNumber = serial
	if parent == nil {
		parent = template
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// pemCertificate returns c as a PEM CERTIFICATE block.
func pemCertificate(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// writeFileAtomic writes data to name (0600) through a temporary file in
// the same directory and a rename, so readers see the old file or the new
// one, never part of it.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// lockDir takes dir's lock file, waiting while another process holds it,
// and returns the function that releases it. A lock older than
// staleLockAge is left from a crashed process and is broken. It returns
// an error when the lock cannot be taken within lockWait.
func lockDir(dir string) (unlock func(), err error) {
	const (
		lockWait     = 20 * time.Second
		staleLockAge = time.Minute
	)
	name := filepath.Join(dir, ".dev-certs.lock")
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > staleLockAge {
			os.Remove(name)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is held by another process; remove it if none is running", name)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
