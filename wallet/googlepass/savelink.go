package googlepass

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/walletobjects/v1"
)

// SaveURLPrefix starts every save link; the signed JWT follows it.
const SaveURLPrefix = "https://pay.google.com/gp/v/save/"

// MaxJWTLength is the longest JWT SaveLink puts in a link, in bytes:
// Google's "Issuing passes for web, email, SMS" guide gives 1800
// characters as the maximum safe length, since longer links are cut off
// by some browsers and mail clients. An RS256 signature takes 342 of them.
const MaxJWTLength = 1800

// MaxOrigins bounds the origins a Signer puts in each JWT. Google documents
// no limit; every origin lengthens every link.
const MaxOrigins = 10

// ErrLinkTooLong is returned by SaveLink when the JWT would be longer than
// MaxJWTLength. The cure is a smaller object: insert the full object with
// the Wallet REST API and put only its id and class id in the link (a
// "skinny JWT").
var ErrLinkTooLong = errors.New("googlepass: save link JWT longer than Google's safe length")

// jwtEncoding is base64url without padding, as JWTs use (RFC 7515 §2).
var jwtEncoding = base64.RawURLEncoding

// The fixed claims after "iat" around the one object. Keys appear in the
// order Google's JWT reference lists them: iss, aud, typ, origins, iat,
// payload.
const (
	claimsBeforeObject = `,"payload":{"loyaltyObjects":[`
	claimsAfterObject  = `]}}`
)

// Signer makes signed "Add to Google Wallet" links for one account. It is
// safe for concurrent use.
//
// Its JWTs carry iss, aud "google", typ "savetowallet", iat, origins and a
// payload with exactly one loyalty object, as Google's JWT reference lists
// them. They have no exp: Google documents none for save links, and a link
// only ever saves the object it was made for, which the member may save
// again whenever they like.
type Signer struct {
	key *rsa.PrivateKey
	// objectIDPrefix is "<issuer id>.", with which object and class ids
	// must start.
	objectIDPrefix string
	// head is the encoded header and its '.', the same for every JWT.
	head string
	// claimsHead is the claims' JSON up to and including `"iat":`.
	claimsHead []byte
	// sigLen is the length of an encoded signature.
	sigLen int
}

// NewSigner returns a Signer that signs with acct's key and names origins,
// the web origins pages showing the "Add to Google Wallet" button are
// served from (empty for links sent only by email or SMS).
//
// Each origin must be "https://host[:port]", or "http://" with host
// localhost, 127.0.0.1 or [::1], with no path, query or fragment; they are
// used lowercased. It returns an error when there are more than MaxOrigins
// origins, one is malformed or repeated, acct has no key or one shorter
// than 2048 bits or not valid, acct.Email is not an address, acct.KeyID
// holds other than ASCII letters, digits, '-' and '_', or acct.IssuerID is
// not valid (ValidIssuerID).
func NewSigner(acct Account, origins []string) (*Signer, error) {
	if err := checkAccount(acct); err != nil {
		return nil, fmt.Errorf("googlepass: signer: %w", err)
	}
	if len(origins) > MaxOrigins {
		return nil, fmt.Errorf("googlepass: signer: %d origins, at most %d", len(origins), MaxOrigins)
	}
	clean := make([]string, 0, len(origins))
	for _, o := range origins {
		c, err := cleanOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("googlepass: signer: %w", err)
		}
		for _, seen := range clean {
			if seen == c {
				return nil, fmt.Errorf("googlepass: signer: origin %q given twice", o)
			}
		}
		clean = append(clean, c)
	}

	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid,omitempty"`
	}{"RS256", "JWT", acct.KeyID})
	if err != nil {
		return nil, fmt.Errorf("googlepass: signer: %w", err)
	}
	email, err := json.Marshal(acct.Email)
	if err != nil {
		return nil, fmt.Errorf("googlepass: signer: %w", err)
	}
	originsJSON, err := json.Marshal(clean) // [] when empty: Google requires the claim
	if err != nil {
		return nil, fmt.Errorf("googlepass: signer: %w", err)
	}
	claimsHead := make([]byte, 0, 64+len(email)+len(originsJSON))
	claimsHead = append(claimsHead, `{"iss":`...)
	claimsHead = append(claimsHead, email...)
	claimsHead = append(claimsHead, `,"aud":"google","typ":"savetowallet","origins":`...)
	claimsHead = append(claimsHead, originsJSON...)
	claimsHead = append(claimsHead, `,"iat":`...)

	return &Signer{
		key:            acct.Key,
		objectIDPrefix: acct.IssuerID + ".",
		head:           jwtEncoding.EncodeToString(header) + ".",
		claimsHead:     claimsHead,
		sigLen:         jwtEncoding.EncodedLen(acct.Key.Size()),
	}, nil
}

// SaveLink returns the "Add to Google Wallet" link for obj: SaveURLPrefix
// followed by a JWT issued at now (to the second) whose payload holds obj
// as its only loyalty object, signed RS256 with the Signer's key.
//
// It returns an error when obj is nil, obj.Id or obj.ClassId is not the
// Signer's issuer id, '.' and more, now is the zero time, obj cannot be
// encoded, or signing fails; and an error wrapping ErrLinkTooLong, before
// signing, when the JWT would be longer than MaxJWTLength.
func (s *Signer) SaveLink(obj *walletobjects.LoyaltyObject, now time.Time) (link string, err error) {
	if obj == nil {
		return "", errors.New("googlepass: save link: no loyalty object")
	}
	if !s.ownID(obj.Id) {
		return "", fmt.Errorf("googlepass: save link: object id %q does not start with issuer prefix %q", clipForError(obj.Id, 120), s.objectIDPrefix)
	}
	if !s.ownID(obj.ClassId) {
		return "", fmt.Errorf("googlepass: save link: object %q: class id %q does not start with issuer prefix %q", obj.Id, clipForError(obj.ClassId, 120), s.objectIDPrefix)
	}
	if now.IsZero() {
		return "", errors.New("googlepass: save link: zero issue time")
	}
	objJSON, err := obj.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("googlepass: save link: object %q: %w", obj.Id, err)
	}

	claims := make([]byte, 0, len(s.claimsHead)+20+len(claimsBeforeObject)+len(objJSON)+len(claimsAfterObject))
	claims = append(claims, s.claimsHead...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, claimsBeforeObject...)
	claims = append(claims, objJSON...)
	claims = append(claims, claimsAfterObject...)

	signedLen := len(s.head) + jwtEncoding.EncodedLen(len(claims))
	jwtLen := signedLen + 1 + s.sigLen
	if jwtLen > MaxJWTLength {
		return "", fmt.Errorf("%w: object %q makes a %d-byte JWT, at most %d", ErrLinkTooLong, obj.Id, jwtLen, MaxJWTLength)
	}

	// The link is built in one buffer: prefix, header, claims, signature.
	buf := make([]byte, len(SaveURLPrefix)+jwtLen)
	n := copy(buf, SaveURLPrefix)
	n += copy(buf[n:], s.head)
	jwtEncoding.Encode(buf[n:], claims)
	signed := buf[len(SaveURLPrefix) : len(SaveURLPrefix)+signedLen]
	digest := sha256.Sum256(signed)
	// PKCS #1 v1.5 signatures are deterministic: no randomness is used.
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("googlepass: save link: object %q: signing: %w", obj.Id, err)
	}
	n = len(SaveURLPrefix) + signedLen
	buf[n] = '.'
	jwtEncoding.Encode(buf[n+1:], sig)
	return string(buf), nil
}

// ownID reports whether id is one of the Signer's issuer: its issuer id,
// '.', and at least one more character.
func (s *Signer) ownID(id string) bool {
	return len(id) > len(s.objectIDPrefix) && strings.HasPrefix(id, s.objectIDPrefix)
}

// checkAccount returns an error saying what is wrong with acct for
// signing, or nil.
func checkAccount(acct Account) error {
	if err := ValidIssuerID(acct.IssuerID); err != nil {
		return err
	}
	if !plausibleEmail(acct.Email) {
		return fmt.Errorf("account email %q is not an address", clipForError(acct.Email, 80))
	}
	if !validKeyID(acct.KeyID) {
		return errors.New("account key id holds characters other than ASCII letters, digits, '-' and '_'")
	}
	if acct.Key == nil {
		return errors.New("account has no key")
	}
	if bits := acct.Key.N.BitLen(); bits < minRSABits {
		return fmt.Errorf("account key has %d bits, want at least %d", bits, minRSABits)
	}
	if err := acct.Key.Validate(); err != nil {
		return errors.New("account key is not a valid RSA key")
	}
	return nil
}

// cleanOrigin returns origin lowercased if it is "https://host[:port]" or
// an http origin on the local machine, else an error.
func cleanOrigin(origin string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("origin %q: %s; want https://host[:port] or http://localhost[:port]", clipForError(origin, 120), why)
	}
	u, err := url.Parse(origin)
	if err != nil {
		return "", bad("not a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", bad("scheme is not https")
	case u.Opaque != "" || u.Host == "":
		return "", bad("no host")
	case u.User != nil:
		return "", bad("has user info")
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(origin, "?#"):
		return "", bad("has a path, query or fragment")
	case u.Hostname() == "":
		return "", bad("no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", bad("empty port")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return "", bad("port out of range")
		}
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "http" && host != "localhost" && host != "127.0.0.1" && host != "::1" {
		return "", bad("http is allowed only for localhost")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}
