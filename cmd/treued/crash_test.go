package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/cmd/internal/storage"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/store/postgres/pgtest"
)

// TestCrashDuringEarns kills treued with SIGKILL again and again while
// tills post 4,000 purchases and retry each with its key until it is
// acknowledged. Afterwards the ledger must hold every purchase exactly
// once, and treuectl verify must pass.
func TestCrashDuringEarns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real processes; runs in the full suite")
	}
	dir := t.TempDir()
	treued, treuectl := filepath.Join(dir, "treued"), filepath.Join(dir, "treuectl")
	build(t, treued, ".")
	build(t, treuectl, "../treuectl")
	t.Run("sqlite", func(t *testing.T) {
		crashDuringEarns(t, treued, treuectl, storage.Config{DataDir: filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		crashDuringEarns(t, treued, treuectl, storage.Config{PostgresURL: pgtest.NewDatabase(t, nil), DataDir: t.TempDir()})
	})
}

func crashDuringEarns(t *testing.T, treued, treuectl string, sc storage.Config) {
	const (
		earns   = 4_000
		members = 20
		workers = 8
	)
	addr := freeAddr(t)
	storeArgs := []string{"-data-dir", sc.DataDir}
	if sc.PostgresURL != "" {
		// The data dir still holds the development pass certificates.
		storeArgs = append(storeArgs, "-postgres-url", sc.PostgresURL)
	}
	srv := &process{t: t, bin: treued, args: append([]string{"-addr", addr, "-dev", "true", "-rate-till", "inf", "-rate-customer", "inf"}, storeArgs...)}
	srv.start()
	defer srv.stop()
	base := "http://" + addr
	waitUp(t, base)

	ctx := context.Background()
	cards := make([]string, members)
	for i := range cards {
		acct := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, bearer(fmt.Sprint("dev:crash-", i)))
		res, err := retry(ctx, func() (*connect.Response[treuev1.EnrollResponse], error) {
			return acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
		})
		if err != nil {
			t.Fatal(err)
		}
		cards[i] = res.Msg.GetProfile().GetCard().GetCardNumber()
	}

	// The killer: SIGKILL after a random number of acknowledged earns
	// since the last start, with the other workers' earns in flight, then
	// restart at once. Counting earns rather than seconds keeps the run
	// moving however slow a busy machine makes treued's start (0.2 to
	// 0.4 s here, seconds under go test ./... on two cores): a clock-only
	// schedule spent most of its time restarting and outgrew go test's
	// 10 minutes.
	var (
		kills atomic.Int32
		acked atomic.Int64
	)
	stopKiller := make(chan struct{})
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		r := rand.New(rand.NewPCG(1, 2))
		for {
			for target := acked.Load() + int64(50+r.IntN(150)); acked.Load() < target; {
				select {
				case <-stopKiller:
					return
				case <-time.After(time.Millisecond):
				}
			}
			srv.kill()
			kills.Add(1)
			srv.start()
		}
	}()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	pos := treuev1connect.NewPosServiceClient(hc, base, bearer("demo-store-key"))
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		retries atomic.Int64
		failed  atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= earns {
					return
				}
				req := &treuev1.EarnRequest{
					CardNumber: cards[i%members], AmountMinor: 100 + i%900, Currency: "EUR",
					IdempotencyKey: fmt.Sprint("crash-", i), ReceiptId: fmt.Sprint("R", i),
				}
				if err := earnUntilAcknowledged(ctx, pos, req, &retries); err != nil {
					t.Errorf("earn %d: %v", i, err)
					failed.Add(1)
				}
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stopKiller)
	<-killerDone
	srv.stop()
	if failed.Load() > 0 {
		t.Fatalf("%d earns failed for good", failed.Load())
	}
	t.Logf("%d earns acknowledged, %d retries, %d kills", earns, retries.Load(), kills.Load())
	if kills.Load() < 5 {
		t.Fatalf("only %d kills: the run was too short to prove anything", kills.Load())
	}

	out, err := exec.Command(treuectl, append(storeArgs, "verify")...).CombinedOutput()
	if err != nil {
		t.Fatalf("treuectl verify: %v\n%s", err, out)
	}
	t.Logf("treuectl verify: %s", out)

	// Every purchase exactly once: count the earn entries per receipt.
	st, err := storage.Open(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]int{}
	var points int64
	err = st.View(ctx, func(tx loyalty.Tx) error {
		for _, card := range cards {
			m, err := tx.MemberByCard(ctx, "demo-cafe", card)
			if err != nil {
				return err
			}
			for before := int64(0); ; {
				es, err := tx.Entries(ctx, m.ProgramID, m.ID, before, loyalty.MaxPageSize)
				if err != nil {
					return err
				}
				for _, e := range es {
					if e.Kind == loyalty.EntryEarn {
						seen[e.Detail.ReceiptID]++
						points += e.Points
					}
				}
				if len(es) < loyalty.MaxPageSize {
					break
				}
				before = es[len(es)-1].ID
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, duplicated int
	var wantPoints int64
	for i := range earns {
		wantPoints += (100 + int64(i)%900) / 100
		switch n := seen[fmt.Sprint("R", i)]; {
		case n == 0:
			missing++
		case n > 1:
			duplicated++
		}
	}
	t.Logf("earn entries: %d distinct receipts, %d missing, %d duplicated, %d points", len(seen), missing, duplicated, points)
	if missing != 0 || duplicated != 0 || len(seen) != earns || points != wantPoints {
		t.Fatalf("%d missing, %d duplicated, %d receipts, %d points (want %d)", missing, duplicated, len(seen), points, wantPoints)
	}
}

// earnUntilAcknowledged posts req until the server answers it. A killed
// server shows as a reset or refused connection (unavailable, canceled,
// unknown); any answer the server gives on purpose is final.
func earnUntilAcknowledged(ctx context.Context, pos treuev1connect.PosServiceClient, req *treuev1.EarnRequest, retries *atomic.Int64) error {
	for {
		_, err := pos.Earn(ctx, connect.NewRequest(req))
		if err == nil {
			return nil
		}
		switch connect.CodeOf(err) {
		case connect.CodeUnavailable, connect.CodeCanceled, connect.CodeUnknown, connect.CodeInternal:
			retries.Add(1)
			time.Sleep(20 * time.Millisecond)
		default:
			return err
		}
	}
}

func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Post(base+"/grpc.health.v1.Health/Check", "application/json", nil)
		if err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", base)
}

func bearer(token string) connect.ClientOption {
	return connect.WithInterceptors(authHeader("Bearer " + token))
}

// authHeader sets the Authorization header of unary calls and streams.
type authHeader string

func (a authHeader) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", string(a))
		return next(ctx, req)
	}
}

func (a authHeader) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", string(a))
		return conn
	}
}

func (a authHeader) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var err error
	for range 200 {
		var v T
		if v, err = f(); err == nil {
			return v, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	var zero T
	return zero, err
}

// process is a treued child process that can be killed and restarted.
type process struct {
	t    *testing.T
	bin  string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

func (p *process) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	if err := cmd.Start(); err != nil {
		p.t.Errorf("start treued: %v", err)
		return
	}
	p.cmd = cmd
}

func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

func (p *process) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.t.Errorf("treued: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Error("treued did not stop on SIGTERM")
	}
	p.cmd = nil
}
