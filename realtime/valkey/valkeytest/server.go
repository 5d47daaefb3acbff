package valkeytest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// redisServerPath is where redis-server is looked for when it is not on
// $PATH.
const redisServerPath = "/usr/bin/redis-server"

// Server is a private redis-server, without persistence, that a test
// starts, kills and restarts. It is not safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	addr string
	port int
	dir  string

	cmd  *exec.Cmd
	out  bytes.Buffer  // the running process's stdout and stderr
	done chan struct{} // closed when the running process has exited
	err  error         // the process's exit, once done is closed
}

// StartServer starts a redis-server on a free port of 127.0.0.1, with
// --save "" --appendonly no, and waits until it answers PING. The server is
// killed when t ends. Without a redis-server binary ($PATH or
// /usr/bin/redis-server) the test is skipped, or fails under CI=true.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, serr := os.Stat(redisServerPath); serr != nil {
			unavailable(t, "valkeytest: no redis-server binary (on $PATH or at %s) to start a private server: %v", redisServerPath, err)
		}
		bin = redisServerPath
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("valkeytest: find a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{
		t:    t,
		bin:  bin,
		port: port,
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:  t.TempDir(), // removed after the kill below, cleanups being LIFO
	}
	t.Cleanup(s.Kill)
	s.Start()
	return s
}

// Addr returns the server's host:port, the same across restarts.
func (s *Server) Addr() string { return s.addr }

// Start starts the server again on the same port, empty, and waits until it
// answers PING. It fails the test when the server is already running, exits,
// or does not answer within 10 seconds.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("valkeytest: Start: redis-server on %s is already running", s.addr)
	}
	s.out.Reset()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("valkeytest: start %s: %v", s.bin, err)
	}
	s.cmd, s.done, s.err = cmd, make(chan struct{}), nil
	go func(done chan struct{}) {
		s.err = cmd.Wait()
		close(done)
	}(s.done)

	deadline := time.Now().Add(timeout)
	for ping(s.addr) != nil {
		select {
		case <-s.done:
			err := s.err
			s.cmd = nil
			s.t.Fatalf("valkeytest: redis-server on %s exited before answering PING: %v\n%s", s.addr, err, s.out.Bytes())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			s.t.Fatalf("valkeytest: redis-server on %s did not answer PING within %v\n%s", s.addr, timeout, s.out.Bytes())
		}
	}
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it to
// exit. Killing a server that is not running does nothing.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("valkeytest: kill redis-server on %s: %v", s.addr, err)
	}
	<-s.done
	s.cmd = nil
}
