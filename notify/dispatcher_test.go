package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
	"github.com/treue/treue/notify/fcm"
	"github.com/treue/treue/notify/fcm/fakefcm"
)

// fcmEnv is an env whose pushes go through package fcm to a local FCM
// server.
type fcmEnv struct {
	*env
	fcm    *fakefcm.Server
	sender *fcm.Sender
}

func newFCMEnv(t *testing.T, change ...func(*loyalty.Seed)) *fcmEnv {
	t.Helper()
	e := &fcmEnv{env: newEnv(t, change...), fcm: fakefcm.New()}
	t.Cleanup(e.fcm.Close)
	var err error
	// One quick retry within a Send, so that a failure FCM keeps up
	// reaches the dispatcher as retryable.
	e.sender, err = fcm.New(e.ctx, fcm.Config{
		ProjectID: "treue-test", Options: e.fcm.Options(), MaxRetries: 1,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	e.must(err)
	return e
}

// dispatcher returns a dispatcher on the env's clock, holder "a" unless
// cfg names one.
func (e *fcmEnv) dispatcher(cfg notify.DispatcherConfig) *notify.Dispatcher {
	if cfg.Holder == "" {
		cfg.Holder = "a"
	}
	cfg.Clock = e.clock.Now
	return notify.NewDispatcher(e.store, e.svc, e.sender, cfg)
}

// run runs d once and fails the test on error.
func (e *fcmEnv) run(d *notify.Dispatcher) notify.DispatchStats {
	e.t.Helper()
	st, err := d.RunOnce(e.ctx)
	e.must(err)
	return st
}

// received returns the pushes FCM accepted for token.
func (e *fcmEnv) received(token string) []fakefcm.Received {
	var out []fakefcm.Received
	for _, r := range e.fcm.Messages() {
		if r.Token == token {
			out = append(out, r)
		}
	}
	return out
}

// last returns the member's newest message.
func (e *env) last(card loyalty.Card) notify.Message {
	e.t.Helper()
	ms := e.messages(card)
	if len(ms) == 0 {
		e.t.Fatal("no message queued")
	}
	return ms[len(ms)-1]
}

func TestDispatchEarn(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{})
	// Anna enrolled in German but her phone is set to English; Ben the
	// other way round: the device's locale wins.
	anna, ben := e.member("anna", loyalty.LocaleDE), e.member("ben", loyalty.LocaleEN)
	e.device(anna, "tok-anna", loyalty.LocaleEN, "")
	e.device(ben, "tok-ben", loyalty.LocaleDE, "")
	if st := e.run(d); st != (notify.DispatchStats{}) {
		t.Fatalf("a round with nothing due = %+v", st)
	}
	res := e.earn(anna, 1250)
	e.earn(ben, 300)

	st := e.run(d)
	if want := (notify.DispatchStats{Due: 2, Sent: 2, Pushes: 2}); st != want {
		t.Errorf("round = %+v, want %+v", st, want)
	}
	got := e.received("tok-anna")
	if len(got) != 1 {
		t.Fatalf("FCM got %d pushes for Anna, want 1", len(got))
	}
	r := got[0]
	wantData := map[string]string{"kind": "points_earned", "link": fmt.Sprintf("treue://activity/%d", res.EntryID), "program_id": program}
	if r.Title != "+12 stars" || r.Body != "For your purchase at Café Treue. New balance: 12 stars." || !maps.Equal(r.Data, wantData) {
		t.Errorf("Anna's push = %q / %q %v, want it in English with %v", r.Title, r.Body, r.Data, wantData)
	}
	if r.CollapseKey != "points_earned" || r.TTL != 12*time.Hour || r.Proto != "HTTP/2.0" {
		t.Errorf("Anna's push: collapse %q, TTL %v, over %s; want points_earned, 12h, HTTP/2", r.CollapseKey, r.TTL, r.Proto)
	}
	if got := e.received("tok-ben"); len(got) != 1 || got[0].Title != "+3 Sterne" || got[0].Body != "Für deinen Einkauf bei Café Treue. Neuer Stand: 3 Sterne." {
		t.Errorf("Ben's pushes = %+v, want one in German", got)
	}
	m := e.last(anna)
	if m.State != notify.StateSent || !m.SentAt.Equal(start) || m.Attempts != 0 {
		t.Errorf("Anna's message: %s at %v after %d attempts, want sent at %v", m.State, m.SentAt, m.Attempts, start)
	}

	// Nothing goes out twice.
	e.clock.Advance(time.Minute)
	if st := e.run(d); st != (notify.DispatchStats{}) {
		t.Errorf("the next round = %+v, want nothing", st)
	}
	if n := len(e.fcm.Messages()); n != 2 {
		t.Errorf("FCM got %d pushes in all, want 2", n)
	}
}

func TestDispatchQuietHours(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{})
	// Both buy at 22:30 in Berlin; Carla's phone is in New York, where it
	// is 16:30.
	anna, carla := e.member("anna", loyalty.LocaleDE), e.member("carla", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	e.device(carla, "tok-carla", loyalty.LocaleDE, "America/New_York")
	e.clock.Set(at(2026, 6, 10, 22, 30))
	e.earn(anna, 500)
	e.earn(carla, 500)

	st := e.run(d)
	if want := (notify.DispatchStats{Due: 2, Sent: 1, Deferred: 1, Pushes: 1}); st != want {
		t.Errorf("round at 22:30 = %+v, want %+v", st, want)
	}
	if len(e.received("tok-anna")) != 0 || len(e.received("tok-carla")) != 1 {
		t.Fatalf("at 22:30 FCM got %d pushes for Anna and %d for Carla, want 0 and 1", len(e.received("tok-anna")), len(e.received("tok-carla")))
	}
	m := e.last(anna)
	if m.State != notify.StatePending || !m.NotBefore.Equal(at(2026, 6, 11, 8, 0)) || m.Reason != "quiet hours" {
		t.Errorf("Anna's message: %s, due %v, reason %q; want pending until 08:00 for quiet hours", m.State, m.NotBefore.In(berlin), m.Reason)
	}

	for _, now := range []time.Time{at(2026, 6, 11, 0, 0), at(2026, 6, 11, 7, 59)} {
		e.clock.Set(now)
		if st := e.run(d); st.Due != 0 {
			t.Errorf("round at %v took %d messages", now, st.Due)
		}
	}
	e.clock.Set(at(2026, 6, 11, 8, 0))
	if st := e.run(d); st.Sent != 1 {
		t.Errorf("round at 08:00 = %+v, want Anna's message sent", st)
	}
	got := e.received("tok-anna")
	if len(got) != 1 || got[0].Title != "+5 Sterne" || got[0].TTL != 150*time.Minute {
		t.Errorf("Anna's pushes at 08:00 = %+v, want +5 Sterne with the 2½ hours left of its 12", got)
	}
	if m := e.last(anna); m.State != notify.StateSent || !m.SentAt.Equal(at(2026, 6, 11, 8, 0)) {
		t.Errorf("Anna's message: %s at %v, want sent at 08:00", m.State, m.SentAt)
	}
}

func TestDispatchQuietHoursOutlastMessage(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	// Points earned keep only 2 hours here: a purchase at 22:30 cannot
	// wait for 08:00.
	e.planner = notify.NewPlanner(e.store, notify.PlannerConfig{Clock: e.clock.Now, TTL: map[notify.Kind]time.Duration{notify.KindPointsEarned: 2 * time.Hour}})
	d := e.dispatcher(notify.DispatcherConfig{})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	e.clock.Set(at(2026, 6, 10, 22, 30))
	e.earn(anna, 500)
	if st := e.run(d); st.Expired != 1 {
		t.Errorf("round = %+v, want the message expired", st)
	}
	if m := e.last(anna); m.State != notify.StateExpired || m.Reason != "expired (quiet hours)" {
		t.Errorf("message: %s, %q; want expired for quiet hours", m.State, m.Reason)
	}
}

func TestDispatchCapOverADay(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	// Points earned keep 30 hours here, so that some wait for the window
	// to move on rather than expire.
	e.planner = notify.NewPlanner(e.store, notify.PlannerConfig{Clock: e.clock.Now, TTL: map[notify.Kind]time.Duration{notify.KindPointsEarned: 30 * time.Hour}})
	d := e.dispatcher(notify.DispatcherConfig{Cap: 3})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")

	// Ten purchases from 08:00 every 80 minutes; the dispatcher runs every
	// 10 minutes for two days.
	day := at(2026, 6, 10, 8, 0)
	purchases := 0
	for now := day; now.Before(day.Add(48 * time.Hour)); now = now.Add(10 * time.Minute) {
		e.clock.Set(now)
		if purchases < 10 && !now.Before(day.Add(time.Duration(purchases)*80*time.Minute)) {
			e.earn(anna, 100)
			purchases++
		}
		e.run(d)
	}
	var sent []time.Time
	states := map[notify.State]int{}
	for _, m := range e.messages(anna) {
		states[m.State]++
		if m.State == notify.StateSent {
			sent = append(sent, m.SentAt)
		}
	}
	slices.SortFunc(sent, time.Time.Compare)
	for i := range sent {
		n := 0
		for _, s := range sent[i:] {
			if s.Before(sent[i].Add(24 * time.Hour)) {
				n++
			}
		}
		if n > 3 {
			t.Errorf("%d messages sent in the 24 hours from %v", n, sent[i].In(berlin))
		}
	}
	// Three on the first day (08:00, 09:20, 10:40); the fourth purchase's
	// message goes at 08:00 the next day, when the first send leaves the
	// window, and two more follow; the rest expire.
	if states[notify.StateSent] != 6 || states[notify.StateExpired] != 4 || len(sent) != 6 {
		t.Fatalf("states %v, want 6 sent and 4 expired", states)
	}
	want := []time.Time{day, day.Add(80 * time.Minute), day.Add(160 * time.Minute), day.Add(24 * time.Hour), day.Add(24*time.Hour + 80*time.Minute), day.Add(24*time.Hour + 160*time.Minute)}
	if !slices.EqualFunc(sent, want, time.Time.Equal) {
		t.Errorf("sent at %v, want %v", sent, want)
	}
	if n := len(e.received("tok-anna")); n != 6 {
		t.Errorf("FCM got %d pushes, want 6", n)
	}
	for _, m := range e.messages(anna) {
		if m.State == notify.StateExpired && m.Reason != "expired (frequency cap)" {
			t.Errorf("message %s expired for %q, want the frequency cap", m.Key, m.Reason)
		}
	}
}

func TestDispatchCapWithinOneRound(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	// Points earned keep two days here, so that those over the cap wait.
	e.planner = notify.NewPlanner(e.store, notify.PlannerConfig{Clock: e.clock.Now, TTL: map[notify.Kind]time.Duration{notify.KindPointsEarned: 48 * time.Hour}})
	d := e.dispatcher(notify.DispatcherConfig{Cap: 3})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	// Five purchases at night wait for 08:00 and come due together.
	e.clock.Set(at(2026, 6, 10, 22, 0))
	for range 5 {
		e.earn(anna, 100)
		e.clock.Advance(time.Minute)
	}
	if st := e.run(d); st.Deferred != 5 {
		t.Fatalf("night round = %+v, want 5 deferred", st)
	}
	e.clock.Set(at(2026, 6, 11, 8, 0))
	st := e.run(d)
	if want := (notify.DispatchStats{Due: 5, Sent: 3, Deferred: 2, Pushes: 3}); st != want {
		t.Errorf("round at 08:00 = %+v, want %+v", st, want)
	}
	for _, m := range e.messages(anna)[3:] {
		if m.State != notify.StatePending || m.Reason != "frequency cap" || !m.NotBefore.Equal(at(2026, 6, 12, 8, 0)) {
			t.Errorf("message %s: %s %q until %v, want pending for the cap until 08:00 the next day", m.Key, m.State, m.Reason, m.NotBefore.In(berlin))
		}
	}
	if n := len(e.fcm.Messages()); n != 3 {
		t.Errorf("FCM got %d pushes, want 3", n)
	}
}

func TestDispatchUnregistered(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{})
	anna, ben := e.member("anna", loyalty.LocaleDE), e.member("ben", loyalty.LocaleDE)
	e.device(anna, "tok-old", loyalty.LocaleDE, "")
	e.device(anna, "tok-new", loyalty.LocaleDE, "")
	e.device(ben, "tok-ben", loyalty.LocaleDE, "")
	e.fcm.Unregister("tok-old", "tok-ben")
	e.earn(anna, 500)
	e.earn(ben, 500)

	st := e.run(d)
	if want := (notify.DispatchStats{Due: 2, Sent: 1, Failed: 1, Pushes: 3, TokensRemoved: 2}); st != want {
		t.Errorf("round = %+v, want %+v", st, want)
	}
	if len(e.received("tok-new")) != 1 || len(e.received("tok-old")) != 0 {
		t.Errorf("FCM accepted %d pushes to the new token and %d to the old, want 1 and 0", len(e.received("tok-new")), len(e.received("tok-old")))
	}
	devices, err := e.svc.Devices(e.ctx, customer(anna))
	e.must(err)
	if len(devices) != 1 || devices[0].Token != "tok-new" {
		t.Errorf("Anna's devices = %+v, want only tok-new", devices)
	}
	if m := e.last(anna); m.State != notify.StateSent {
		t.Errorf("Anna's message is %s, want sent", m.State)
	}
	if m := e.last(ben); m.State != notify.StateFailed || !strings.Contains(m.Reason, "failed") || m.Attempts != 1 {
		t.Errorf("Ben's message: %s, %q, %d attempts; want failed once", m.State, m.Reason, m.Attempts)
	}
	// Ben has no device left: his next message is skipped.
	e.clock.Advance(time.Hour)
	e.earn(ben, 500)
	if st := e.run(d); st.Skipped != 1 {
		t.Errorf("round = %+v, want Ben's message skipped", st)
	}
	if m := e.last(ben); m.State != notify.StateSkipped || m.Reason != "no device" {
		t.Errorf("Ben's message: %s, %q; want skipped for no device", m.State, m.Reason)
	}
}

// offer queues a marketing message to card's member, under a key made of k
// and the member.
func (e *env) offer(card loyalty.Card, k string) {
	e.t.Helper()
	now := e.clock.Now()
	m := notify.NewMessage(key(card), notify.KindMarketing, k+":"+card.Member.ID, loyalty.Text{DE: "Doppelte Sterne am Dienstag", EN: "Double stars on Tuesday"},
		loyalty.Text{DE: "Nur diese Woche.", EN: "This week only."}, "treue://card", now, now.Add(24*time.Hour))
	if _, err := e.store.Enqueue(e.ctx, &m); err != nil {
		e.t.Fatal(err)
	}
}

func TestDispatchConsent(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{})
	// Anna granted marketing pushes, Ben did not, Carla granted them but
	// withdrew the pushes about her account.
	anna, ben, carla := e.member("anna", loyalty.LocaleDE), e.member("ben", loyalty.LocaleDE), e.member("carla", loyalty.LocaleDE)
	for _, c := range []loyalty.Card{anna, ben, carla} {
		e.device(c, "tok-"+c.Member.FirebaseUID, loyalty.LocaleDE, "")
	}
	e.consent(anna, loyalty.PurposeMarketingPush, true)
	e.consent(carla, loyalty.PurposeMarketingPush, true)
	e.consent(carla, loyalty.PurposeTransactionalPush, false)
	for _, c := range []loyalty.Card{anna, ben, carla} {
		e.offer(c, "offer-1")
		e.earn(c, 200)
	}
	st := e.run(d)
	if want := (notify.DispatchStats{Due: 6, Sent: 4, Skipped: 2, Pushes: 4}); st != want {
		t.Errorf("round = %+v, want %+v", st, want)
	}
	for _, tt := range []struct {
		card          loyalty.Card
		offer, points notify.State
	}{
		{anna, notify.StateSent, notify.StateSent},
		{ben, notify.StateSkipped, notify.StateSent},
		{carla, notify.StateSent, notify.StateSkipped},
	} {
		ms := e.messages(tt.card)
		if ms[0].Kind != notify.KindMarketing || ms[0].State != tt.offer || ms[1].State != tt.points {
			t.Errorf("%s: offer %s, points %s; want %s and %s", tt.card.Member.FirebaseUID, ms[0].State, ms[1].State, tt.offer, tt.points)
		}
		for _, m := range ms {
			if m.State == notify.StateSkipped && m.Reason != "no consent" {
				t.Errorf("%s: %s skipped for %q, want no consent", tt.card.Member.FirebaseUID, m.Kind, m.Reason)
			}
		}
	}
	if got := e.received("tok-carla"); len(got) != 1 || got[0].Data["kind"] != "marketing" {
		t.Errorf("Carla got %+v, want only the offer she did not refuse", got)
	}
	if got := e.received("tok-ben"); len(got) != 1 || got[0].Data["kind"] != "points_earned" {
		t.Errorf("Ben got %+v, want only his points", got)
	}

	// Ben grants it later: the next offer reaches him.
	e.consent(ben, loyalty.PurposeMarketingPush, true)
	e.clock.Advance(7 * time.Hour)
	e.offer(ben, "offer-2")
	if st := e.run(d); st.Sent != 1 || len(e.received("tok-ben")) != 2 {
		t.Errorf("after Ben's consent: round %+v, Ben got %d pushes; want the offer sent", st, len(e.received("tok-ben")))
	}
}

func TestDispatchDuplicate(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{Cap: 10})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	e.consent(anna, loyalty.PurposeMarketingPush, true)

	// The same offer under two keys in one round, again 5 hours later,
	// and again 7 hours after the first went out.
	e.offer(anna, "offer-1")
	e.offer(anna, "offer-2")
	st := e.run(d)
	if want := (notify.DispatchStats{Due: 2, Sent: 1, Skipped: 1, Pushes: 1}); st != want {
		t.Errorf("first round = %+v, want %+v", st, want)
	}
	e.clock.Advance(5 * time.Hour)
	e.offer(anna, "offer-3")
	if st := e.run(d); st.Skipped != 1 {
		t.Errorf("round 5 hours later = %+v, want the offer skipped", st)
	}
	e.clock.Advance(2 * time.Hour)
	e.offer(anna, "offer-4")
	if st := e.run(d); st.Sent != 1 {
		t.Errorf("round 7 hours later = %+v, want the offer sent", st)
	}
	var states []string
	for _, m := range e.messages(anna) {
		states = append(states, string(m.State)+" "+m.Reason)
	}
	want := []string{"sent ", "skipped duplicate", "skipped duplicate", "sent "}
	if !slices.Equal(states, want) {
		t.Errorf("messages %q, want %q", states, want)
	}
	if n := len(e.received("tok-anna")); n != 2 {
		t.Errorf("FCM got %d pushes, want 2", n)
	}
}

func TestDispatchRetry(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{MaxAttempts: 3, Backoff: time.Minute})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	e.earn(anna, 500)

	// FCM is over quota for the Send and its one retry.
	e.fcm.FailNext(2, 429, 0)
	st := e.run(d)
	if want := (notify.DispatchStats{Due: 1, Retried: 1, Pushes: 1}); st != want {
		t.Errorf("round = %+v, want %+v", st, want)
	}
	m := e.last(anna)
	if m.State != notify.StatePending || m.Attempts != 1 || !m.NotBefore.Equal(start.Add(time.Minute)) || !strings.HasPrefix(m.Reason, "retry: ") {
		t.Errorf("message: %s, %d attempts, due %v, %q; want pending, 1 attempt, due in a minute, retrying", m.State, m.Attempts, m.NotBefore, m.Reason)
	}
	e.clock.Advance(30 * time.Second)
	if st := e.run(d); st.Due != 0 {
		t.Errorf("round before the backoff = %+v", st)
	}
	e.clock.Advance(30 * time.Second)
	if st := e.run(d); st.Sent != 1 {
		t.Errorf("round after the backoff = %+v, want sent", st)
	}
	if m := e.last(anna); m.State != notify.StateSent || m.Attempts != 1 || len(e.received("tok-anna")) != 1 {
		t.Errorf("message: %s after %d failed attempts, FCM got %d; want sent once", m.State, m.Attempts, len(e.received("tok-anna")))
	}

	// FCM keeps failing: three attempts, a minute and then two apart,
	// and the message fails.
	e.clock.Advance(time.Hour)
	e.earn(anna, 600)
	e.fcm.FailNext(100, 503, 0)
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 0} {
		st := e.run(d)
		m := e.last(anna)
		if m.Attempts != i+1 {
			t.Fatalf("attempt %d: message has %d attempts (round %+v)", i+1, m.Attempts, st)
		}
		if i < 2 && (m.State != notify.StatePending || !m.NotBefore.Equal(e.clock.Now().Add(wait))) {
			t.Fatalf("attempt %d: %s due %v, want pending for %v", i+1, m.State, m.NotBefore, wait)
		}
		if i == 2 && (m.State != notify.StateFailed || st.Failed != 1 || !strings.Contains(m.Reason, "UNAVAILABLE")) {
			t.Fatalf("last attempt: %s %q, round %+v; want failed as unavailable", m.State, m.Reason, st)
		}
		e.clock.Advance(wait)
	}
}

func TestDispatchLease(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	a := e.dispatcher(notify.DispatcherConfig{Holder: "a", Batch: 3})
	b := e.dispatcher(notify.DispatcherConfig{Holder: "b", Batch: 3})
	var cards []loyalty.Card
	for i := range 8 {
		c := e.member(fmt.Sprintf("u%d", i), loyalty.LocaleDE)
		e.device(c, fmt.Sprintf("tok-%d", i), loyalty.LocaleDE, "")
		e.earn(c, 100)
		cards = append(cards, c)
	}
	// Both replicas run rounds at once, while the clock stands still:
	// only one holds the lease.
	var (
		wg    sync.WaitGroup
		stats [2][]notify.DispatchStats
	)
	for i, d := range []*notify.Dispatcher{a, b} {
		wg.Go(func() {
			for range 5 {
				st, err := d.RunOnce(e.ctx)
				if err != nil {
					t.Error(err)
				}
				stats[i] = append(stats[i], st)
			}
		})
	}
	wg.Wait()
	var sent [2]int
	for i := range stats {
		for _, st := range stats[i] {
			sent[i] += st.Sent
		}
	}
	if sent[0]+sent[1] != 8 || (sent[0] != 0 && sent[1] != 0) {
		t.Errorf("replicas sent %d and %d messages, want all 8 by one of them", sent[0], sent[1])
	}
	for i := range 8 {
		if n := len(e.received(fmt.Sprintf("tok-%d", i))); n != 1 {
			t.Errorf("member %d got %d pushes, want 1", i, n)
		}
	}
	holder, other := a, b
	if sent[0] == 0 {
		holder, other = b, a
	}
	// The holder goes quiet; 30 seconds on, its lease has run out and the
	// other replica takes over.
	e.earn(cards[0], 100)
	e.clock.Advance(29 * time.Second)
	if st := e.run(other); st != (notify.DispatchStats{}) {
		t.Errorf("the other replica ran a round within the lease: %+v", st)
	}
	e.clock.Advance(time.Second)
	if st := e.run(other); st.Sent != 1 {
		t.Errorf("the other replica's round after the lease = %+v, want the message sent", st)
	}
	if st := e.run(holder); st != (notify.DispatchStats{}) {
		t.Errorf("the old holder ran a round: %+v", st)
	}
	if n := len(e.received("tok-0")); n != 2 {
		t.Errorf("member 0 got %d pushes, want 2", n)
	}
}

func TestDispatchPlan(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{Cap: 1, CapWindow: 4 * time.Hour})
	anna, ben, carla, emil, fritz := e.member("anna", loyalty.LocaleDE), e.member("ben", loyalty.LocaleDE),
		e.member("carla", loyalty.LocaleDE), e.member("emil", loyalty.LocaleDE), e.member("fritz", loyalty.LocaleDE)
	all := []loyalty.Card{anna, ben, carla, emil, fritz}
	e.device(anna, "tok-anna-1", loyalty.LocaleDE, "")
	e.device(anna, "tok-anna-2", loyalty.LocaleEN, "")
	e.device(ben, "tok-ben", loyalty.LocaleDE, "")
	e.device(carla, "tok-carla", loyalty.LocaleDE, "America/Los_Angeles")
	e.device(fritz, "tok-fritz", loyalty.LocaleDE, "")
	// Ben had his one message in 4 hours at 09:00; Fritz's news of 10:00
	// was worth sending until 11:00.
	e.clock.Set(at(2026, 6, 10, 9, 0))
	e.earn(ben, 100)
	e.run(d)
	e.clock.Set(at(2026, 6, 10, 10, 0))
	old := notify.NewMessage(key(fritz), notify.KindPointsEarned, "old", loyalty.Text{DE: "+1 Stern"}, loyalty.Text{DE: "Alt."}, "treue://card",
		e.clock.Now(), at(2026, 6, 10, 11, 0))
	if _, err := e.store.Enqueue(e.ctx, &old); err != nil {
		t.Fatal(err)
	}
	// At noon in Berlin, 03:00 in Los Angeles: Ben buys again, so do
	// Carla, Anna (who also gets an offer she did not agree to) and Emil,
	// who has no device.
	now := at(2026, 6, 10, 12, 0)
	e.clock.Set(now)
	e.earn(ben, 100)
	e.earn(carla, 100)
	e.earn(anna, 100)
	e.offer(anna, "offer")
	e.earn(emil, 100)
	before := e.queued(all)
	pushes := len(e.fcm.Messages())

	plan, err := d.Plan(e.ctx, now)
	e.must(err)
	type row struct {
		member, action, reason string
		until                  time.Time
		devices                int
	}
	want := []row{
		{"fritz", notify.ActionExpire, "expired", time.Time{}, 0},
		{"ben", notify.ActionDefer, "frequency cap", at(2026, 6, 10, 13, 0), 0},
		{"carla", notify.ActionDefer, "quiet hours", at(2026, 6, 10, 17, 0), 0}, // 08:00 in Los Angeles
		{"anna", notify.ActionSend, "", time.Time{}, 2},
		{"anna", notify.ActionSkip, "no consent", time.Time{}, 0},
		{"emil", notify.ActionSkip, "no device", time.Time{}, 0},
	}
	uid := map[string]string{}
	for _, c := range all {
		uid[c.Member.ID] = c.Member.FirebaseUID
	}
	var got []row
	for _, dec := range plan {
		got = append(got, row{uid[dec.Message.MemberID], dec.Action, dec.Reason, dec.Until, dec.Devices})
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.member == b.member && a.action == b.action && a.reason == b.reason && a.until.Equal(b.until) && a.devices == b.devices
	}) {
		t.Fatalf("plan:\n%v\nwant:\n%v", got, want)
	}
	if after := e.queued(all); !slices.EqualFunc(before, after, sameMessage) {
		t.Errorf("Plan changed the queue:\n%+v\nto\n%+v", before, after)
	}
	if n := len(e.fcm.Messages()); n != pushes {
		t.Errorf("Plan sent %d pushes", n-pushes)
	}

	// The round does what the plan said.
	st := e.run(d)
	if want := (notify.DispatchStats{Due: 6, Sent: 1, Deferred: 2, Skipped: 2, Expired: 1, Pushes: 2}); st != want {
		t.Errorf("round = %+v, want %+v", st, want)
	}
	for _, dec := range plan {
		var m notify.Message
		for _, q := range e.queued(all) {
			if q.ID == dec.Message.ID {
				m = q
			}
		}
		wantState := map[string]notify.State{notify.ActionSend: notify.StateSent, notify.ActionDefer: notify.StatePending,
			notify.ActionSkip: notify.StateSkipped, notify.ActionExpire: notify.StateExpired}[dec.Action]
		if m.State != wantState || m.Reason != dec.Reason || (dec.Action == notify.ActionDefer && !m.NotBefore.Equal(dec.Until)) {
			t.Errorf("message %s of %s: %s %q due %v, plan said %s %q until %v", m.Key, uid[m.MemberID], m.State, m.Reason, m.NotBefore, dec.Action, dec.Reason, dec.Until)
		}
	}
	if n := len(e.fcm.Messages()); n != pushes+2 {
		t.Errorf("the round sent %d pushes, want 2", n-pushes)
	}
}

// sameMessage reports whether a and b are equal in what the dispatcher
// writes.
func sameMessage(a, b notify.Message) bool {
	return a.ID == b.ID && a.State == b.State && a.NotBefore.Equal(b.NotBefore) && a.Attempts == b.Attempts &&
		a.SentAt.Equal(b.SentAt) && a.Reason == b.Reason
}

func TestDispatchRunPoke(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t)
	d := e.dispatcher(notify.DispatcherConfig{})
	e.planner = notify.NewPlanner(e.store, notify.PlannerConfig{Clock: e.clock.Now, Poke: d.Poke})
	anna := e.member("anna", loyalty.LocaleDE)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { d.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()

	// An hour's interval: only the planner's poke gets the push out soon.
	time.Sleep(50 * time.Millisecond) // let the first round pass
	e.earn(anna, 700)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.received("tok-anna")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no push 5 seconds after the purchase")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.received("tok-anna"); len(got) != 1 || got[0].Title != "+7 Sterne" {
		t.Errorf("pushes = %+v, want one +7 Sterne", got)
	}
}

func TestDispatchWelcomeWaitsForDevice(t *testing.T) {
	t.Parallel()
	e := newFCMEnv(t, func(s *loyalty.Seed) { s.Program.Rules.Welcome = &gamification.Welcome{Points: 25} })
	d := e.dispatcher(notify.DispatcherConfig{})
	anna := e.member("anna", loyalty.LocaleDE)
	if st := e.run(d); st.Due != 0 {
		t.Errorf("round right after enrolling = %+v, want the welcome waiting", st)
	}
	e.clock.Advance(20 * time.Second)
	e.device(anna, "tok-anna", loyalty.LocaleDE, "")
	e.clock.Advance(40 * time.Second)
	if st := e.run(d); st.Sent != 1 {
		t.Errorf("round a minute after enrolling = %+v, want the welcome sent", st)
	}
	if got := e.received("tok-anna"); len(got) != 1 || got[0].Title != "Willkommen bei Café Treue" {
		t.Errorf("pushes = %+v, want the welcome", got)
	}
}
