package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/treue/treue/firebaseauth"
	"github.com/treue/treue/firebaseauth/firebaseauthtest"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// With FIREBASE_AUTH_EMULATOR_HOST set the Admin SDK checks no signature,
// so treued refuses to start outside dev mode. Not parallel: it sets the
// process environment, where the SDK reads the variable.
func TestRunRefusesAuthEmulatorInProduction(t *testing.T) {
	t.Setenv(firebaseauth.EmulatorHostEnv, "127.0.0.1:9099")
	env := map[string]string{
		"TREUE_DEV":                 "false",
		"TREUE_FIREBASE_PROJECT_ID": "demo-test",
		"TREUE_DATA_DIR":            filepath.Join(t.TempDir(), "data"),
	}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), firebaseauth.EmulatorHostEnv) {
		t.Fatalf("run = %v, want a refusal naming %s", err, firebaseauth.EmulatorHostEnv)
	}
}

// TestAuthEmulatorSignIn signs a user up on the Firebase Auth emulator and
// calls treued with the ID token the emulator issued: the member is the
// token's user. Not parallel: it sets the process environment.
func TestAuthEmulatorSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Firebase Auth emulator (seconds); runs without -short")
	}
	host := firebaseauthtest.StartEmulator(t)
	t.Setenv(firebaseauth.EmulatorHostEnv, host)
	base, _ := startTreued(t, map[string]string{
		"TREUE_DEV":                 "true",
		"TREUE_FIREBASE_PROJECT_ID": firebaseauthtest.EmulatorProjectID,
	})
	user := firebaseauthtest.SignUp(t, host, "anna@example.com", "geheim123")
	client := func(token string) treuev1connect.AccountServiceClient {
		return treuev1connect.NewAccountServiceClient(http.DefaultClient, base,
			connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
				return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
					req.Header().Set("Authorization", "Bearer "+token)
					return next(ctx, req)
				}
			})))
	}
	ctx := context.Background()
	res, err := client(user.IDToken).Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatalf("Enroll with the emulator's token: %v", err)
	}
	if !res.Msg.GetCreated() {
		t.Fatal("Enroll did not create the membership")
	}
	// A new sign-in, a new token, the same member.
	again := firebaseauthtest.SignIn(t, host, "anna@example.com", "geheim123")
	prof, err := client(again.IDToken).GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if prof.Msg.GetProfile().GetMemberId() != res.Msg.GetProfile().GetMemberId() {
		t.Fatalf("the second sign-in is member %s, the first %s", prof.Msg.GetProfile().GetMemberId(), res.Msg.GetProfile().GetMemberId())
	}
	other := firebaseauthtest.SignUp(t, host, "ben@example.com", "geheim456")
	if _, err := client(other.IDToken).GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("another user's GetProfile: %v, want failed_precondition (not enrolled)", err)
	}
	if _, err := client("not."+"a.jwt").GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("a malformed token: %v, want unauthenticated", err)
	}
}
