package applepass

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Identity is what signs passes: the pass type ID certificate Apple issued,
// its private key, and the Apple WWDR intermediate that issued it.
type Identity struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
	WWDR        *x509.Certificate
}

// oidUserID is the subject attribute (LDAP "UID") that carries the pass
// type identifier in Apple's pass type ID certificates.
var oidUserID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// PassTypeID returns the pass type identifier (e.g. "pass.com.example.card")
// from the certificate subject's UID attribute, or "" when there is none.
func (id Identity) PassTypeID() string {
	if id.Certificate == nil {
		return ""
	}
	for _, n := range id.Certificate.Subject.Names {
		if n.Type.Equal(oidUserID) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// TeamID returns the Apple developer team identifier, the certificate
// subject's OU, or "" when there is none.
func (id Identity) TeamID() string {
	if id.Certificate == nil || len(id.Certificate.Subject.OrganizationalUnit) == 0 {
		return ""
	}
	return id.Certificate.Subject.OrganizationalUnit[0]
}

// Validate returns nil when id can sign passes at now: all three parts are
// present, the key belongs to the certificate, the certificate carries a
// pass type ID, the WWDR certificate issued it, and both are valid at now.
// Otherwise it returns an error saying which check failed (for an expired
// certificate, when it expired).
func (id Identity) Validate(now time.Time) error {
	if id.Certificate == nil || id.Key == nil || id.WWDR == nil {
		return errors.New("identity needs a certificate, its key and the WWDR certificate")
	}
	pub, ok := id.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(id.Certificate.PublicKey) {
		return errors.New("the private key does not belong to the pass certificate")
	}
	if id.PassTypeID() == "" {
		return fmt.Errorf("certificate %q has no pass type ID (subject UID): is it a Pass Type ID certificate?", id.Certificate.Subject.CommonName)
	}
	if err := checkValidity("pass certificate", id.Certificate, now); err != nil {
		return err
	}
	if err := checkValidity("WWDR certificate", id.WWDR, now); err != nil {
		return err
	}
	if err := id.Certificate.CheckSignatureFrom(id.WWDR); err != nil {
		return fmt.Errorf("the pass certificate (issuer %q) was not issued by the WWDR certificate %q (%v): use the WWDR generation named in the pass certificate's issuer",
			id.Certificate.Issuer.String(), id.WWDR.Subject.String(), err)
	}
	return nil
}

// checkValidity returns an error when c is not valid at now.
func checkValidity(what string, c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("%s %q is not valid before %s", what, c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return fmt.Errorf("%s %q expired on %s", what, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// LoadIdentity reads a signing identity and returns it once it passes
// Validate at the current time.
//
// certFile is either PEM or PKCS#12 (.p12/.pfx, as Keychain exports it). For
// PEM, keyFile holds the private key (PKCS#1, PKCS#8 or SEC 1 EC; it may be
// empty when certFile holds the key too) and keyPassword must be empty:
// encrypted PEM keys are not supported. For PKCS#12, keyFile must be empty
// and keyPassword unlocks the file. wwdrFile is Apple's WWDR intermediate,
// PEM or DER; it may be empty when certFile carries the issuing
// intermediate.
//
// Errors name the file at fault and never contain key material.
func LoadIdentity(certFile, keyFile, keyPassword, wwdrFile string) (Identity, error) {
	id, chain, err := loadCertAndKey(certFile, keyFile, keyPassword)
	if err != nil {
		return Identity{}, err
	}
	if wwdrFile != "" {
		if id.WWDR, err = loadCertificate(wwdrFile); err != nil {
			return Identity{}, err
		}
	} else {
		for _, c := range chain {
			if id.Certificate.CheckSignatureFrom(c) == nil {
				id.WWDR = c
				break
			}
		}
		if id.WWDR == nil {
			return Identity{}, fmt.Errorf("applepass: %s carries no issuing certificate: name Apple's WWDR certificate file", certFile)
		}
	}
	if err := id.Validate(time.Now()); err != nil {
		files := certFile
		for _, f := range []string{keyFile, wwdrFile} {
			if f != "" {
				files += ", " + f
			}
		}
		return Identity{}, fmt.Errorf("applepass: identity from %s: %w", files, err)
	}
	return id, nil
}

// loadCertAndKey returns the pass certificate and key from certFile (and
// keyFile), leaving WWDR unset, plus any further certificates certFile
// holds.
func loadCertAndKey(certFile, keyFile, keyPassword string) (Identity, []*x509.Certificate, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("applepass: pass certificate: %w", err)
	}
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		if keyFile != "" {
			return Identity{}, nil, fmt.Errorf("applepass: %s is PKCS#12, which holds the key: leave the key file empty", certFile)
		}
		return loadPKCS12(certFile, data, keyPassword)
	}
	if keyPassword != "" {
		return Identity{}, nil, fmt.Errorf("applepass: a key password only applies to PKCS#12 files, and %s is PEM", certFile)
	}
	certs, key, err := parsePEM(data)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("applepass: %s: %w", certFile, err)
	}
	if len(certs) == 0 {
		return Identity{}, nil, fmt.Errorf("applepass: %s holds no CERTIFICATE block", certFile)
	}
	if keyFile != "" {
		keyData, err := os.ReadFile(keyFile)
		if err != nil {
			return Identity{}, nil, fmt.Errorf("applepass: pass key: %w", err)
		}
		if _, key, err = parsePEM(keyData); err != nil {
			return Identity{}, nil, fmt.Errorf("applepass: %s: %w", keyFile, err)
		}
		if key == nil {
			return Identity{}, nil, fmt.Errorf("applepass: %s holds no private key block", keyFile)
		}
	}
	if key == nil {
		return Identity{}, nil, fmt.Errorf("applepass: no key file given and %s holds no private key", certFile)
	}
	return Identity{Certificate: certs[0], Key: key}, certs[1:], nil
}

// loadPKCS12 returns the certificate, key and chain of a PKCS#12 file.
func loadPKCS12(name string, data []byte, password string) (Identity, []*x509.Certificate, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return Identity{}, nil, fmt.Errorf("applepass: %s: wrong password", name)
		}
		return Identity{}, nil, fmt.Errorf("applepass: %s is neither PEM nor a readable PKCS#12 file: %w", name, err)
	}
	signer, err := asSigner(key)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("applepass: %s: %w", name, err)
	}
	return Identity{Certificate: cert, Key: signer}, chain, nil
}

// parsePEM returns the certificates and the first private key in data.
// Encrypted keys are an error.
func parsePEM(data []byte) ([]*x509.Certificate, crypto.Signer, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, key, nil
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("the private key is encrypted: decrypt it (openssl pkey) or use a .p12 file")
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			if key != nil {
				continue
			}
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, nil, errors.New("the private key is encrypted: decrypt it (openssl pkey) or use a .p12 file")
			}
			k, err := parsePrivateKey(block)
			if err != nil {
				return nil, nil, err
			}
			key = k
		}
	}
}

// parsePrivateKey returns the key of a PKCS#1, SEC 1 or PKCS#8 PEM block.
// Its errors do not quote the block.
func parsePrivateKey(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("unreadable %s block", block.Type)
	}
	return asSigner(key)
}

// asSigner returns key as a crypto.Signer if it is an RSA or ECDSA private
// key, the kinds PKCS#7 signing supports (Apple issues RSA ones).
func asSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T: use RSA or ECDSA", key)
}

// loadCertificate returns the first certificate of a PEM or DER file.
func loadCertificate(name string) (*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("applepass: WWDR certificate: %w", err)
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("applepass: %s: first PEM block is %s, not CERTIFICATE", name, block.Type)
		}
		data = block.Bytes
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("applepass: %s is no PEM or DER certificate: %w", name, err)
	}
	return c, nil
}
