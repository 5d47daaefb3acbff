package notify

import (
	"context"
	"log/slog"
	"sync"

	"github.com/treue/treue/redact"
)

// recorderKeeps bounds the pushes a Recorder keeps.
const recorderKeeps = 1000

// Recorder is the Sender of the embedded default: it accepts every push,
// logs it and keeps the last 1000 in memory. It is safe for concurrent use.
type Recorder struct {
	log    *slog.Logger
	mu     sync.Mutex
	pushes []Push
}

// NewRecorder returns a Recorder logging to log (nowhere when nil).
func NewRecorder(log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{log: log}
}

// Send records pushes and accepts each. It returns ctx's error when ctx
// has ended, recording nothing.
func (r *Recorder) Send(ctx context.Context, pushes []Push) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, p := range pushes {
		r.log.Info("notify: push recorded", "token", redact.Token(p.Token), "title", p.Title, "body", p.Body,
			"link", p.Data["link"], "collapse", p.Collapse, "ttl", p.TTL)
	}
	r.mu.Lock()
	r.pushes = append(r.pushes, pushes...)
	if n := len(r.pushes); n > recorderKeeps {
		r.pushes = append([]Push(nil), r.pushes[n-recorderKeeps:]...)
	}
	r.mu.Unlock()
	return make([]Result, len(pushes)), nil
}

// Pushes returns the pushes recorded, oldest first: the last 1000.
func (r *Recorder) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Push(nil), r.pushes...)
}
