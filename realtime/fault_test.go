package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/valkey"
	"github.com/treue/treue/realtime/valkey/valkeytest"
)

// outage is a way for Valkey to go away and come back.
type outage struct {
	name string
	// start returns the address to use, and functions that take Valkey
	// away and bring it back.
	start func(t *testing.T) (addr string, down, up func())
}

var outages = []outage{
	// The server restarts and comes back empty.
	{"restart", func(t *testing.T) (string, func(), func()) {
		srv := valkeytest.StartServer(t)
		return srv.Addr(), srv.Kill, srv.Start
	}},
	// The network to the server breaks and heals; the server keeps the
	// cards cached before, which are stale by the time it is back.
	{"partition", func(t *testing.T) (string, func(), func()) {
		p := newProxy(t, valkeytest.Addr(t))
		return p.addr, p.cut, p.heal
	}},
}

// TestValkeyOutage takes Valkey away during a run of earns and reads and
// brings it back: no read may show a balance older than the earn before
// it, during the outage or after, and the cache must come back by itself.
func TestValkeyOutage(t *testing.T) {
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			addr, down, up := o.start(t)
			broker := valkeytest.NewBroker(t, valkey.Config{Addrs: []string{addr}, Prefix: valkeytest.Prefix(t, valkeytest.Addr(t))})
			f := newFixture(t, broker, realtime.Config{SweepInterval: 100 * time.Millisecond})
			f.run(t)
			ctx := context.Background()

			const members = 4
			var (
				stop          atomic.Bool
				wg            sync.WaitGroup
				reads, stales atomic.Int64
				staleAfter    atomic.Int64
				recovered     atomic.Bool
			)
			for m := range members {
				c, card := f.enrol(t, "outage-"+string(rune('a'+m)))
				wg.Go(func() {
					for !stop.Load() {
						res, err := f.svc.Earn(ctx, f.till, loyalty.EarnRequest{CardNumber: card, AmountMinor: 100, Currency: "EUR", IdempotencyKey: newKey()})
						if err != nil {
							t.Error(err)
							return
						}
						st, err := f.hub.Card(ctx, c, 0)
						if err != nil {
							t.Error(err)
							return
						}
						reads.Add(1)
						if st.Balance < res.Balance {
							stales.Add(1)
							if recovered.Load() {
								staleAfter.Add(1)
							}
						}
					}
				})
			}
			time.Sleep(500 * time.Millisecond)
			down()
			waitFor(t, func() bool { return !f.hub.CacheUp() })
			time.Sleep(time.Second)
			readsDown := reads.Load()
			up()
			back := time.Now()
			waitFor(t, func() bool { return f.hub.CacheUp() && f.hub.Listening() })
			recovery := time.Since(back)
			recovered.Store(true)
			hitsBefore := f.hub.Stats().CacheHits.Load()
			time.Sleep(time.Second)
			stop.Store(true)
			wg.Wait()
			t.Logf("%s: %d reads in all, %d while Valkey was away; recovered %v after Valkey was back; stale reads: %d in all, %d after recovery; %d cache hits after recovery",
				o.name, reads.Load(), readsDown, recovery.Round(time.Millisecond), stales.Load(), staleAfter.Load(), f.hub.Stats().CacheHits.Load()-hitsBefore)
			if stales.Load() != 0 {
				t.Errorf("%d stale reads (%d after recovery), want 0", stales.Load(), staleAfter.Load())
			}
			if f.hub.Stats().CacheHits.Load() == hitsBefore {
				t.Error("no read came from the cache after recovery")
			}
		})
	}
}

var keySeq atomic.Int64

func newKey() string { return fmt.Sprint("outage-", keySeq.Add(1)) }

// proxy forwards TCP connections to a server and can cut them all, like a
// broken network.
type proxy struct {
	addr   string
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
