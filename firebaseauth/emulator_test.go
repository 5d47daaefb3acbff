package firebaseauth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/treue/treue/firebaseauth/firebaseauthtest"
)

// End to end against the Firebase Auth emulator: a user signs up through
// its REST API, as the app does, and the Verifier accepts the ID token
// until the user's tokens are revoked or the user is disabled. Not
// parallel: the SDK reads FIREBASE_AUTH_EMULATOR_HOST from the process
// environment.
func TestEmulator(t *testing.T) {
	host := firebaseauthtest.StartEmulator(t)
	t.Setenv(EmulatorHostEnv, host)
	ctx := t.Context()
	v, err := New(ctx, Config{ProjectID: firebaseauthtest.EmulatorProjectID, CheckRevoked: true}) // no credentials
	if err != nil {
		t.Fatal(err)
	}

	before := time.Now().Truncate(time.Second)
	const email, password = "ada@example.com", "correct horse battery"
	ada := firebaseauthtest.SignUp(t, host, email, password)
	id, err := v.VerifyIDToken(ctx, ada.IDToken)
	if err != nil {
		t.Fatalf("VerifyIDToken of the emulator's token: %v", err)
	}
	if id.UID != ada.UID {
		t.Errorf("uid %q, want %q", id.UID, ada.UID)
	}
	if id.AuthTime.Before(before) || id.AuthTime.After(time.Now()) {
		t.Errorf("auth time %v, want between %v and now", id.AuthTime, before)
	}
	if _, err := v.VerifyIDTokenAndCheckRevoked(ctx, ada.IDToken); err != nil {
		t.Errorf("VerifyIDTokenAndCheckRevoked before revocation: %v", err)
	}
	// The emulator signs nothing, which is why the SDK checks no signature
	// in emulator mode.
	if header := jwtSegment(t, ada.IDToken, 0); header["alg"] != "none" {
		t.Errorf("the emulator's token header is %v, want alg none", header)
	}

	// validSince has seconds, and a token issued in its second stays valid:
	// revoke in a second after the token's.
	iat := int64(jwtSegment(t, ada.IDToken, 1)["iat"].(float64))
	time.Sleep(time.Until(time.Unix(iat+1, 0)))
	if err := v.client.RevokeRefreshTokens(ctx, ada.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyIDTokenAndCheckRevoked(ctx, ada.IDToken); !auth.IsIDTokenRevoked(err) {
		t.Errorf("VerifyIDTokenAndCheckRevoked after revocation: %v, want revoked", err)
	}
	// In emulator mode the SDK checks revocation on every verification.
	if _, err := v.VerifyIDToken(ctx, ada.IDToken); !auth.IsIDTokenRevoked(err) {
		t.Errorf("VerifyIDToken after revocation in emulator mode: %v, want revoked", err)
	}
	again := firebaseauthtest.SignIn(t, host, email, password)
	if _, err := v.VerifyIDTokenAndCheckRevoked(ctx, again.IDToken); err != nil {
		t.Errorf("VerifyIDTokenAndCheckRevoked of a token issued after the revocation: %v", err)
	}

	if _, err := v.client.UpdateUser(ctx, ada.UID, (&auth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyIDTokenAndCheckRevoked(ctx, again.IDToken); !auth.IsUserDisabled(err) {
		t.Errorf("VerifyIDTokenAndCheckRevoked of a disabled user: %v, want disabled", err)
	}
}

// jwtSegment decodes segment i (0 header, 1 claims) of a JWT.
func jwtSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", token, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
