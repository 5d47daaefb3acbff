package firebaseauth

import (
	"context"
	"testing"

	"google.golang.org/api/option"
)

// The token matrix (matrix_test.go) runs against a fake Google, the
// emulator test against the Firebase Auth emulator; here we check that the
// verifier starts without credentials or network and refuses tokens that
// are not JWTs at all.
func TestVerifierRefusesMalformedTokens(t *testing.T) {
	t.Parallel()
	v, err := New(context.Background(), Config{ProjectID: "demo-test", Options: []option.ClientOption{option.WithoutAuthentication()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "garbage", "a.b", "dev:alice", "e30.e30.sig"} {
		if uid, err := v.VerifyIDToken(context.Background(), tok); err == nil {
			t.Errorf("VerifyIDToken(%q) = %q, want an error", tok, uid)
		}
	}
	if _, err := New(context.Background(), Config{}); err == nil {
		t.Error("New with an empty project id succeeded")
	}
}
