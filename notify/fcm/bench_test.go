package fcm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/notify/fcm"
	"github.com/treue/treue/notify/fcm/fakefcm"
)

// benchPush is the push both benchmarks send.
func benchPush(i int) notify.Push {
	return notify.Push{
		Token: fmt.Sprintf("bench-token-%d", i), Title: "Punkte gutgeschrieben", Body: "+120 Punkte für Ihren Einkauf",
		Data:     map[string]string{"link": "treue://points/123", "kind": "points_earned"},
		Collapse: "points_earned", TTL: time.Hour,
	}
}

// rawBody returns the JSON body the SDK sends for benchPush(i).
func rawBody(i int) []byte {
	p := benchPush(i)
	exp := fmt.Sprint(time.Now().Add(p.TTL).Unix())
	b, _ := json.Marshal(map[string]any{"message": map[string]any{
		"token":        p.Token,
		"notification": map[string]string{"title": p.Title, "body": p.Body},
		"data":         p.Data,
		"android":      map[string]string{"collapse_key": p.Collapse, "priority": "high", "ttl": "3600s"},
		"apns":         map[string]any{"headers": map[string]string{"apns-collapse-id": p.Collapse, "apns-expiration": exp}},
		"webpush":      map[string]any{"headers": map[string]string{"TTL": "3600", "Topic": p.Collapse}},
	}})
	return b
}

// BenchmarkSend compares a raw HTTP/2 POST loop (16 goroutines, the fake
// server's client) with Sender.Send of 500-push batches, against fakefcm;
// both report msgs/s.
func BenchmarkSend(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		srv := fakefcm.New()
		defer srv.Close()
		url := srv.URL + "/v1/projects/demo-test/messages:send"
		client := srv.Client()
		const workers = 16
		// Open the connection first, as the sender does below.
		resp, err := client.Post(url, "application/json", bytes.NewReader(rawBody(-1)))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		cpu0 := cpuTime()
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= b.N {
						return
					}
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(rawBody(i)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		}
		wg.Wait()
		report(b, cpu0)
	})
	b.Run("sender", func(b *testing.B) {
		srv := fakefcm.New()
		defer srv.Close()
		s, err := fcm.New(b.Context(), fcm.Config{
			ProjectID: "demo-test", Options: srv.Options(), Rate: 1e9,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]notify.Push, fcm.MaxBatch)
		if _, err := s.Send(b.Context(), []notify.Push{benchPush(-1)}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu0 := cpuTime()
		for sent := 0; sent < b.N; {
			n := min(len(batch), b.N-sent)
			for i := range n {
				batch[i] = benchPush(sent + i)
			}
			res, err := s.Send(b.Context(), batch[:n])
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			sent += n
		}
		report(b, cpu0)
	})
}

// report reports msgs/s and the process's CPU time per message (client
// and fake server together), which other load on the machine disturbs
// less than the rate.
func report(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	}
}

// TestRateLimitHolds sends at Rate 500 with a small Burst for over 2
// seconds and checks the arrivals at the server in every 1- and 2-second
// window.
func TestRateLimitHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2.4s")
	}
	t.Parallel()
	const rate, burst, n = 500, 50, 1250
	srv, s := start(t, func(c *fcm.Config) { c.Rate, c.Burst = rate, burst })
	send(t, s, pushes(1)) // open the connection (see TestTokenBucket)
	time.Sleep(100 * time.Millisecond)
	srv.Reset()

	begin := time.Now()
	send(t, s, pushes(n))
	if d, want := time.Since(begin), time.Duration(n-burst)*time.Second/rate; d < want {
		t.Errorf("%d messages took %v, want ≥ %v", n, d, want)
	}
	msgs := srv.Messages()
	if len(msgs) != n {
		t.Fatalf("server got %d messages, want %d", len(msgs), n)
	}
	for _, w := range []time.Duration{time.Second, 2 * time.Second} {
		if most, limit := maxInWindow(msgs, w), bucketLimit(rate, burst, w); most > limit {
			t.Errorf("%d messages within %v, want ≤ %d", most, w, limit)
		} else {
			t.Logf("at most %d messages within %v (limit %d)", most, w, limit)
		}
	}
}
