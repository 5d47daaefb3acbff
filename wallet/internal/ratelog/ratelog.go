// Package ratelog keeps failures that repeat from flooding the log.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Limiter logs each kind of message at most once per interval, with the
// number of its occurrences left unlogged since. Kinds are meant to be a
// few constants, so its memory stays small. It is safe for concurrent use.
type Limiter struct {
	log   *slog.Logger
	every time.Duration

	mu   sync.Mutex
	last map[string]state
}

type state struct {
	at         time.Time
	suppressed int
}

// New returns a Limiter that logs to log each kind at most once per every.
func New(log *slog.Logger, every time.Duration) *Limiter {
	return &Limiter{log: log, every: every, last: make(map[string]state)}
}

// Log logs msg with args at level unless kind was logged less than the
// interval ago; then it only counts it.
func (l *Limiter) Log(level slog.Level, kind, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	st := l.last[kind]
	if !st.at.IsZero() && now.Sub(st.at) < l.every {
		st.suppressed++
		l.last[kind] = st
		l.mu.Unlock()
		return
	}
	l.last[kind] = state{at: now}
	l.mu.Unlock()
	if st.suppressed > 0 {
		args = append(args, "suppressed_since_last_log", st.suppressed)
	}
	l.log.Log(context.Background(), level, msg, args...)
}
