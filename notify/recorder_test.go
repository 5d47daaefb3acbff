package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
	"github.com/treue/treue/redact"
)

func TestRecorder(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r := notify.NewRecorder(slog.New(slog.NewTextHandler(&logs, nil)))
	pushes := make([]notify.Push, 1001)
	for i := range pushes {
		pushes[i] = notify.Push{Token: fmt.Sprintf("token-%04d-secret-part", i), Title: fmt.Sprintf("+%d Sterne", i)}
	}
	res, err := r.Send(t.Context(), pushes[:1])
	if err != nil || len(res) != 1 || res[0] != (notify.Result{}) {
		t.Fatalf("Send = %+v, %v, want one accepted", res, err)
	}
	if _, err := r.Send(t.Context(), pushes[1:]); err != nil {
		t.Fatal(err)
	}
	got := r.Pushes()
	if len(got) != 1000 || got[0].Title != "+1 Sterne" || got[999].Title != "+1000 Sterne" {
		t.Errorf("Pushes() holds %d, from %q to %q; want the last 1000", len(got), got[0].Title, got[len(got)-1].Title)
	}
	if !strings.Contains(logs.String(), "token="+redact.Token(pushes[0].Token)) || strings.Contains(logs.String(), "token-0") {
		t.Errorf("the log shows tokens other than as redact.Token:\n%.300s", logs.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Send(ctx, pushes[:1]); err == nil {
		t.Error("Send with an ended context succeeded")
	}
}

// TestDispatchRecorder runs the embedded default: the dispatcher sending
// through the Recorder.
func TestDispatchRecorder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := notify.NewRecorder(nil)
	d := notify.NewDispatcher(e.store, e.svc, rec, notify.DispatcherConfig{Clock: e.clock.Now})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleEN, "")
	e.earn(anna, 1200)
	st, err := d.RunOnce(e.ctx)
	if err != nil || st.Sent != 1 {
		t.Fatalf("RunOnce = %+v, %v, want one sent", st, err)
	}
	if got := rec.Pushes(); len(got) != 1 || got[0].Token != "tok-anna" || got[0].Title != "+12 stars" || got[0].Collapse != "points_earned" {
		t.Errorf("recorded %+v, want +12 stars to tok-anna", got)
	}
}
