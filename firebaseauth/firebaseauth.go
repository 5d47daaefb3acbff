// Package firebaseauth verifies customers' Firebase ID tokens with the
// Firebase Admin SDK (firebase.google.com/go/v4).
package firebaseauth

import (
	"context"
	"errors"
	"fmt"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"
)

// Verifier checks Firebase ID tokens of one Firebase project.
type Verifier struct {
	client *auth.Client
}

// New returns a Verifier for the Firebase project projectID. Verifying
// tokens needs only Google's public keys, so no service account is needed.
func New(ctx context.Context, projectID string) (*Verifier, error) {
	if projectID == "" {
		return nil, errors.New("firebaseauth: project id is required")
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, option.WithoutAuthentication())
	if err != nil {
		return nil, fmt.Errorf("firebaseauth: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebaseauth: %w", err)
	}
	return &Verifier{client: client}, nil
}

// VerifyIDToken returns the user id of a valid ID token: signed by Google
// for this project, not expired, issued in the past. It returns an error
// for any other token.
func (v *Verifier) VerifyIDToken(ctx context.Context, token string) (string, error) {
	t, err := v.client.VerifyIDToken(ctx, token)
	if err != nil {
		return "", err
	}
	return t.UID, nil
}
