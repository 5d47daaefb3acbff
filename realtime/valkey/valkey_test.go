package valkey_test

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/treue/treue/realtime"
	"github.com/treue/treue/realtime/realtimetest"
	"github.com/treue/treue/realtime/valkey"
	"github.com/treue/treue/realtime/valkey/valkeytest"
)

func TestBroker(t *testing.T) {
	addr := valkeytest.Addr(t)
	var (
		mu       sync.Mutex
		prefixes = map[*testing.T]string{}
	)
	// Every open of one test connects a new replica to the test's prefix.
	realtimetest.Run(t, func(t *testing.T) realtime.Broker {
		mu.Lock()
		prefix, ok := prefixes[t]
		if !ok {
			prefix = valkeytest.Prefix(t, addr)
			prefixes[t] = prefix
		}
		mu.Unlock()
		return valkeytest.NewBroker(t, valkey.Config{Addrs: []string{addr}, Prefix: prefix})
	})
}

func TestNewUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = valkey.New(t.Context(), valkey.Config{Addrs: []string{addr}})
	if err == nil {
		t.Fatal("New with an unreachable address succeeded")
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("New's error %q does not name %s", err, addr)
	}
	if _, err := valkey.New(t.Context(), valkey.Config{}); err == nil {
		t.Error("New without addresses succeeded")
	}
}
