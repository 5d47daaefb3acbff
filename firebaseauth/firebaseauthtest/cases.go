package firebaseauthtest

import (
	"strings"
	"testing"
	"time"
)

// Case is one token of the verification matrix.
type Case struct {
	// Name says what is wrong with the token, if anything.
	Name string
	// Token makes the token when called, relative to time.Now(), and sets
	// the Google's users up for it (revoked, disabled, deleted).
	Token func(t testing.TB, g *Google) string
	// UID is the token's user: the identity of an accepted token.
	UID string
	// Revocation marks a well-formed token that only the revocation check
	// (VerifyIDTokenAndCheckRevoked) judges by WantOK: VerifyIDToken
	// accepts it. Otherwise both judge it by WantOK.
	Revocation bool
	// Forged marks a token refused for its signature or key alone: in
	// emulator mode (FIREBASE_AUTH_EMULATOR_HOST set) the SDK checks
	// neither and accepts it.
	Forged bool
	// WantOK says whether the token is accepted.
	WantOK bool
}

// Cases returns the verification matrix: a valid token, one token for
// each way an ID token can be wrong, and the limits that still pass (clock
// skew, subject length, revocation before issue). Each case has its own
// uid, so the cases can run in parallel against one Google.
func Cases() []Case {
	long := strings.Repeat("u", 129)
	at := func(d time.Duration) time.Time { return time.Now().Add(d) }
	type row struct {
		Case
		// tok makes the token for the case's own uid (from its name); nil
		// makes a valid token.
		tok func(t testing.TB, g *Google, uid string) string
		// ownUID: Case.UID is set, even when empty, and is not the uid
		// tok gets.
		ownUID bool
	}
	rows := []row{
		{Case: Case{Name: "valid", WantOK: true}},
		{Case: Case{Name: "wrong audience"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("aud", "other-project"))
		}},
		{Case: Case{Name: "wrong issuer"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iss", "https://securetoken.google.com/other-project"))
		}},
		{Case: Case{Name: "session cookie issuer"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iss", "https://session.firebase.google.com/"+g.ProjectID))
		}},
		{Case: Case{Name: "expired beyond the 5-minute skew"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iat", at(-66*time.Minute)), Claim("exp", at(-6*time.Minute)), Claim("auth_time", at(-2*time.Hour)))
		}},
		{Case: Case{Name: "expired within the skew", WantOK: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iat", at(-64*time.Minute)), Claim("exp", at(-4*time.Minute)), Claim("auth_time", at(-2*time.Hour)))
		}},
		{Case: Case{Name: "issued in the future beyond the skew"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iat", at(6*time.Minute)), Claim("exp", at(66*time.Minute)))
		}},
		{Case: Case{Name: "issued in the future within the skew", WantOK: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("iat", at(4*time.Minute)), Claim("exp", at(64*time.Minute)))
		}},
		{Case: Case{Name: "alg none", Forged: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Header("alg", "none"))
		}},
		{Case: Case{Name: "HS256 with the public key as HMAC secret", Forged: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Header("alg", "HS256"))
		}},
		{Case: Case{Name: "unknown kid", Forged: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Header("kid", "0123456789abcdef0123456789abcdef01234567"))
		}},
		{Case: Case{Name: "no kid", Forged: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Header("kid", nil))
		}},
		{Case: Case{Name: "signed by another key under a served kid", Forged: true}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), func(d *Draft) { d.Key = g.attacker })
		}},
		{Case: Case{Name: "tampered payload", Forged: true, UID: "victim"}, ownUID: true, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), func(d *Draft) {
				d.Tamper = func(c map[string]any) { c["sub"], c["user_id"] = "victim", "victim" }
			})
		}},
		{Case: Case{Name: "empty subject"}, ownUID: true, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(""))
		}},
		{Case: Case{Name: "128-character subject", WantOK: true, UID: long[:128]}, ownUID: true, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(long[:128]))
		}},
		{Case: Case{Name: "129-character subject", UID: long}, ownUID: true, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(long))
		}},
		{Case: Case{Name: "auth_time in the future"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("auth_time", at(6*time.Minute)))
		}},
		{Case: Case{Name: "no auth_time"}, tok: func(t testing.TB, g *Google, uid string) string {
			return g.Token(t, UID(uid), Claim("auth_time", nil))
		}},
		{Case: Case{Name: "revoked after issue", Revocation: true}, tok: func(t testing.TB, g *Google, uid string) string {
			tok := g.Token(t, UID(uid), Claim("iat", at(-2*time.Minute)), Claim("exp", at(58*time.Minute)))
			g.Revoke(uid) // validSince now, after iat
			return tok
		}},
		{Case: Case{Name: "revoked before issue", Revocation: true, WantOK: true}, tok: func(t testing.TB, g *Google, uid string) string {
			g.Revoke(uid) // validSince now, not after iat
			return g.Token(t, UID(uid))
		}},
		{Case: Case{Name: "disabled user", Revocation: true}, tok: func(t testing.TB, g *Google, uid string) string {
			g.Disable(uid)
			return g.Token(t, UID(uid))
		}},
		{Case: Case{Name: "deleted user", Revocation: true}, tok: func(t testing.TB, g *Google, uid string) string {
			g.Delete(uid)
			return g.Token(t, UID(uid))
		}},
	}
	cs := make([]Case, len(rows))
	for i, r := range rows {
		c, uid, tok := r.Case, slug(r.Name), r.tok
		if !r.ownUID {
			c.UID = uid
		}
		if tok == nil {
			tok = func(t testing.TB, g *Google, uid string) string { return g.Token(t, UID(uid)) }
		}
		c.Token = func(t testing.TB, g *Google) string { return tok(t, g, uid) }
		cs[i] = c
	}
	return cs
}
