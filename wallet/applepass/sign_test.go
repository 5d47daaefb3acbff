package applepass

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// TestSign parses signatures made at several times, including ones whose
// time encodes as GeneralizedTime and so sorts differently: each carries
// exactly one signing time, the given one, the manifest's digest, both
// certificates, and verifies against the root.
func TestSign(t *testing.T) {
	t.Parallel()
	manifest := []byte(`{"pass.json":"0123456789abcdef0123456789abcdef01234567"}`)
	for _, at := range []time.Time{
		time.Now().Truncate(time.Second),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.FixedZone("CET", 3600)),
		time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		// pkcs7 checks that the signing time is within the certificate's
		// validity.
		id, root, _, err := LoadOrCreateDevIdentity(t.TempDir(), at)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(root)
		der, err := Sign(id, manifest, at)
		if err != nil {
			t.Fatal(err)
		}
		p7, err := pkcs7.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if len(p7.Content) != 0 {
			t.Errorf("%v: signature is not detached: carries %d bytes of content", at, len(p7.Content))
		}
		if len(p7.Signers) != 1 {
			t.Fatalf("%v: %d signers, want 1", at, len(p7.Signers))
		}
		count := map[string]int{}
		for _, a := range p7.Signers[0].AuthenticatedAttributes {
			count[a.Type.String()]++
		}
		for _, oid := range []asn1.ObjectIdentifier{pkcs7.OIDAttributeContentType, pkcs7.OIDAttributeMessageDigest, pkcs7.OIDAttributeSigningTime} {
			if count[oid.String()] != 1 {
				t.Errorf("%v: %d attributes %v, want 1", at, count[oid.String()], oid)
			}
		}
		var signed time.Time
		if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &signed); err != nil {
			t.Fatal(err)
		}
		if !signed.Equal(at) {
			t.Errorf("signing time %v, want %v", signed, at)
		}
		var digest []byte
		if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &digest); err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(manifest); !bytes.Equal(digest, want[:]) {
			t.Errorf("message digest %x, want SHA-256 %x", digest, want)
		}
		if len(p7.Certificates) != 2 || !p7.Certificates[0].Equal(id.Certificate) || !p7.Certificates[1].Equal(id.WWDR) {
			t.Errorf("%v: certificates are not [pass, WWDR]", at)
		}
		if s := p7.GetOnlySigner(); s == nil || !s.Equal(id.Certificate) {
			t.Errorf("%v: signer is not the pass certificate", at)
		}
		p7.Content = manifest
		if err := p7.VerifyWithChainAtTime(roots, at); err != nil {
			t.Errorf("%v: %v", at, err)
		}
		p7.Content = append(bytes.Clone(manifest), ' ')
		if err := p7.VerifyWithChainAtTime(roots, at); err == nil {
			t.Errorf("%v: verifies against other content", at)
		}
	}
}

// TestSignIncompleteIdentity checks that Sign refuses an identity that
// lacks a part.
func TestSignIncompleteIdentity(t *testing.T) {
	t.Parallel()
	id, _, _ := devIdentityForTest(t)
	for _, bad := range []Identity{{Key: id.Key, WWDR: id.WWDR}, {Certificate: id.Certificate, WWDR: id.WWDR}, {Certificate: id.Certificate, Key: id.Key}} {
		if _, err := Sign(bad, []byte("{}"), time.Now()); err == nil {
			t.Errorf("Sign with %+v succeeded", bad)
		}
	}
}
