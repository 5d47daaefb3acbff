package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
)

// RunPush runs the suite of notify.Store: the message queue and the
// sender's lease. It calls open once per subtest for a fresh, empty store;
// open closes it when the subtest ends (t.Cleanup). Subtests run in
// parallel, so open must be safe for concurrent use.
func RunPush(t *testing.T, open func(t *testing.T) notify.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, p *pushEnv)
	}{
		{"EnqueueDedup", testPushEnqueueDedup},
		{"EnqueueConcurrent", testPushEnqueueConcurrent},
		{"RoundTrip", testPushRoundTrip},
		{"SaveMessage", testPushSaveMessage},
		{"Due", testPushDue},
		{"Sent", testPushSent},
		{"Messages", testPushMessages},
		{"Lease", testPushLease},
		{"LeaseConcurrent", testPushLeaseConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if s == nil {
				t.Fatal("storetest: open returned no notify.Store")
			}
			tt.fn(t, &pushEnv{t: t, ctx: t.Context(), store: s})
		})
	}
}

// pushStart is the time the push suite's messages are written around. It
// is not in UTC and has nanoseconds, which the store drops.
var pushStart = time.Date(2025, 11, 3, 18, 45, 0, 987_654_321, time.FixedZone("CET", 60*60))

// pushEnv is one push subtest's store.
type pushEnv struct {
	t     *testing.T
	ctx   context.Context
	store notify.Store
	n     int
}

// stored returns t as the store returns it: UTC, to the microsecond.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// message returns a pending message to the member of the program with key,
// going out at notBefore.
func (p *pushEnv) message(programID, memberID, key string, notBefore time.Time) notify.Message {
	p.n++
	return notify.Message{
		ProgramID: programID, MemberID: memberID, Kind: notify.KindPointsEarned, Key: key,
		Title:     loyalty.Text{DE: "Sterne gesammelt", EN: "Stars earned"},
		Body:      loyalty.Text{DE: fmt.Sprintf("%d Sterne", p.n), EN: fmt.Sprintf("%d stars", p.n)},
		Data:      map[string]string{"link": "treue://card"},
		Digest:    fmt.Sprintf("digest-%d", p.n),
		CreatedAt: pushStart, NotBefore: notBefore, ExpiresAt: notBefore.Add(24 * time.Hour),
		State: notify.StatePending,
	}
}

// enqueue enqueues m, fails the test unless it is stored, and returns it
// as stored.
func (p *pushEnv) enqueue(m notify.Message) notify.Message {
	p.t.Helper()
	ok, err := p.store.Enqueue(p.ctx, &m)
	if err != nil {
		p.t.Fatal(err)
	}
	if !ok || m.ID == 0 {
		p.t.Fatalf("Enqueue(%q) = %v with ID %d, want true and an ID", m.Key, ok, m.ID)
	}
	return m
}

// save saves m and fails the test on error.
func (p *pushEnv) save(m notify.Message) {
	p.t.Helper()
	if err := p.store.SaveMessage(p.ctx, m); err != nil {
		p.t.Fatal(err)
	}
}

// messages returns the member's messages, newest first.
func (p *pushEnv) messages(programID, memberID string) []notify.Message {
	p.t.Helper()
	ms, err := p.store.Messages(p.ctx, programID, memberID, 500)
	if err != nil {
		p.t.Fatal(err)
	}
	return ms
}

// due returns the messages due at now.
func (p *pushEnv) due(now time.Time, limit int) []notify.Message {
	p.t.Helper()
	ms, err := p.store.Due(p.ctx, now, limit)
	if err != nil {
		p.t.Fatal(err)
	}
	return ms
}

// keys returns the keys of ms, in their order.
func keys(ms []notify.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

// asStored returns m with its times as the store returns them.
func asStored(m notify.Message) notify.Message {
	m.CreatedAt, m.NotBefore, m.ExpiresAt = stored(m.CreatedAt), stored(m.NotBefore), stored(m.ExpiresAt)
	if !m.SentAt.IsZero() {
		m.SentAt = stored(m.SentAt)
	}
	return m
}

func testPushEnqueueDedup(t *testing.T, p *pushEnv) {
	first := p.enqueue(p.message("cafe-a", "m1", "entry:1", pushStart))

	// The same key in the program, whatever the message, is queued once.
	dup := p.message("cafe-a", "m2", "entry:1", pushStart.Add(time.Hour))
	ok, err := p.store.Enqueue(p.ctx, &dup)
	if err != nil || ok || dup.ID != 0 {
		t.Errorf("Enqueue of a known key = %v, %v, ID %d; want false, nil, 0", ok, err, dup.ID)
	}
	if got := p.messages("cafe-a", "m2"); len(got) != 0 {
		t.Errorf("messages of m2 = %v, want none", keys(got))
	}
	if diff := cmp.Diff([]notify.Message{asStored(first)}, p.messages("cafe-a", "m1")); diff != "" {
		t.Errorf("messages of m1 (-want +got):\n%s", diff)
	}

	// Another program may have the key; another key is another message.
	other := p.enqueue(p.message("cafe-b", "m1", "entry:1", pushStart))
	second := p.enqueue(p.message("cafe-a", "m1", "entry:2", pushStart))
	if other.ID == first.ID || second.ID <= first.ID || second.ID <= other.ID {
		t.Errorf("IDs %d, %d, %d: want them increasing", first.ID, other.ID, second.ID)
	}
	if got := keys(p.messages("cafe-b", "m1")); !slices.Equal(got, []string{"entry:1"}) {
		t.Errorf("messages in cafe-b = %v, want entry:1", got)
	}

	// A message once sent is still known by its key.
	first.State, first.SentAt = notify.StateSent, pushStart
	p.save(first)
	again := p.message("cafe-a", "m1", "entry:1", pushStart)
	if ok, err := p.store.Enqueue(p.ctx, &again); err != nil || ok {
		t.Errorf("Enqueue of a sent message's key = %v, %v; want false", ok, err)
	}

	for _, m := range []notify.Message{
		p.message("", "m1", "k", pushStart),
		p.message("cafe-a", "", "k", pushStart),
		p.message("cafe-a", "m1", "", pushStart),
	} {
		_, err := p.store.Enqueue(p.ctx, &m)
		wantErr(t, err, loyalty.ErrInvalid)
	}
}

func testPushEnqueueConcurrent(t *testing.T, p *pushEnv) {
	const n = 8
	ms := make([]notify.Message, n)
	ok := make([]bool, n)
	errs := make([]error, n)
	for i := range ms {
		ms[i] = p.message("cafe-a", fmt.Sprintf("m%d", i), "expiring:30:m1:2025-12-01", pushStart)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ok[i], errs[i] = p.store.Enqueue(p.ctx, &ms[i]) })
	}
	wg.Wait()
	stored := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Enqueue %d: %v", i, errs[i])
		}
		if ok[i] {
			stored++
			if got := p.messages("cafe-a", ms[i].MemberID); len(got) != 1 || got[0].ID != ms[i].ID {
				t.Errorf("the stored message %d reads as %+v", i, got)
			}
		}
	}
	if stored != 1 {
		t.Errorf("%d concurrent Enqueue calls with one key stored %d messages, want 1", n, stored)
	}
}

func testPushRoundTrip(t *testing.T, p *pushEnv) {
	m := notify.Message{
		ProgramID: "cafe-a", MemberID: "m1", Kind: notify.KindChallengeEnding, Key: "challenge:three-visits:m1:2025-11-09",
		Title:     loyalty.Text{DE: "Nur noch 2 Tage", EN: "Only 2 days left"},
		Body:      loyalty.Text{DE: "Noch 1 Besuch bis zu \"Drei Besuche\" – 5 ⭐", EN: "1 visit to go"},
		Data:      map[string]string{"link": "treue://challenges/three-visits", "challenge": "three-visits", "empty": ""},
		Digest:    "sha256:0f1e",
		CreatedAt: pushStart, NotBefore: pushStart.Add(90 * time.Minute), ExpiresAt: pushStart.Add(48 * time.Hour),
		// Enqueue stores a message as pending, whatever it says.
		State: notify.StateSent, Attempts: 2, Reason: "held for quiet hours",
	}
	got := p.enqueue(m)
	want := asStored(m)
	want.ID, want.State = got.ID, notify.StatePending
	if got.State != notify.StatePending {
		t.Errorf("Enqueue set State %q, want pending", got.State)
	}
	ms := p.messages("cafe-a", "m1")
	if diff := cmp.Diff([]notify.Message{want}, ms); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, m := range ms {
		for _, at := range []time.Time{m.CreatedAt, m.NotBefore, m.ExpiresAt} {
			if at.Location() != time.UTC {
				t.Errorf("time %v is not in UTC", at)
			}
		}
	}

	// No title in English, no data: the same comes back.
	bare := p.message("cafe-a", "m1", "bare", pushStart)
	bare.Title, bare.Body, bare.Data, bare.Digest = loyalty.Text{DE: "Hallo"}, loyalty.Text{}, nil, ""
	bare = p.enqueue(bare)
	if diff := cmp.Diff(asStored(bare), p.messages("cafe-a", "m1")[0]); diff != "" {
		t.Errorf("round trip of a bare message (-want +got):\n%s", diff)
	}
	empty := p.message("cafe-a", "m1", "empty data", pushStart)
	empty.Data = map[string]string{}
	empty = p.enqueue(empty)
	if got := p.messages("cafe-a", "m1")[0]; got.ID != empty.ID || got.Data != nil {
		t.Errorf("an empty Data reads as %#v, want nil", got.Data)
	}
}

func testPushSaveMessage(t *testing.T, p *pushEnv) {
	m := p.enqueue(p.message("cafe-a", "m1", "entry:1", pushStart))
	other := p.enqueue(p.message("cafe-a", "m1", "entry:2", pushStart))
	want := asStored(m)

	// SaveMessage writes State, NotBefore, Attempts, SentAt and Reason, and
	// nothing else.
	for _, c := range []struct {
		state     notify.State
		notBefore time.Time
		attempts  int
		sentAt    time.Time
		reason    string
	}{
		{notify.StatePending, pushStart.Add(8 * time.Hour), 1, time.Time{}, "quiet hours"},
		{notify.StateSent, pushStart.Add(8 * time.Hour), 2, pushStart.Add(8*time.Hour + 1500*time.Millisecond + 7), ""},
		{notify.StateFailed, pushStart, 5, pushStart.Add(time.Minute), "unregistered on every device"},
		{notify.StateSkipped, pushStart, 0, time.Time{}, "no consent"},
		{notify.StateExpired, pushStart.Add(-time.Hour), 3, time.Time{}, "expired"},
	} {
		upd := m
		upd.State, upd.NotBefore, upd.Attempts, upd.SentAt, upd.Reason = c.state, c.notBefore, c.attempts, c.sentAt, c.reason
		// Fields SaveMessage does not write.
		upd.Title, upd.Body, upd.Data = loyalty.Text{DE: "anders"}, loyalty.Text{DE: "anders"}, map[string]string{"x": "y"}
		upd.Key, upd.Digest, upd.CreatedAt, upd.ExpiresAt = "changed", "changed", pushStart.Add(time.Hour), pushStart.Add(time.Hour)
		p.save(upd)
		want.State, want.NotBefore, want.Attempts, want.Reason = c.state, stored(c.notBefore), c.attempts, c.reason
		want.SentAt = time.Time{}
		if !c.sentAt.IsZero() {
			want.SentAt = stored(c.sentAt)
		}
		got := p.messages("cafe-a", "m1")
		if diff := cmp.Diff([]notify.Message{asStored(other), want}, got); diff != "" {
			t.Errorf("after SaveMessage(%s) (-want +got):\n%s", c.state, diff)
		}
	}

	err := p.store.SaveMessage(p.ctx, notify.Message{ID: other.ID + 1000, State: notify.StateSent})
	wantErr(t, err, loyalty.ErrNotFound)
}

func testPushDue(t *testing.T, p *pushEnv) {
	now := pushStart
	p.enqueue(p.message("cafe-a", "m1", "b", now.Add(-time.Hour)))
	p.enqueue(p.message("cafe-a", "m2", "a", now.Add(-2*time.Hour)))
	p.enqueue(p.message("cafe-b", "m1", "c", now))
	p.enqueue(p.message("cafe-a", "m3", "later", now.Add(time.Microsecond)))
	p.enqueue(p.message("cafe-a", "m1", "b2", now.Add(-time.Hour))) // as b, enqueued after it
	for _, state := range []notify.State{notify.StateSent, notify.StateSkipped, notify.StateExpired, notify.StateFailed} {
		done := p.enqueue(p.message("cafe-a", "m1", "done-"+string(state), now.Add(-3*time.Hour)))
		done.State = state
		p.save(done)
	}
	deferred := p.enqueue(p.message("cafe-a", "m4", "deferred", now.Add(-4*time.Hour)))
	deferred.NotBefore, deferred.Attempts = now.Add(time.Hour), 1
	p.save(deferred)

	if diff := cmp.Diff([]string{"a", "b", "b2", "c"}, keys(p.due(now, 1000))); diff != "" {
		t.Errorf("Due(now) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, keys(p.due(now, 2))); diff != "" {
		t.Errorf("Due(now, 2) (-want +got):\n%s", diff)
	}
	if got := keys(p.due(now.Add(-2*time.Hour-time.Microsecond), 10)); len(got) != 0 {
		t.Errorf("Due before anything is due = %v, want none", got)
	}
	if diff := cmp.Diff([]string{"a", "b", "b2", "c", "later", "deferred"}, keys(p.due(now.Add(time.Hour), 10))); diff != "" {
		t.Errorf("Due(now+1h) (-want +got):\n%s", diff)
	}
	// Due returns whole messages.
	if got := p.due(now, 1); len(got) != 1 || got[0].Title.EN != "Stars earned" || got[0].Data["link"] != "treue://card" || got[0].MemberID != "m2" {
		t.Errorf("Due(now, 1) = %+v, want message a in full", got)
	}
	for _, limit := range []int{0, -1, 1001} {
		_, err := p.store.Due(p.ctx, now, limit)
		wantErr(t, err, loyalty.ErrInvalid)
	}
}

func testPushSent(t *testing.T, p *pushEnv) {
	now := pushStart
	send := func(programID, memberID, key, digest string, at time.Time, state notify.State) {
		m := p.message(programID, memberID, key, at.Add(-time.Minute))
		m.Digest = digest
		m = p.enqueue(m)
		m.State, m.SentAt, m.Attempts = state, at, 1
		p.save(m)
	}
	send("cafe-a", "m1", "k1", "d1", now.Add(-3*time.Hour), notify.StateSent)
	send("cafe-a", "m1", "k2", "d2", now.Add(-2*time.Hour), notify.StateSent)
	send("cafe-a", "m1", "k3", "d1", now.Add(-time.Hour), notify.StateSent)
	send("cafe-a", "m1", "k4", "d4", now.Add(-30*time.Minute), notify.StateFailed) // not sent
	send("cafe-a", "m2", "k5", "d5", now.Add(-time.Hour), notify.StateSent)        // another member
	send("cafe-b", "m1", "k6", "d6", now.Add(-time.Hour), notify.StateSent)        // another program
	pending := p.message("cafe-a", "m1", "k7", now)
	pending.Digest = "d7"
	p.enqueue(pending)

	sentSince := func(programID, memberID string, since time.Time) []time.Time {
		t.Helper()
		got, err := p.store.SentSince(p.ctx, programID, memberID, since)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, c := range []struct {
		since time.Time
		want  []time.Time
	}{
		{now.Add(-24 * time.Hour), []time.Time{stored(now.Add(-3 * time.Hour)), stored(now.Add(-2 * time.Hour)), stored(now.Add(-time.Hour))}},
		{now.Add(-2 * time.Hour), []time.Time{stored(now.Add(-2 * time.Hour)), stored(now.Add(-time.Hour))}},
		{stored(now.Add(-2 * time.Hour)).Add(time.Microsecond), []time.Time{stored(now.Add(-time.Hour))}},
		{now, nil},
	} {
		got := sentSince("cafe-a", "m1", c.since)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("SentSince(%v) (-want +got):\n%s", c.since, diff)
		}
		for _, at := range got {
			if at.Location() != time.UTC {
				t.Errorf("SentSince: %v is not in UTC", at)
			}
		}
	}
	if got := sentSince("cafe-b", "m1", now.Add(-24*time.Hour)); len(got) != 1 {
		t.Errorf("SentSince in cafe-b = %v, want one", got)
	}
	if got := sentSince("cafe-a", "m9", now.Add(-24*time.Hour)); len(got) != 0 {
		t.Errorf("SentSince of a member without messages = %v, want none", got)
	}

	for _, c := range []struct {
		memberID, digest string
		since            time.Time
		want             bool
	}{
		{"m1", "d1", now.Add(-24 * time.Hour), true},
		{"m1", "d1", now.Add(-time.Hour), true},
		{"m1", "d1", stored(now.Add(-time.Hour)).Add(time.Microsecond), false},
		{"m1", "d2", now.Add(-2 * time.Hour), true},
		{"m1", "d2", now.Add(-90 * time.Minute), false},
		{"m1", "d4", now.Add(-24 * time.Hour), false}, // failed
		{"m1", "d7", now.Add(-24 * time.Hour), false}, // pending
		{"m1", "d5", now.Add(-24 * time.Hour), false}, // m2's
		{"m1", "d6", now.Add(-24 * time.Hour), false}, // cafe-b's
		{"m2", "d5", now.Add(-24 * time.Hour), true},
	} {
		got, err := p.store.SentDigest(p.ctx, "cafe-a", c.memberID, c.digest, c.since)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("SentDigest(%s, %s, %v) = %v, want %v", c.memberID, c.digest, c.since, got, c.want)
		}
	}
}

func testPushMessages(t *testing.T, p *pushEnv) {
	var want []string
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		// NotBefore falls as IDs rise: Messages orders by ID.
		p.enqueue(p.message("cafe-a", "m1", key, pushStart.Add(-time.Duration(i)*time.Hour)))
		p.enqueue(p.message("cafe-a", "m2", "other-"+key, pushStart))
		want = append([]string{key}, want...)
	}
	p.enqueue(p.message("cafe-b", "m1", "elsewhere", pushStart))
	if diff := cmp.Diff(want, keys(p.messages("cafe-a", "m1"))); diff != "" {
		t.Errorf("Messages, newest first (-want +got):\n%s", diff)
	}
	got, err := p.store.Messages(p.ctx, "cafe-a", "m1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:3], keys(got)); diff != "" {
		t.Errorf("Messages(3) (-want +got):\n%s", diff)
	}
	if got := p.messages("cafe-a", "m9"); len(got) != 0 {
		t.Errorf("Messages of a member without any = %v, want none", keys(got))
	}
	for _, limit := range []int{0, -1, 501} {
		_, err := p.store.Messages(p.ctx, "cafe-a", "m1", limit)
		wantErr(t, err, loyalty.ErrInvalid)
	}
}

func testPushLease(t *testing.T, p *pushEnv) {
	const ttl = time.Minute
	t0 := pushStart
	acquire := func(name, holder string, now time.Time, want bool) {
		t.Helper()
		got, err := p.store.AcquireLease(p.ctx, name, holder, now, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("AcquireLease(%s, %s, t0%+v) = %v, want %v", name, holder, now.Sub(t0), got, want)
		}
	}
	acquire("sender", "a", t0, true)
	acquire("sender", "b", t0.Add(30*time.Second), false)
	acquire("other-job", "b", t0.Add(30*time.Second), true) // another lease
	acquire("sender", "a", t0.Add(50*time.Second), true)    // renewed until t0+1m50s
	acquire("sender", "b", t0.Add(70*time.Second), false)   // would be free without the renewal
	acquire("sender", "b", t0.Add(110*time.Second-time.Microsecond), false)
	acquire("sender", "b", t0.Add(110*time.Second), true) // a's ran out
	acquire("sender", "a", t0.Add(111*time.Second), false)
	acquire("sender", "b", t0.Add(111*time.Second), true)
	// A holder renews even after its lease ran out.
	acquire("sender", "b", t0.Add(10*time.Minute), true)

	for _, c := range []struct {
		name, holder string
		ttl          time.Duration
	}{{"", "a", ttl}, {"sender", "", ttl}, {"sender", "a", 0}, {"sender", "a", -time.Second}} {
		_, err := p.store.AcquireLease(p.ctx, c.name, c.holder, t0, c.ttl)
		wantErr(t, err, loyalty.ErrInvalid)
	}
}

func testPushLeaseConcurrent(t *testing.T, p *pushEnv) {
	const n = 8
	now := pushStart
	for round := range 50 {
		name := fmt.Sprintf("sender-%d", round)
		if round%2 == 1 {
			// A lease that ran out: taking it over races too.
			ok, err := p.store.AcquireLease(p.ctx, name, "old", now.Add(-2*time.Minute), time.Minute)
			if err != nil || !ok {
				t.Fatalf("AcquireLease(%s, old) = %v, %v", name, ok, err)
			}
		}
		got := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-begin
				got[i], errs[i] = p.store.AcquireLease(p.ctx, name, fmt.Sprintf("replica-%d", i), now, time.Minute)
			})
		}
		close(begin)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("AcquireLease %d: %v", i, errs[i])
			}
			if got[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d of %d concurrent AcquireLease calls got the lease, want 1", round, winners, n)
		}
	}
}
