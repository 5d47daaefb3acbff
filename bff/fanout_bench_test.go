package bff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime/memory"
)

// Settings of BenchmarkWatchFanOut.
const (
	fanOutStreams = 10_000
	fanOutRate    = 2_000 // changes per second
)

// BenchmarkWatchFanOut opens 10,000 WatchCard streams, one per member, from
// a separate client process, and posts purchases on random members at
// 2,000 a second (b.N purchases in all) through the domain service. It
// reports deliveries/s, the latency from a purchase's ledger entry (written
// in its transaction, just before the commit) to the client that shows it,
// and the server's memory per idle stream (heap and stacks, after GC):
//
//	go test ./bff -run '^$' -bench WatchFanOut -benchtime 10000x
func BenchmarkWatchFanOut(b *testing.B) {
	for _, br := range brokers {
		b.Run(br.name, func(b *testing.B) {
			e := newEnvWith(b, openSQLite(b), br.open(b), func(c *bff.Config) { c.Now = time.Now })
			ctx := context.Background()
			cards := make([]string, fanOutStreams)
			for i := range cards {
				card, _, err := e.svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: fmt.Sprint("fan-", i)}, loyalty.LocaleDE)
				if err != nil {
					b.Fatal(err)
				}
				cards[i] = card.Member.CardNumber
			}
			till, err := e.svc.AuthenticateTill(ctx, tillKeyA)
			if err != nil {
				b.Fatal(err)
			}
			before := serverMemory()
			clients := startFanOutClients(b, e.server.URL, fanOutStreams)
			perStream := (serverMemory() - before) / fanOutStreams
			b.Logf("%d streams open: %d bytes per stream on the server", fanOutStreams, perStream)

			b.ResetTimer()
			start := time.Now()
			postAtRate(b, b.N, fanOutRate, func(i int) error {
				_, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{
					CardNumber: cards[rand.IntN(len(cards))], AmountMinor: 100, Currency: "EUR", IdempotencyKey: fmt.Sprint("fan-", i),
				})
				return err
			})
			posted := time.Since(start)
			res := clients.finish(b, b.N)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/posted.Seconds(), "changes/s")
			b.ReportMetric(float64(res.Deliveries)/res.Seconds, "deliveries/s")
			b.ReportMetric(res.P50Ms, "p50-ms")
			b.ReportMetric(res.P99Ms, "p99-ms")
			b.ReportMetric(float64(perStream), "B/stream")
			if res.Deliveries != b.N {
				b.Errorf("clients got %d updates, want %d", res.Deliveries, b.N)
			}
		})
	}
}

// serverMemory returns the heap and stack memory in use after a GC.
func serverMemory() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// postAtRate calls post n times, at rate calls per second, from a few
// goroutines.
func postAtRate(b *testing.B, n, rate int, post func(i int) error) {
	const workers = 8
	tokens := make(chan int, rate)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range tokens {
				if err := post(i); err != nil {
					b.Error(err)
				}
			}
		})
	}
	const tick = 10 * time.Millisecond
	perTick := rate * int(tick) / int(time.Second)
	t := time.NewTicker(tick)
	for i := 0; i < n; {
		for j := 0; j < perTick && i < n; j++ {
			tokens <- i
			i++
		}
		<-t.C
	}
	t.Stop()
	close(tokens)
	wg.Wait()
}

// fanOutClients is the client process of BenchmarkWatchFanOut.
type fanOutClients struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	out   *bufio.Scanner
}

// fanOutResult is what the client process saw.
type fanOutResult struct {
	Deliveries int
	Seconds    float64
	P50Ms      float64
	P99Ms      float64
}

func startFanOutClients(b *testing.B, url string, streams int) *fanOutClients {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanOutClientProcess$")
	cmd.Env = append(os.Environ(), "TREUE_FANOUT_URL="+url, "TREUE_FANOUT_STREAMS="+strconv.Itoa(streams))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &fanOutClients{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for c.out.Scan() {
		if c.out.Text() == "ready" {
			return c
		}
	}
	b.Fatalf("client process ended before its streams were open: %v", c.out.Err())
	return nil
}

// finish waits until the clients saw want updates (or 10 s passed) and
// returns their figures.
func (c *fanOutClients) finish(b *testing.B, want int) fanOutResult {
	fmt.Fprintf(c.stdin.(interface{ Write([]byte) (int, error) }), "%d\n", want)
	var res fanOutResult
	for c.out.Scan() {
		if err := json.Unmarshal(c.out.Bytes(), &res); err == nil {
			return res
		}
	}
	b.Fatalf("client process sent no result: %v", c.out.Err())
	return res
}

// TestFanOutClientProcess is BenchmarkWatchFanOut's client process; it does
// nothing in a normal test run.
func TestFanOutClientProcess(t *testing.T) {
	url := os.Getenv("TREUE_FANOUT_URL")
	if url == "" {
		return
	}
	streams, _ := strconv.Atoi(os.Getenv("TREUE_FANOUT_STREAMS"))
	const conns = 50
	clients := make([]treuev1connect.CardServiceClient, conns)
	for i := range clients {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		clients[i] = treuev1connect.NewCardServiceClient(&http.Client{Transport: tr}, url)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		first     time.Time
		last      time.Time
		opened    sync.WaitGroup
		delivered atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range streams {
		opened.Add(1)
		go func() {
			c := clients[i%conns]
			req := connect.NewRequest(&treuev1.WatchCardRequest{})
			req.Header().Set("Authorization", fmt.Sprint("Bearer dev:fan-", i))
			s, err := c.WatchCard(ctx, req)
			if err != nil || !s.Receive() {
				t.Errorf("stream %d: %v %v", i, err, s.Err())
				opened.Done()
				return
			}
			opened.Done()
			for s.Receive() {
				now := time.Now()
				for _, a := range s.Msg().GetUpdate().GetActivities() {
					d := now.Sub(a.GetCreateTime().AsTime())
					mu.Lock()
					if first.IsZero() {
						first = now
					}
					last = now
					latencies = append(latencies, d)
					mu.Unlock()
					delivered.Add(1)
				}
			}
		}()
	}
	opened.Wait()
	fmt.Println("ready")
	var want int64
	fmt.Scan(&want)
	deadline := time.Now().Add(10 * time.Second)
	for delivered.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}
	out, _ := json.Marshal(fanOutResult{
		Deliveries: len(latencies), Seconds: last.Sub(first).Seconds(), P50Ms: pct(0.50), P99Ms: pct(0.99),
	})
	fmt.Println(string(out))
}

// BenchmarkIdleStreamMemory compares the server memory of 10,000 idle
// WatchCard streams with that of 10,000 streams of a bare connect-go
// handler that sends one card and waits: the difference is what Treue adds
// per stream.
//
//	go test ./bff -run '^$' -bench IdleStreamMemory -benchtime 1x
func BenchmarkIdleStreamMemory(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		mux := http.NewServeMux()
		mux.Handle(treuev1connect.NewCardServiceHandler(idleCardHandler{}))
		srv := httptest.NewUnstartedServer(mux)
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		b.Cleanup(srv.Close)
		before := serverMemory()
		clients := startFanOutClients(b, srv.URL, fanOutStreams)
		b.ReportMetric(float64((serverMemory()-before)/fanOutStreams), "B/stream")
		clients.finish(b, 0)
	})
	b.Run("treue", func(b *testing.B) {
		e := newEnvWith(b, openSQLite(b), memory.New())
		ctx := context.Background()
		for i := range fanOutStreams {
			if _, _, err := e.svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: fmt.Sprint("fan-", i)}, loyalty.LocaleDE); err != nil {
				b.Fatal(err)
			}
		}
		before := serverMemory()
		clients := startFanOutClients(b, e.server.URL, fanOutStreams)
		b.ReportMetric(float64((serverMemory()-before)/fanOutStreams), "B/stream")
		clients.finish(b, 0)
	})
}

// idleCardHandler sends one constant card on WatchCard and waits.
type idleCardHandler struct {
	treuev1connect.UnimplementedCardServiceHandler
}

func (idleCardHandler) WatchCard(ctx context.Context, _ *connect.Request[treuev1.WatchCardRequest], s *connect.ServerStream[treuev1.WatchCardResponse]) error {
	err := s.Send(&treuev1.WatchCardResponse{Event: &treuev1.WatchCardResponse_Update{Update: &treuev1.CardUpdate{
		Card: &treuev1.Card{CardNumber: "9276000000000000", Balance: 120, PointName: "Sterne", Version: 7},
	}}})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
