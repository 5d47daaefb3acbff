package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLimiterLogsOncePerInterval: repeats of a kind within the interval
// are counted, not logged, and the next line says how many; kinds are
// limited separately.
func TestLimiterLogsOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 50*time.Millisecond)
	for range 5 {
		l.Log(slog.LevelWarn, "a", "failure a")
	}
	l.Log(slog.LevelWarn, "b", "failure b")
	time.Sleep(60 * time.Millisecond)
	l.Log(slog.LevelWarn, "a", "failure a")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[2], "suppressed_since_last_log=4") || strings.Contains(lines[0], "suppressed") {
		t.Fatalf("lines:\n%s\nwant the third to count 4 suppressed", buf.String())
	}
}
