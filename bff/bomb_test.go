package bff_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// maxBombGrowth bounds how much a decompression bomb may grow the heap.
const maxBombGrowth = 64 << 20

// TestCompressionBomb sends requests whose gzip bodies inflate far beyond
// the request limit: 1 GiB (about 1.3 MB on the wire, beyond the limit
// already compressed) and 160 MiB (within the limit compressed, so the
// server inflates it), as a Connect unary call, a gRPC call and a Connect
// stream. Each must be refused, and the heap must not grow by more than
// maxBombGrowth while the server handles it.
//
// It is not parallel: it measures the process's heap.
func TestCompressionBomb(t *testing.T) {
	e := newEnv(t)
	const gib = 1 << 30
	const small = 160 << 20
	var big, within bytes.Buffer
	// Gzipping 1 GiB takes a second, many under the race detector: -short
	// sends only the bombs within the limit, the ones the server inflates.
	if !testing.Short() {
		gzipZeros(t, &big, gib)
	}
	gzipZeros(t, &within, small)
	if within.Len() >= bff.DefaultMaxRequestBytes {
		t.Fatalf("the bomb within the limit is %d bytes compressed, not within %d", within.Len(), bff.DefaultMaxRequestBytes)
	}
	t.Logf("1 GiB of zeros is %d bytes gzipped (0 in -short), 160 MiB %d", big.Len(), within.Len())
	unary := e.server.URL + treuev1connect.AccountServiceGetProfileProcedure
	watch := e.server.URL + treuev1connect.CardServiceWatchCardProcedure
	cases := []struct {
		name string
		big  bool
		req  func(ctx context.Context) (*http.Request, func())
	}{
		{"connect unary 1GiB streamed", true, func(ctx context.Context) (*http.Request, func()) {
			// Compressed as it is sent: no more than a gzip window is ever held.
			pr, pw := io.Pipe()
			var wg sync.WaitGroup
			wg.Go(func() { pw.CloseWithError(gzipZeros(t, pw, gib)) })
			req := newBombRequest(ctx, unary, pr, "application/proto", "Content-Encoding")
			return req, func() {
				pr.CloseWithError(io.ErrClosedPipe)
				wg.Wait()
			}
		}},
		{"grpc 1GiB", true, func(ctx context.Context) (*http.Request, func()) {
			return newBombRequest(ctx, unary, envelopeReader(big.Bytes()), "application/grpc", "Grpc-Encoding"), func() {}
		}},
		{"connect unary 160MiB within the limit", false, func(ctx context.Context) (*http.Request, func()) {
			return newBombRequest(ctx, unary, bytes.NewReader(within.Bytes()), "application/proto", "Content-Encoding"), func() {}
		}},
		{"grpc 160MiB within the limit", false, func(ctx context.Context) (*http.Request, func()) {
			return newBombRequest(ctx, unary, envelopeReader(within.Bytes()), "application/grpc", "Grpc-Encoding"), func() {}
		}},
		{"connect stream 160MiB within the limit", false, func(ctx context.Context) (*http.Request, func()) {
			return newBombRequest(ctx, watch, envelopeReader(within.Bytes()), "application/connect+proto", "Connect-Content-Encoding"), func() {}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.big && testing.Short() {
				t.Skip("-short: no 1 GiB bombs")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			runtime.GC()
			rss := vmRSS(t)
			stop := sampleHeap()
			req, done := c.req(ctx)
			res, err := e.client.Do(req)
			mustOK(t, err)
			a, err := bombAnswer(res)
			res.Body.Close()
			done()
			base, peak := stop()
			mustOK(t, err)
			switch a.code {
			case connect.CodeResourceExhausted, connect.CodeInvalidArgument:
			default:
				t.Errorf("answered %v (%s), want resource_exhausted or invalid_argument", a.code, a.message)
			}
			growth := int64(peak) - int64(base)
			t.Logf("%v: %s; heap in use grew by %.1f MiB at most (%.1f to %.1f MiB), RSS %.1f to %.1f MiB",
				a.code, a.message, mib(growth), mib(int64(base)), mib(int64(peak)), mib(rss), mib(vmRSS(t)))
			if growth > maxBombGrowth {
				t.Errorf("heap grew by %.1f MiB, more than %.0f MiB", mib(growth), mib(maxBombGrowth))
			}
		})
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// gzipZeros writes n zero bytes gzipped to w, a chunk at a time.
func gzipZeros(t testing.TB, w io.Writer, n int64) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		t.Error(err)
		return err
	}
	zeros := make([]byte, 1<<16)
	for ; n > 0; n -= int64(len(zeros)) {
		if _, err := zw.Write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// envelopeReader returns compressed in a compressed gRPC or Connect
// envelope, without copying it.
func envelopeReader(compressed []byte) io.Reader {
	prefix := make([]byte, 5)
	prefix[0] = 1
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(compressed)))
	return io.MultiReader(bytes.NewReader(prefix), bytes.NewReader(compressed))
}

func newBombRequest(ctx context.Context, url string, body io.Reader, contentType, encodingHeader string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(encodingHeader, "gzip")
	req.Header.Set("Authorization", "Bearer dev:bomber")
	if strings.HasPrefix(contentType, "application/grpc") {
		req.Header.Set("Te", "trailers")
	}
	return req
}

// bombAnswer returns the error a bomb was answered with, in any of the
// protocols.
func bombAnswer(res *http.Response) (answer, error) {
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return answer{}, err
	}
	ct := res.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc"):
		if s := res.Header.Get("Grpc-Status"); s != "" {
			return grpcStatus(s, res.Header.Get("Grpc-Message"))
		}
		return grpcStatus(res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message"))
	case strings.HasPrefix(ct, "application/connect+"):
		for r := bytes.NewReader(b); ; {
			flags, data, err := readEnvelope(r)
			if err != nil {
				return answer{}, fmt.Errorf("stream without an end: %w", err)
			}
			if flags&2 != 0 {
				var end struct {
					Error json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal(data, &end); err != nil || len(end.Error) == 0 {
					return answer{}, fmt.Errorf("end of stream without an error: %q", data)
				}
				return parseConnectError(end.Error)
			}
		}
	case res.StatusCode != http.StatusOK:
		return parseConnectError(b)
	}
	return answer{}, fmt.Errorf("status %d, content type %q: %q", res.StatusCode, ct, b)
}

// sampleHeap samples the heap in use until the returned func is called,
// which returns the heap in use at the start and the most seen since.
func sampleHeap() func() (base, peak uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := base
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(quit)
		<-done
		return base, peak
	}
}

// vmRSS returns the process's resident set size, from /proc/self/status
// (0 where there is none).
func vmRSS(t testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Errorf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return 0
}
