package bff_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
)

// Two programs, so tests can check that nothing crosses between them.
const (
	programA = "cafe-a"
	programB = "cafe-b"
	tillKeyA = "till-key-cafe-a"
	tillKeyB = "till-key-cafe-b"
	// Operator keys are "operator-" plus the till key.
	operatorKeyA = "operator-" + tillKeyA
	operatorKeyB = "operator-" + tillKeyB
)

func testSeed(programID, tillKey string) loyalty.Seed {
	stock := int64(1)
	return loyalty.Seed{
		Program: loyalty.Program{
			ID: programID, Name: "Café " + programID, Currency: "EUR",
			PointName:        loyalty.Text{DE: "Sterne", EN: "stars"},
			BaseTier:         loyalty.Text{DE: "Grün", EN: "Green"},
			Earn:             loyalty.EarnRule{Points: 1, PerMinor: 100},
			MaxPurchaseMinor: 10_000_000,
			VoucherValidity:  loyalty.Duration(30 * 24 * time.Hour),
		},
		Rewards: []loyalty.Reward{
			{ID: "coffee", Name: loyalty.Text{DE: "Gratis Kaffee", EN: "Free coffee"}, Cost: 10, Active: true},
			{ID: "cake", Name: loyalty.Text{DE: "Kuchen", EN: "Cake"}, Cost: 20, Active: true},
			{ID: "event", Name: loyalty.Text{DE: "Kundenabend", EN: "Customer evening"}, Cost: 5, Stock: &stock, Active: true},
			{ID: "retired", Name: loyalty.Text{DE: "Alt", EN: "Old"}, Cost: 1, Active: false},
		},
		Tills: []loyalty.TillKey{{Till: loyalty.Till{ID: "till-" + programID, Name: "Till"}, Key: tillKey}},
		Operators: []loyalty.OperatorKey{{
			Operator: loyalty.Operator{ID: "operator-" + programID, Name: "Operator"},
			Key:      "operator-" + tillKey,
		}},
	}
}

// auditedStore is a store whose ledger the tests can check.
type auditedStore interface {
	loyalty.Store
	CheckInvariants(context.Context) error
}

// env is a real Treue API over a real store and a real HTTP/2 server.
type env struct {
	server *httptest.Server
	// client speaks HTTP/2 without TLS to server.
	client *http.Client
	store  auditedStore
	svc    *loyalty.Service
	hub    *realtime.Hub
	clock  *storetest.Clock
}

// newEnv returns an env over a fresh SQLite file.
func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, st)
}

// newEnvOn returns an env over st and an in-process broker, seeded with
// programs A and B; st is closed when the test ends.
func newEnvOn(t testing.TB, st auditedStore) *env {
	t.Helper()
	return newEnvWith(t, st, memory.New())
}

// newEnvWith returns an env over st and broker, seeded with programs A and
// B; both are closed when the test ends.
func newEnvWith(t testing.TB, st auditedStore, broker realtime.Broker, tweak ...func(*bff.Config)) *env {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { st.Close() })
	clk := storetest.NewClock(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	cfg := bff.Config{
		Verifier:       bff.DevTokens{Now: clk.Now},
		DefaultProgram: programA,
		Now:            clk.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Tests call far faster than any member or till; rate-limit tests
		// set their own rates.
		Rates: unlimitedRates,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	var hub *realtime.Hub
	// The service runs on the handler's clock: simulated unless a tweak
	// sets the real one.
	svc := loyalty.NewService(st, loyalty.WithClock(cfg.Now), loyalty.WithChangeHook(func(c []loyalty.CardChange) { hub.Committed(c) }))
	hub = realtime.NewHub(svc, broker, realtime.Config{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(runCtx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
		broker.Close()
	})
	for _, s := range []loyalty.Seed{testSeed(programA, tillKeyA), testSeed(programB, tillKeyB)} {
		if err := svc.ApplySeed(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	h := bff.NewHandler(svc, hub, cfg)
	// HTTP/2 without TLS (h2c), as treued serves it behind a load balancer.
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols), MaxIdleConnsPerHost: 64}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &env{server: srv, client: &http.Client{Transport: tr}, store: st, svc: svc, hub: hub, clock: clk}
}

// protocol is one of the wire protocols every RPC is served in.
type protocol struct {
	name string
	opts []connect.ClientOption
}

var protocols = []protocol{
	{"connect-proto", nil},
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
}

// headers returns a client interceptor that sets request headers, on
// unary calls and streams.
func headers(kv ...string) connect.ClientOption {
	return connect.WithInterceptors(headerSetter(kv))
}

type headerSetter []string

func (h headerSetter) set(hd http.Header) {
	for i := 0; i+1 < len(h); i += 2 {
		hd.Set(h[i], h[i+1])
	}
}

func (h headerSetter) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		h.set(req.Header())
		return next(ctx, req)
	}
}

func (h headerSetter) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		h.set(conn.RequestHeader())
		return conn
	}
}

func (h headerSetter) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// customer is the typed clients of one signed-in user.
type customer struct {
	account   treuev1connect.AccountServiceClient
	card      treuev1connect.CardServiceClient
	reward    treuev1connect.RewardServiceClient
	app       treuev1connect.AppServiceClient
	wallet    treuev1connect.WalletServiceClient
	challenge treuev1connect.ChallengeServiceClient
}

func (e *env) customer(uid string, p protocol, extra ...connect.ClientOption) customer {
	opts := append([]connect.ClientOption{headers("Authorization", "Bearer dev:"+uid)}, p.opts...)
	opts = append(opts, extra...)
	return e.customerWith(e.client, opts...)
}

func (e *env) customerWith(hc *http.Client, opts ...connect.ClientOption) customer {
	u := e.server.URL
	return customer{
		account:   treuev1connect.NewAccountServiceClient(hc, u, opts...),
		card:      treuev1connect.NewCardServiceClient(hc, u, opts...),
		reward:    treuev1connect.NewRewardServiceClient(hc, u, opts...),
		app:       treuev1connect.NewAppServiceClient(hc, u, opts...),
		wallet:    treuev1connect.NewWalletServiceClient(hc, u, opts...),
		challenge: treuev1connect.NewChallengeServiceClient(hc, u, opts...),
	}
}

func (e *env) till(key string, p protocol) treuev1connect.PosServiceClient {
	opts := append([]connect.ClientOption{headers("Authorization", "Bearer "+key)}, p.opts...)
	return treuev1connect.NewPosServiceClient(e.client, e.server.URL, opts...)
}

// admin returns an AdminService client with the operator key key.
func (e *env) admin(key string, p protocol) treuev1connect.AdminServiceClient {
	opts := append([]connect.ClientOption{headers("Authorization", "Bearer "+key)}, p.opts...)
	return treuev1connect.NewAdminServiceClient(e.client, e.server.URL, opts...)
}

// checkCode fails the test unless err is a Connect error with code want.
func checkCode(t testing.TB, err error, want connect.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if got := connect.CodeOf(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errorsAs(err error, target **connect.Error) bool { return errors.As(err, target) }

// openSQLite returns a fresh SQLite store.
func openSQLite(t testing.TB) auditedStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
