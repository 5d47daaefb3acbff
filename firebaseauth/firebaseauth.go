// Package firebaseauth verifies customers' Firebase ID tokens with the
// Firebase Admin SDK (firebase.google.com/go/v4).
package firebaseauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"

	"github.com/treue/treue/loyalty"
)

// EmulatorHostEnv names the environment variable that points the Firebase
// Admin SDK at the Firebase Auth emulator (host:port). While it is set in
// the process environment the SDK checks no token signature at all: any
// unsigned token with the right project, issuer and times is accepted, so
// anyone can sign in as anyone. A production server must refuse to start
// with it set.
const EmulatorHostEnv = "FIREBASE_AUTH_EMULATOR_HOST"

// EmulatorHost returns the Firebase Auth emulator's host:port the SDK uses,
// read from the process environment as the SDK reads it, or "" when the SDK
// talks to Google.
func EmulatorHost() string {
	return os.Getenv(EmulatorHostEnv)
}

// clockSkew is how far the token's times may lie in the future, as the SDK
// allows for iat and exp.
const clockSkew = 5 * time.Minute

// Config says which tokens a Verifier accepts and how it reaches Google.
type Config struct {
	// ProjectID is the Firebase project whose ID tokens are accepted.
	// Required.
	ProjectID string
	// Options configure the Admin SDK's clients. The revocation check
	// (VerifyIDTokenAndCheckRevoked) calls the Identity Toolkit API and
	// needs credentials: without Options the SDK looks for Application
	// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS naming a service
	// account key, or the metadata server) and New fails without them;
	// option.WithCredentialsFile names a key file. With
	// option.WithoutAuthentication() VerifyIDToken works, as it needs only
	// Google's public keys, but every revocation check fails. In emulator
	// mode (EmulatorHostEnv set) no credentials are needed.
	Options []option.ClientOption
	// CheckRevoked makes VerifyIDTokenAndCheckRevoked ask Firebase; false
	// makes it VerifyIDToken, for deployments without credentials.
	CheckRevoked bool
}

// Verifier checks Firebase ID tokens of one Firebase project.
type Verifier struct {
	client       *auth.Client
	checkRevoked bool
}

// New returns a Verifier for cfg.ProjectID, or an error when the project is
// missing or the Admin SDK cannot be set up with cfg.Options.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.ProjectID == "" {
		return nil, errors.New("firebaseauth: project id is required")
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, cfg.Options...)
	if err != nil {
		return nil, fmt.Errorf("firebaseauth: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebaseauth: %w", err)
	}
	return &Verifier{client: client, checkRevoked: cfg.CheckRevoked}, nil
}

// VerifyIDToken returns the identity of a valid ID token: an RS256 JWT
// signed by one of Google's current keys for this project (audience and
// issuer), whose subject is 1 to 128 characters, not expired, issued and
// signed in (auth_time) in the past, both with 5 minutes of clock skew. It
// returns an error for any other token. In emulator mode it checks no
// signature but asks the emulator whether the token was revoked.
func (v *Verifier) VerifyIDToken(ctx context.Context, token string) (loyalty.Identity, error) {
	t, err := v.client.VerifyIDToken(ctx, token)
	if err != nil {
		return loyalty.Identity{}, err
	}
	return identity(t, time.Now())
}

// VerifyIDTokenAndCheckRevoked is VerifyIDToken, and, with
// Config.CheckRevoked, it asks Firebase whether the user still exists, is
// enabled and had not revoked their tokens (validSince) before this token
// was issued.
func (v *Verifier) VerifyIDTokenAndCheckRevoked(ctx context.Context, token string) (loyalty.Identity, error) {
	if !v.checkRevoked {
		return v.VerifyIDToken(ctx, token)
	}
	t, err := v.client.VerifyIDTokenAndCheckRevoked(ctx, token)
	if auth.IsUserNotFound(err) {
		// The SDK's message quotes the uid, and the caller logs it.
		return loyalty.Identity{}, errors.New("firebaseauth: the token's user does not exist (deleted)")
	}
	if err != nil {
		return loyalty.Identity{}, err
	}
	return identity(t, time.Now())
}

// identity checks what the SDK leaves unchecked (the SDK checks the
// subject's length itself) and returns the token's identity.
func identity(t *auth.Token, now time.Time) (loyalty.Identity, error) {
	if t.AuthTime <= 0 {
		return loyalty.Identity{}, errors.New("firebaseauth: ID token has no auth_time claim")
	}
	at := time.Unix(t.AuthTime, 0).UTC()
	if at.After(now.Add(clockSkew)) {
		return loyalty.Identity{}, fmt.Errorf("firebaseauth: ID token has auth_time in the future: %d", t.AuthTime)
	}
	return loyalty.Identity{UID: t.UID, AuthTime: at}, nil
}
