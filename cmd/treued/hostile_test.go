//go:build linux

package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/treue/treue/bff"
)

// Hostile clients against the whole treued: the HTTP server's timeouts,
// the API's message limits after decompression, and its rate limits and
// call deadline as the settings give them. Those that measure the process
// or time do not run in parallel.

// raiseFileLimit makes sure the process may open need files, raising the
// soft RLIMIT_NOFILE up to the hard one if it must.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < need {
		if lim.Max < need {
			t.Fatalf("RLIMIT_NOFILE: hard limit %d, the test needs %d open files: raise it (ulimit -Hn)", lim.Max, need)
		}
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatalf("raise RLIMIT_NOFILE to %d: %v", lim.Max, err)
		}
	}
	t.Logf("RLIMIT_NOFILE: soft %d, hard %d", lim.Cur, lim.Max)
}

// callJSON posts a Connect unary call with a JSON body and returns the
// HTTP status and the Connect error code ("" on success).
func callJSON(t *testing.T, base, procedure, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e struct{ Code, Message string }
	json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Code
}

func TestSlowlorisConnectionsAreClosed(t *testing.T) {
	const (
		conns         = 1000
		headerTimeout = time.Second
		slack         = 10 * time.Second
		partial       = "POST /treue.v1.CardService/GetCard HTTP/1.1\r\nHost: x\r\n"
	)
	// Each connection is two files here: the client's end and treued's.
	raiseFileLimit(t, 2*conns+1000)
	base, _ := startTreued(t, map[string]string{"TREUE_READ_HEADER_TIMEOUT": headerTimeout.String()})
	addr := strings.TrimPrefix(base, "http://")

	// A customer's calls go on during the attack, each on a new
	// connection, at a pace below the customer rate limit.
	var rpcOK, rpcFailed atomic.Int64
	var rpcErr atomic.Value
	stopRPC := make(chan struct{})
	var rpcDone sync.WaitGroup
	rpcDone.Go(func() {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			res := func() error {
				req, _ := http.NewRequest(http.MethodPost, base+"/treue.v1.AccountService/Enroll", strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer dev:slowloris-bystander")
				res, err := hc.Do(req)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return errors.New(res.Status)
				}
				return nil
			}()
			if res != nil {
				rpcFailed.Add(1)
				rpcErr.Store(res.Error())
			} else {
				rpcOK.Add(1)
			}
			select {
			case <-stopRPC:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	})

	var (
		mu       sync.Mutex
		closedIn []time.Duration
		open     int
		failures []string
	)
	start := time.Now()
	dialers := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			dialers <- struct{}{}
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			<-dialers
			if err != nil {
				mu.Lock()
				failures = append(failures, "dial: "+err.Error())
				mu.Unlock()
				return
			}
			defer c.Close()
			if _, err := c.Write([]byte(partial)); err != nil {
				mu.Lock()
				failures = append(failures, "write: "+err.Error())
				mu.Unlock()
				return
			}
			sent := time.Now()
			c.SetReadDeadline(sent.Add(headerTimeout + slack))
			// The server closes the connection (EOF, or a reset), perhaps
			// after an error response; our own deadline means it did not.
			_, err = io.Copy(io.Discard, c)
			took := time.Since(sent)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				open++
				return
			}
			closedIn = append(closedIn, took)
		})
	}
	wg.Wait()
	close(stopRPC)
	rpcDone.Wait()

	slices.Sort(closedIn)
	var slowest, fastest, median time.Duration
	if n := len(closedIn); n > 0 {
		fastest, median, slowest = closedIn[0], closedIn[n/2], closedIn[n-1]
	}
	t.Logf("slowloris: %d of %d connections closed by treued (ReadHeaderTimeout %v): fastest %v, median %v, slowest %v; %d still open after %v; attack took %v",
		len(closedIn), conns, headerTimeout, fastest.Round(time.Millisecond), median.Round(time.Millisecond), slowest.Round(time.Millisecond),
		open, headerTimeout+slack, time.Since(start).Round(time.Millisecond))
	t.Logf("meanwhile: %d calls succeeded, %d failed", rpcOK.Load(), rpcFailed.Load())
	if len(failures) > 0 {
		t.Errorf("%d connections failed before the partial request was sent, e.g. %s", len(failures), failures[0])
	}
	if len(closedIn) != conns {
		t.Errorf("%d of %d connections with a partial request were still open %v after it: no header timeout", open, conns, headerTimeout+slack)
	}
	if rpcOK.Load() == 0 || rpcFailed.Load() > 0 {
		t.Errorf("calls during the attack: %d succeeded, %d failed (last: %v)", rpcOK.Load(), rpcFailed.Load(), rpcErr.Load())
	}
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// gzipZeros returns n zero bytes, gzip-compressed.
func gzipZeros(t *testing.T, n int64) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := io.Copy(zw, io.LimitReader(zeros{}, n)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gzip1KiB returns a gzip stream of exactly 1024 bytes that inflates to
// as many zeros as fit, and their number.
func gzip1KiB(t *testing.T) ([]byte, int64) {
	t.Helper()
	// Deflate inflates by 1032:1 at most.
	lo, hi := int64(0), int64(2<<20)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if len(gzipZeros(t, mid)) <= 1024 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for n := lo; n > lo-4096; n-- {
		if b := gzipZeros(t, n); len(b) == 1024 {
			return b, n
		}
	}
	t.Fatalf("no gzip stream of zeros is 1024 bytes long (%d zeros make %d)", lo, len(gzipZeros(t, lo)))
	return nil, 0
}

// procStatusKiB returns a field of /proc/self/status in KiB.
func procStatusKiB(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", field, v, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// zeroGzip writes gzip streams of zeros without compressing them, so a
// GiB costs the client nothing (compressing it costs seconds, a minute and
// a half under the race detector): deflate at BestCompression turns each
// MiB of zeros after the first into the same block, since its state after
// each MiB is the same.
type zeroGzip struct {
	first, next []byte // deflate blocks of the first MiB and of the next ones
}

const mib = 1 << 20

// newZeroGzip compresses the first three MiB and checks that the blocks
// of the second and third are the same.
func newZeroGzip(t *testing.T) *zeroGzip {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	var blocks [3][]byte
	for i := range blocks {
		fw.Write(make([]byte, mib))
		// A sync flush ends the block on a byte boundary.
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		blocks[i] = bytes.Clone(buf.Bytes())
		buf.Reset()
	}
	if !bytes.Equal(blocks[1], blocks[2]) {
		t.Fatal("compress/flate no longer makes the same block of every MiB of zeros: make the bombs otherwise")
	}
	z := &zeroGzip{first: blocks[0], next: blocks[1]}
	// Check the construction on a few MiB.
	var small bytes.Buffer
	if err := z.write(&small, 3); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&small)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, zr); n != 3*mib || err != nil {
		t.Fatalf("3 MiB of zeros as repeated blocks inflate to %d bytes, %v", n, err)
	}
	return z
}

// write writes a gzip stream (one member) of n MiB of zeros to w.
func (z *zeroGzip) write(w io.Writer, n int) error {
	// Magic, deflate, no flags, no time, best compression, unknown OS.
	header := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255}
	if _, err := w.Write(header); err != nil {
		return err
	}
	if _, err := w.Write(z.first); err != nil {
		return err
	}
	for range n - 1 {
		if _, err := w.Write(z.next); err != nil {
			return err
		}
	}
	// An empty final stored block, then the CRC-32 and length (mod 2^32)
	// of what it inflates to.
	zeroMiB := make([]byte, mib)
	var crc uint32
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, zeroMiB)
	}
	trailer := []byte{1, 0, 0, 0xff, 0xff}
	trailer = binary.LittleEndian.AppendUint32(trailer, crc)
	trailer = binary.LittleEndian.AppendUint32(trailer, uint32(n*mib))
	_, err := w.Write(trailer)
	return err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func TestGzipBombsAreRefused(t *testing.T) {
	const limit = 100 << 20
	base, _ := startTreued(t, nil)
	const till = "demo-store-key" // the default TREUE_DEV_STORE_KEY

	post := func(body io.Reader) (int, string, string) {
		req, err := http.NewRequest(http.MethodPost, base+"/treue.v1.PosService/Earn", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Connect-Protocol-Version", "1")
		req.Header.Set("Authorization", "Bearer "+till)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("Earn with a gzip bomb: %v", err)
		}
		defer res.Body.Close()
		var e struct{ Code, Message string }
		if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&e); err != nil {
			t.Errorf("answer %s is no Connect error: %v", res.Status, err)
		}
		return res.StatusCode, e.Code, e.Message
	}
	// Warm up the paths the bombs take, with an honest compressed call
	// (refused too: zeros are no EarnRequest).
	if status, _, _ := post(bytes.NewReader(gzipZeros(t, 16))); status == http.StatusOK {
		t.Fatal("zeros earned points")
	}
	small, inflated := gzip1KiB(t)
	zg := newZeroGzip(t)
	// The largest body the message limit lets in before decompressing:
	// connect-go inflates what is beyond the limit into io.Discard to
	// report the size, which costs time but no memory.
	const nearLimitMiB = 250
	var nearLimit bytes.Buffer
	if err := zg.write(&nearLimit, nearLimitMiB); err != nil {
		t.Fatal(err)
	}

	rssBefore, peakBefore := procStatusKiB(t, "VmRSS"), procStatusKiB(t, "VmHWM")

	// 1 GiB of zeros as one gzip stream, written as it is sent: about
	// 1 MiB on the wire.
	pr, pw := io.Pipe()
	sent := &countingWriter{w: pw}
	var writer sync.WaitGroup
	writer.Go(func() { pw.CloseWithError(zg.write(sent, 1024)) })
	start := time.Now()
	status, code, msg := post(pr)
	pr.CloseWithError(errors.New("answered"))
	writer.Wait()
	t.Logf("1 GiB bomb: %d %s (%s) after %v; the client had sent %d KiB of %d KiB",
		status, code, msg, time.Since(start).Round(time.Millisecond), sent.n.Load()>>10, int64(10+len(zg.first)+1023*len(zg.next)+13)>>10)
	if status == http.StatusOK || code == "" {
		t.Errorf("1 GiB bomb: status %d, code %q: want a Connect error", status, code)
	}

	status, code, msg = post(bytes.NewReader(small))
	t.Logf("1 KiB bomb: %d bytes of gzip inflating to %d bytes (%.0f KiB, %d:1): %d %s (%s)",
		len(small), inflated, float64(inflated)/1024, inflated/int64(len(small)), status, code, msg)
	if status == http.StatusOK || code == "" {
		t.Errorf("1 KiB bomb: status %d, code %q: want a Connect error", status, code)
	}

	start = time.Now()
	nearLimitBytes := nearLimit.Len()
	status, code, msg = post(&nearLimit)
	t.Logf("%d KiB of gzip inflating to %d MiB, under the 256 KiB limit before decompression: %d %s (%s) after %v",
		nearLimitBytes>>10, nearLimitMiB, status, code, msg, time.Since(start).Round(time.Millisecond))
	if status == http.StatusOK || code == "" {
		t.Errorf("%d KiB bomb: status %d, code %q: want a Connect error", nearLimitBytes>>10, status, code)
	}

	rssAfter, peakAfter := procStatusKiB(t, "VmRSS"), procStatusKiB(t, "VmHWM")
	growth, peakGrowth := (rssAfter-rssBefore)<<10, (peakAfter-peakBefore)<<10
	t.Logf("RSS change: %d MiB (VmRSS %d -> %d MiB; peak VmHWM %d -> %d MiB, +%d MiB)",
		growth>>20, rssBefore>>10, rssAfter>>10, peakBefore>>10, peakAfter>>10, peakGrowth>>20)
	if growth >= limit || peakGrowth >= limit {
		t.Errorf("memory grew by %d MiB (peak by %d MiB) for three bombs: want under %d MiB", growth>>20, peakGrowth>>20, limit>>20)
	}
}

func TestLimitSettings(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// The settings leave MaxCallers to bff.
	wantDefaults := bff.DefaultRates
	wantDefaults.MaxCallers = 0
	if c.Rates != wantDefaults || c.MaxCallDuration != bff.DefaultMaxCallDuration {
		t.Errorf("defaults: rates %+v, max call duration %v; want %+v and %v", c.Rates, c.MaxCallDuration, bff.DefaultRates, bff.DefaultMaxCallDuration)
	}
	env := map[string]string{
		"TREUE_RATE_CUSTOMER": "2.5", "TREUE_RATE_CUSTOMER_BURST": "5",
		"TREUE_RATE_TILL": "inf", "TREUE_RATE_TILL_BURST": "7",
		"TREUE_RATE_OPERATOR": "0.5", "TREUE_RATE_OPERATOR_BURST": "1",
		"TREUE_MAX_CALL_DURATION": "2s",
	}
	c, err = parseConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := bff.Rates{Customer: 2.5, CustomerBurst: 5, Till: math.Inf(1), TillBurst: 7, Operator: 0.5, OperatorBurst: 1}
	if c.Rates != want || c.MaxCallDuration != 2*time.Second {
		t.Errorf("rates %+v, max call duration %v; want %+v and 2s", c.Rates, c.MaxCallDuration, want)
	}
	for _, bad := range []struct{ env, value string }{
		{"TREUE_RATE_CUSTOMER", "0"}, {"TREUE_RATE_CUSTOMER", "-1"}, {"TREUE_RATE_TILL", "NaN"},
		{"TREUE_RATE_OPERATOR", "fast"}, {"TREUE_RATE_TILL_BURST", "0"}, {"TREUE_RATE_OPERATOR_BURST", "1.5"},
		{"TREUE_RATE_CUSTOMER_BURST", "-3"}, {"TREUE_MAX_CALL_DURATION", "0s"}, {"TREUE_MAX_CALL_DURATION", "-1s"},
		{"TREUE_MAX_CALL_DURATION", "30s"}, // not less than the write timeout
	} {
		_, err := parseConfig(nil, func(k string) string {
			if k == bad.env {
				return bad.value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), bad.env) {
			t.Errorf("%s=%s: err %v, want one naming the setting", bad.env, bad.value, err)
		}
	}
}

func TestLimitSettingsReachTheAPI(t *testing.T) {
	base, _ := startTreued(t, map[string]string{
		"TREUE_RATE_CUSTOMER": "0.001", "TREUE_RATE_CUSTOMER_BURST": "1",
		"TREUE_RATE_TILL": "0.001", "TREUE_RATE_TILL_BURST": "1",
		"TREUE_RATE_OPERATOR": "0.001", "TREUE_RATE_OPERATOR_BURST": "1",
	})
	for _, c := range []struct{ procedure, token, body string }{
		{"/treue.v1.AccountService/Enroll", "dev:rate", "{}"},
		{"/treue.v1.PosService/LookupMember", "demo-store-key", `{"card_number":"0"}`},
		{"/treue.v1.AdminService/GetRules", "demo-operator-key", "{}"},
	} {
		first, firstCode := callJSON(t, base, c.procedure, c.token, c.body)
		second, secondCode := callJSON(t, base, c.procedure, c.token, c.body)
		t.Logf("%s twice: %d %q, then %d %q", c.procedure, first, firstCode, second, secondCode)
		if firstCode == "resource_exhausted" || secondCode != "resource_exhausted" {
			t.Errorf("%s with a burst of 1: %q then %q, want the second refused", c.procedure, firstCode, secondCode)
		}
	}

	// A call may not run longer than TREUE_MAX_CALL_DURATION.
	base, _ = startTreued(t, map[string]string{"TREUE_MAX_CALL_DURATION": "1ns"})
	status, code := callJSON(t, base, "/treue.v1.AccountService/Enroll", "dev:slow", "{}")
	if code != "deadline_exceeded" {
		t.Errorf("Enroll with TREUE_MAX_CALL_DURATION=1ns: %d %q, want deadline_exceeded", status, code)
	}
}
