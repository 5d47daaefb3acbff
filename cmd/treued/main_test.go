package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenRE = regexp.MustCompile(`treued listening" addr=(\S+)`)

// startTreued runs the real server wiring on a free loopback port and
// returns its base URL; the server stops when the test ends.
func startTreued(t *testing.T, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	dataDir := env["TREUE_DATA_DIR"]
	if dataDir == "" {
		dataDir = filepath.Join(t.TempDir(), "data")
	}
	args := []string{"-addr", "127.0.0.1:0", "-data-dir", dataDir}
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if !strings.Contains(out.String(), "stopped") {
			t.Errorf("no graceful stop in the log:\n%s", out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(out.String()); m != nil {
			return "http://" + m[1], out
		}
		select {
		case err := <-done:
			done <- nil // for the cleanup, which waits for the exit
			t.Fatalf("treued exited: %v\n%s", err, out)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("treued did not start:\n%s", out)
	return "", nil
}

// devAuth returns the client option that signs in as the dev user uid,
// and as the demo store's till on PosService, on unary calls and streams.
func devAuth(uid string) connect.ClientOption {
	return connect.WithInterceptors(devAuthInterceptor{uid: uid})
}

type devAuthInterceptor struct{ uid string }

func (d devAuthInterceptor) authorize(procedure string, h http.Header) {
	if strings.HasPrefix(procedure, "/treue.v1.PosService/") {
		h.Set("Authorization", "Bearer demo-store-key")
	} else {
		h.Set("Authorization", "Bearer dev:"+d.uid)
	}
}

func (d devAuthInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		d.authorize(req.Spec().Procedure, req.Header())
		return next(ctx, req)
	}
}

func (d devAuthInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		d.authorize(spec.Procedure, conn.RequestHeader())
		return conn
	}
}

func (devAuthInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// h2cClient speaks HTTP/2 without TLS, as gRPC clients do.
func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}

func TestRunServesTheDemoProgram(t *testing.T) {
	base, out := startTreued(t, nil)
	for _, want := range []string{"DEV MODE", "curl", "demo-store-key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start-up output lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	auth := devAuth("alice")
	clients := []struct {
		name string
		hc   *http.Client
		opts []connect.ClientOption
	}{
		{"connect-json over HTTP/1.1", http.DefaultClient, []connect.ClientOption{connect.WithProtoJSON()}},
		{"connect-proto over HTTP/1.1", http.DefaultClient, nil},
		{"grpc over h2c", h2cClient(), []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web over HTTP/1.1", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for i, c := range clients {
		opts := append([]connect.ClientOption{auth}, c.opts...)
		acct := treuev1connect.NewAccountServiceClient(c.hc, base, opts...)
		enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
		if err != nil {
			t.Fatalf("%s: Enroll: %v", c.name, err)
		}
		pos := treuev1connect.NewPosServiceClient(c.hc, base, opts...)
		earn, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
			CardNumber: enr.Msg.GetProfile().GetCard().GetCardNumber(), AmountMinor: 1250, Currency: "EUR",
			IdempotencyKey: fmt.Sprint("bon-", i),
		}))
		if err != nil {
			t.Fatalf("%s: Earn: %v", c.name, err)
		}
		card, err := treuev1connect.NewCardServiceClient(c.hc, base, opts...).GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
		if err != nil {
			t.Fatalf("%s: GetCard: %v", c.name, err)
		}
		// The demo rules add a welcome bonus of 25 and, at some hours, a
		// boost on top of the 12 stars of 12.50 EUR.
		if got := card.Msg.GetCard().GetBalance(); got != earn.Msg.GetBalance() || earn.Msg.GetPointsEarned() != 12 || got < int64(25+12*(i+1)) {
			t.Fatalf("%s: balance %d (earn says %d, %d points), want at least %d", c.name, got, earn.Msg.GetBalance(), earn.Msg.GetPointsEarned(), 25+12*(i+1))
		}
		if card.Msg.GetCard().GetProgramName() != "Café Treue" {
			t.Fatalf("%s: program %q, want the demo café", c.name, card.Msg.GetCard().GetProgramName())
		}
	}
	res, err := http.Post(base+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{"service":"treue.v1.PosService"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "SERVING") {
		t.Fatalf("health check: %d %s", res.StatusCode, body)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:8080" || c.DataDir != "treue-data" || c.ReadHeaderTimeout != 5*time.Second {
				t.Errorf("defaults: %+v", c)
			}
			if on, err := c.devModeOn(); !on || err != nil {
				t.Errorf("dev mode is not on by default on loopback: %v %v", on, err)
			}
		}},
		{name: "env", env: map[string]string{"TREUE_ADDR": "0.0.0.0:9000", "TREUE_FIREBASE_PROJECT_ID": "p"}, check: func(t *testing.T, c Config) {
			if on, _ := c.devModeOn(); c.Addr != "0.0.0.0:9000" || on {
				t.Errorf("env: %+v, dev %v", c, on)
			}
		}},
		{name: "flag wins over env", args: []string{"-addr", "[::1]:1"}, env: map[string]string{"TREUE_ADDR": "0.0.0.0:9000"}, check: func(t *testing.T, c Config) {
			if c.Addr != "[::1]:1" {
				t.Errorf("addr %q", c.Addr)
			}
			if on, _ := c.devModeOn(); !on {
				t.Error("dev mode off on [::1]")
			}
		}},
		{name: "dev off away from loopback", env: map[string]string{"TREUE_ADDR": ":8080"}, check: func(t *testing.T, c Config) {
			if on, _ := c.devModeOn(); on {
				t.Error("dev mode on on all interfaces")
			}
		}},
		{name: "dev forced away from loopback", env: map[string]string{"TREUE_ADDR": ":8080", "TREUE_DEV": "true"}, check: func(t *testing.T, c Config) {
			if _, err := c.devModeOn(); err == nil {
				t.Error("dev mode allowed on all interfaces")
			}
		}},
		{name: "bad duration", env: map[string]string{"TREUE_READ_TIMEOUT": "soon"}, wantErr: "TREUE_READ_TIMEOUT"},
		{name: "negative size", args: []string{"-max-request-bytes", "-5"}, wantErr: "-max-request-bytes"},
		{name: "bad addr", args: []string{"-addr", "8080"}, wantErr: "TREUE_ADDR"},
		{name: "bad dev", env: map[string]string{"TREUE_DEV": "yes"}, wantErr: "TREUE_DEV"},
		{name: "bad level", env: map[string]string{"TREUE_LOG_LEVEL": "loud"}, wantErr: "TREUE_LOG_LEVEL"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "usage"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseConfig(c.args, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

func TestRunRefusesUnsafeSetups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]map[string]string{
		"no sign-in off loopback":  {"TREUE_ADDR": "0.0.0.0:0"},
		"dev mode off loopback":    {"TREUE_ADDR": "0.0.0.0:0", "TREUE_DEV": "true"},
		"tills without key hashes": {"TREUE_DEV": "false", "TREUE_FIREBASE_PROJECT_ID": "demo-test"},
	}
	for name, env := range cases {
		env["TREUE_DATA_DIR"] = filepath.Join(dir, name)
		if err := run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: run started", name)
		}
	}
}
