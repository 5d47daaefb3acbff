package firebaseauth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	"github.com/treue/treue/firebaseauth/firebaseauthtest"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

// TestMatrixOverHTTP runs the verification matrix through the API: every
// refused token is an unauthenticated error on a customer procedure, and
// the revocation cases on a sensitive one (RedeemReward), over Connect and
// gRPC. An accepted token gets past authentication: the caller is not
// enrolled, so the call fails with failed_precondition instead.
func TestMatrixOverHTTP(t *testing.T) {
	t.Parallel()
	g := firebaseauthtest.NewGoogle(t)
	v, err := New(t.Context(), Config{ProjectID: g.ProjectID, Options: g.Options(), CheckRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hub *realtime.Hub
	svc := loyalty.NewService(st, loyalty.WithChangeHook(func(c []loyalty.CardChange) { hub.Committed(c) }))
	broker := memory.New()
	t.Cleanup(func() { broker.Close() })
	hub = realtime.NewHub(svc, broker, realtime.Config{})
	seed := storetest.DemoSeed("matrix")
	if err := svc.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bff.NewHandler(svc, hub, bff.Config{
		Verifier:       v,
		DefaultProgram: seed.Program.ID,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	t.Cleanup(srv.Close)

	for _, proto := range []struct {
		name string
		opts []connect.ClientOption
	}{{"connect", nil}, {"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}}} {
		for _, c := range firebaseauthtest.Cases() {
			t.Run(proto.name+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				tok := c.Token(t, g)
				auth := connect.WithInterceptors(bearer(tok))
				opts := append([]connect.ClientOption{auth}, proto.opts...)
				account := treuev1connect.NewAccountServiceClient(http.DefaultClient, srv.URL, opts...)
				rewards := treuev1connect.NewRewardServiceClient(http.DefaultClient, srv.URL, opts...)
				_, err := account.GetProfile(t.Context(), connect.NewRequest(&treuev1.GetProfileRequest{}))
				checkAuth(t, "GetProfile", err, c.WantOK || c.Revocation)
				_, err = rewards.RedeemReward(t.Context(), connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "k1"}))
				checkAuth(t, "RedeemReward", err, c.WantOK)
			})
		}
	}
}

// checkAuth fails t unless err is unauthenticated exactly when the token
// must be refused.
func checkAuth(t *testing.T, call string, err error, accepted bool) {
	t.Helper()
	code := connect.CodeOf(err)
	switch {
	case accepted && code == connect.CodeUnauthenticated:
		t.Errorf("%s refused an acceptable token: %v", call, err)
	case !accepted && code != connect.CodeUnauthenticated:
		t.Errorf("%s: %v, want unauthenticated", call, err)
	}
}

// bearer sets the Authorization header of every call.
func bearer(token string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}
}
