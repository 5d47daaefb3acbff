package firebaseauth

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/treue/treue/firebaseauth/firebaseauthtest"
	"github.com/treue/treue/loyalty"
)

// TestMain points http.DefaultTransport at the fake Google before any test
// makes a Verifier (the SDK clones it then) or runs in parallel.
func TestMain(m *testing.M) {
	if err := firebaseauthtest.InstallTransport(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// newVerifier returns a Verifier of g's project that reaches g.
func newVerifier(t *testing.T, g *firebaseauthtest.Google) *Verifier {
	t.Helper()
	v, err := New(t.Context(), Config{ProjectID: g.ProjectID, Options: g.Options(), CheckRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkVerified fails the test unless the outcome of a verification is as
// wanted: the identity of uid, signed in within the last three hours, or
// an error.
func checkVerified(t *testing.T, what string, id loyalty.Identity, err error, wantOK bool, uid string) {
	t.Helper()
	switch {
	case wantOK && err != nil:
		t.Errorf("%s: %v, want the identity of %q", what, err, uid)
	case wantOK && id.UID != uid:
		t.Errorf("%s: uid %q, want %q", what, id.UID, uid)
	case wantOK && (time.Since(id.AuthTime) > 3*time.Hour || time.Since(id.AuthTime) < 0):
		t.Errorf("%s: auth time %v, want in the last three hours", what, id.AuthTime)
	case !wantOK && err == nil:
		t.Errorf("%s accepted the token as %+v, want an error", what, id)
	case !wantOK:
		t.Logf("%s: %v", what, err)
	}
}

// The verification matrix against a fake Google that serves the real wire
// format: every token that is wrong in one way is refused, and the limits
// pass.
func TestVerifyMatrix(t *testing.T) {
	t.Parallel()
	g := firebaseauthtest.NewGoogle(t)
	v := newVerifier(t, g)
	for _, c := range firebaseauthtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			tok := c.Token(t, g)
			id, err := v.VerifyIDToken(t.Context(), tok)
			checkVerified(t, "VerifyIDToken", id, err, c.WantOK || c.Revocation, c.UID)
			id, err = v.VerifyIDTokenAndCheckRevoked(t.Context(), tok)
			checkVerified(t, "VerifyIDTokenAndCheckRevoked", id, err, c.WantOK, c.UID)
		})
	}
}

func TestVerifyIDTokenAuthTime(t *testing.T) {
	t.Parallel()
	g := firebaseauthtest.NewGoogle(t)
	v := newVerifier(t, g)
	signedIn := time.Now().Add(-17 * time.Minute).Truncate(time.Second)
	id, err := v.VerifyIDToken(t.Context(), g.Token(t, firebaseauthtest.Claim("auth_time", signedIn)))
	if err != nil {
		t.Fatal(err)
	}
	if !id.AuthTime.Equal(signedIn) || id.AuthTime.Location() != time.UTC {
		t.Errorf("AuthTime = %v, want %v in UTC", id.AuthTime, signedIn)
	}
}

// Without credentials, tokens verify but the revocation check cannot ask
// Google, and refuses.
func TestRevocationCheckNeedsCredentials(t *testing.T) {
	t.Parallel()
	g := firebaseauthtest.NewGoogle(t)
	v, err := New(t.Context(), Config{ProjectID: g.ProjectID, Options: []option.ClientOption{option.WithoutAuthentication()}, CheckRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := g.Token(t)
	if _, err := v.VerifyIDToken(t.Context(), tok); err != nil {
		t.Errorf("VerifyIDToken without credentials: %v", err)
	}
	_, err = v.VerifyIDTokenAndCheckRevoked(t.Context(), tok)
	if err == nil || !strings.Contains(err.Error(), "authentication credential") {
		t.Errorf("VerifyIDTokenAndCheckRevoked without credentials: %v, want Google's refusal", err)
	}
}

// A verifier of one project refuses another project's tokens, though both
// are signed by keys Google serves.
func TestVerifyIDTokenOtherProject(t *testing.T) {
	t.Parallel()
	g, other := firebaseauthtest.NewGoogle(t), firebaseauthtest.NewGoogle(t)
	v := newVerifier(t, g)
	if id, err := v.VerifyIDToken(t.Context(), other.Token(t)); err == nil {
		t.Errorf("VerifyIDToken accepted a token of project %s as %+v", other.ProjectID, id)
	}
}

// With FIREBASE_AUTH_EMULATOR_HOST set the SDK checks no signature, no key
// id and no algorithm: every forged token of the matrix is accepted, which
// is why a production server must refuse to start with it set. The SDK
// then also asks the emulator about revocation on every verification. Not
// parallel: it sets the process environment.
func TestEmulatorHostTurnsSignatureChecksOff(t *testing.T) {
	g := firebaseauthtest.NewGoogle(t)
	t.Setenv(EmulatorHostEnv, g.FakeEmulatorHost())
	if got := EmulatorHost(); got != g.FakeEmulatorHost() {
		t.Fatalf("EmulatorHost() = %q, want %q", got, g.FakeEmulatorHost())
	}
	v, err := New(t.Context(), Config{ProjectID: g.ProjectID, CheckRevoked: true}) // no credentials needed
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range firebaseauthtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			tok := c.Token(t, g)
			id, err := v.VerifyIDToken(t.Context(), tok)
			checkVerified(t, "VerifyIDToken", id, err, c.WantOK || c.Forged, c.UID)
			id, err = v.VerifyIDTokenAndCheckRevoked(t.Context(), tok)
			checkVerified(t, "VerifyIDTokenAndCheckRevoked", id, err, c.WantOK || c.Forged, c.UID)
		})
	}
}

func TestEmulatorHostUnset(t *testing.T) {
	t.Setenv(EmulatorHostEnv, "")
	if got := EmulatorHost(); got != "" {
		t.Errorf("EmulatorHost() = %q with %s empty", got, EmulatorHostEnv)
	}
}

// Without CheckRevoked the revocation check is the plain verification, so
// a deployment without credentials still lets members redeem.
func TestRevocationCheckOff(t *testing.T) {
	t.Parallel()
	g := firebaseauthtest.NewGoogle(t)
	v, err := New(t.Context(), Config{ProjectID: g.ProjectID, Options: []option.ClientOption{option.WithoutAuthentication()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyIDTokenAndCheckRevoked(t.Context(), g.Token(t)); err != nil {
		t.Errorf("VerifyIDTokenAndCheckRevoked without CheckRevoked: %v", err)
	}
	if _, err := v.VerifyIDTokenAndCheckRevoked(t.Context(), g.Token(t, firebaseauthtest.Claim("aud", "other"))); err == nil {
		t.Error("VerifyIDTokenAndCheckRevoked without CheckRevoked accepted a token of another audience")
	}
}
