// Package valkeytest helps tests that need a Valkey (or Redis) server: a
// shared server named by TREUE_TEST_VALKEY_ADDR, key prefixes that keep
// tests apart on it, brokers closed when the test ends, and private
// redis-server processes a test can kill and restart.
//
// A test that cannot get the server it needs is skipped, except under
// CI=true, where every test must run and the test fails instead.
package valkeytest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"github.com/treue/treue/realtime/valkey"
)

// AddrEnv names the environment variable holding the host:port of the
// shared test server.
const AddrEnv = "TREUE_TEST_VALKEY_ADDR"

// DefaultAddr is the shared test server's address when AddrEnv is unset.
const DefaultAddr = "127.0.0.1:6379"

// timeout bounds every connection, command and wait of this package.
const timeout = 10 * time.Second

// Addr returns the address of the shared test server, $TREUE_TEST_VALKEY_ADDR
// or DefaultAddr, after checking that it answers PING. When it does not, the
// test is skipped, or fails under CI=true.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(AddrEnv)
	if addr == "" {
		addr = DefaultAddr
	}
	if err := ping(addr); err != nil {
		unavailable(t, "valkeytest: no Valkey server answers PING at %s (set %s to a reachable host:port): %v", addr, AddrEnv, err)
	}
	return addr
}

// Prefix returns a key prefix no other test or test run uses, for a
// valkey.Config on the server at addr. When t ends, every key under the
// prefix is deleted from that server; register Prefix before the brokers
// using it, so that they are closed first.
func Prefix(t testing.TB, addr string) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "treuetest-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := deleteKeys(addr, prefix); err != nil {
			t.Errorf("valkeytest: delete keys under %s on %s: %v", prefix, addr, err)
		}
	})
	return prefix
}

// NewBroker returns valkey.New(cfg), closed when t ends. It fails the test
// when New fails or takes longer than 10 seconds.
func NewBroker(t testing.TB, cfg valkey.Config) *valkey.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	b, err := valkey.New(ctx, cfg)
	if err != nil {
		t.Fatalf("valkeytest: new broker on %v: %v", cfg.Addrs, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// deleteKeys unlinks every key matching prefix+":*" on every node of the
// server at addr.
func deleteKeys(addr, prefix string) error {
	c, err := vk.NewClient(vk.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, node := range c.Nodes() {
		var cursor uint64
		for {
			e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+":*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				return err
			}
			// One key a command, sent through c, so that each goes to the
			// key's primary even in a cluster.
			cmds := make(vk.Commands, 0, len(e.Elements))
			for _, k := range e.Elements {
				cmds = append(cmds, c.B().Unlink().Key(k).Build())
			}
			for _, r := range c.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					return err
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// ping sends PING to addr and returns an error unless it answers PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return &replyError{strings.TrimSpace(line)}
	}
	return nil
}

// replyError is a reply to PING other than PONG.
type replyError struct{ reply string }

// Error implements error.
func (e *replyError) Error() string { return "PING answered " + e.reply }

// unavailable fails the test under CI=true, where every test must run, and
// skips it elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
