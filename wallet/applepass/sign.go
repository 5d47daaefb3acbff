package applepass

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/smallstep/pkcs7"
)

// Sign returns the signature file of a pass: a detached PKCS#7 SignedData
// (DER) over manifest with a SHA-256 digest, signed by id's pass
// certificate, carrying that certificate and the WWDR certificate, and
// with the signed attributes content type, message digest and signing
// time. The signing time is signingTime, to the second (UTCTime).
//
// It returns an error when id lacks a part or signing fails; it does not
// check id's validity (Validate does).
func Sign(id Identity, manifest []byte, signingTime time.Time) ([]byte, error) {
	if id.Certificate == nil || id.Key == nil || id.WWDR == nil {
		return nil, errors.New("applepass: sign: identity needs a certificate, its key and the WWDR certificate")
	}
	sd, err := pkcs7.NewSignedData(manifest)
	if err != nil {
		return nil, fmt.Errorf("applepass: sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	// pkcs7 always stamps time.Now and signs at once. It gets a signer
	// that does not sign; the signing time is then replaced and the
	// attributes signed once, with the real key.
	if err := sd.AddSigner(id.Certificate, deferredSigner{id.Key.Public()}, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("applepass: sign: %w", err)
	}
	sd.AddCertificate(id.WWDR)
	si := &sd.GetSignedData().SignerInfos[0]
	attrs := si.AuthenticatedAttributes
	encoded := make([][]byte, len(attrs))
	replaced := 0
	for i := range attrs {
		if attrs[i].Type.Equal(pkcs7.OIDAttributeSigningTime) {
			t, err := asn1.Marshal(signingTime.UTC())
			if err != nil {
				return nil, fmt.Errorf("applepass: sign: signing time: %w", err)
			}
			attrs[i].Value = asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: t}
			replaced++
		}
		if encoded[i], err = asn1.Marshal(attrs[i]); err != nil {
			return nil, fmt.Errorf("applepass: sign: %w", err)
		}
	}
	if replaced != 1 {
		return nil, fmt.Errorf("applepass: sign: pkcs7 produced %d signing-time attributes, want 1", replaced)
	}
	// DER orders a SET OF by encoding; the new time may change the order.
	order := make([]int, len(attrs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(encoded[order[a]], encoded[order[b]]) < 0 })
	reordered := attrs[:0:0]
	var set []byte
	for _, i := range order {
		reordered = append(reordered, attrs[i])
		set = append(set, encoded[i]...)
	}
	si.AuthenticatedAttributes = reordered
	signed, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: set})
	if err != nil {
		return nil, fmt.Errorf("applepass: sign: %w", err)
	}
	digest := sha256.Sum256(signed)
	if si.EncryptedDigest, err = id.Key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		return nil, fmt.Errorf("applepass: sign: %w", err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("applepass: sign: %w", err)
	}
	return der, nil
}

// deferredSigner has the public key of the signing key but does not sign:
// it lets pkcs7 lay out a SignerInfo, whose signature Sign computes after
// setting the signing time.
type deferredSigner struct{ public crypto.PublicKey }

// Public returns the signing key's public key.
func (d deferredSigner) Public() crypto.PublicKey { return d.public }

// Sign returns an empty signature, replaced later.
func (deferredSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }
