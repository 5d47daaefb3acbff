package firebaseauthtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Draft is an ID token before it is signed. Google.Token fills it as
// Firebase fills a fresh ID token, applies the caller's edits, then signs
// it as Header["alg"] says: RS256 with Key, HS256 with HMACSecret, none
// with no signature.
type Draft struct {
	// Header is the JOSE header: alg, kid, typ.
	Header map[string]any
	// Claims are the payload's claims. A time.Time value is written as
	// seconds since the epoch.
	Claims map[string]any
	// Key signs RS256 tokens: the key the Google serves, unless edited.
	Key *rsa.PrivateKey
	// HMACSecret signs HS256 tokens: the Google's served PEM certificate,
	// as in the key-confusion attack on verifiers that let the token pick
	// the algorithm.
	HMACSecret []byte
	// Tamper, when set, edits the claims after signing: the payload
	// changes, the signature stays.
	Tamper func(claims map[string]any)
}

// Edit changes a Draft before it is signed.
type Edit func(*Draft)

// UID sets the token's user: its sub and user_id claims.
func UID(uid string) Edit {
	return func(d *Draft) {
		d.Claims["sub"] = uid
		d.Claims["user_id"] = uid
	}
}

// Claim sets a claim; nil removes it.
func Claim(name string, value any) Edit {
	return func(d *Draft) {
		if value == nil {
			delete(d.Claims, name)
			return
		}
		d.Claims[name] = value
	}
}

// Header sets a header parameter; nil removes it.
func Header(name string, value any) Edit {
	return func(d *Draft) {
		if value == nil {
			delete(d.Header, name)
			return
		}
		d.Header[name] = value
	}
}

// DefaultUID is the user of a token no edit gave another.
const DefaultUID = "user-1"

// Token returns an ID token for the Google's project as Firebase issues
// one, changed by edits: header {alg RS256, kid, typ JWT}; claims iss
// https://securetoken.google.com/<project>, aud <project>, sub and
// user_id DefaultUID, auth_time 30 minutes ago, iat now, exp in an hour
// (now is time.Now(): the SDK checks against the real clock), and
// firebase {identities, sign_in_provider}.
func (g *Google) Token(t testing.TB, edits ...Edit) string {
	t.Helper()
	now := time.Now()
	d := &Draft{
		Header: map[string]any{"alg": "RS256", "kid": g.kid, "typ": "JWT"},
		Claims: map[string]any{
			"iss":       "https://securetoken.google.com/" + g.ProjectID,
			"aud":       g.ProjectID,
			"auth_time": now.Add(-30 * time.Minute),
			"iat":       now,
			"exp":       now.Add(time.Hour),
			"firebase":  map[string]any{"identities": map[string]any{}, "sign_in_provider": "anonymous"},
		},
		Key:        g.key,
		HMACSecret: g.certPEM,
	}
	UID(DefaultUID)(d)
	for _, e := range edits {
		e(d)
	}
	tok, err := d.sign()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (d *Draft) sign() (string, error) {
	header, err := segment(d.Header)
	if err != nil {
		return "", err
	}
	claims, err := segment(d.Claims)
	if err != nil {
		return "", err
	}
	input := header + "." + claims
	var sig []byte
	switch alg := d.Header["alg"]; alg {
	case "RS256":
		h := sha256.Sum256([]byte(input))
		if sig, err = rsa.SignPKCS1v15(rand.Reader, d.Key, crypto.SHA256, h[:]); err != nil {
			return "", err
		}
	case "HS256":
		m := hmac.New(sha256.New, d.HMACSecret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
	default:
		return "", fmt.Errorf("firebaseauthtest: cannot sign with alg %v", alg)
	}
	if d.Tamper != nil {
		d.Tamper(d.Claims)
		if claims, err = segment(d.Claims); err != nil {
			return "", err
		}
	}
	return header + "." + claims + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// segment encodes a JWT segment, times as seconds since the epoch.
func segment(m map[string]any) (string, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if tm, ok := v.(time.Time); ok {
			v = tm.Unix()
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// slug turns a case name into a uid.
func slug(name string) string {
	return "user-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
}
