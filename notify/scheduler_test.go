package notify_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
)

// queued returns every message of the members, oldest first.
func (e *env) queued(cards []loyalty.Card) []notify.Message {
	var out []notify.Message
	for _, c := range cards {
		out = append(out, e.messages(c)...)
	}
	return out
}

func TestSchedulerExpiring(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Five members earn now; their points expire on 1 July 2027. A sixth
	// earns a month later: his expire on 1 August.
	var cards []loyalty.Card
	for i := range 5 {
		c := e.member(fmt.Sprintf("u%d", i), loyalty.LocaleDE)
		e.earn(c, int64(1200+100*i))
		cards = append(cards, c)
	}
	e.clock.Set(at(2026, 7, 10, 10, 0))
	late := e.member("late", loyalty.LocaleDE)
	e.earn(late, 500)
	all := append(cards, late)
	n := len(e.queued(all)) // the points earned messages

	// Two replicas, paging two members at a time.
	s1 := notify.NewScheduler(e.store, e.svc, notify.SchedulerConfig{Page: 2})
	s2 := notify.NewScheduler(e.store, e.svc, notify.SchedulerConfig{Page: 2})
	runBoth := func(now time.Time) int {
		t.Helper()
		var (
			wg    sync.WaitGroup
			total [2]int
			errs  [2]error
		)
		for i, s := range []*notify.Scheduler{s1, s2} {
			wg.Go(func() { total[i], errs[i] = s.Run(e.ctx, program, now) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return total[0] + total[1]
	}
	expiry := at(2027, 7, 1, 0, 0)

	tests := []struct {
		name   string
		now    time.Time
		new    int
		notice string // of the new reminders
	}{
		{"31 days before", expiry.Add(-31 * 24 * time.Hour), 0, ""},
		{"30 days before", expiry.Add(-30 * 24 * time.Hour), 0, ""},
		{"just within 30 days", expiry.Add(-30*24*time.Hour + time.Minute), 5, "30"},
		{"the next day", expiry.Add(-29 * 24 * time.Hour), 0, ""},
		{"7 days before", expiry.Add(-7 * 24 * time.Hour), 0, ""},
		{"just within 7 days", expiry.Add(-7*24*time.Hour + time.Minute), 5, "7"},
		{"the day before", expiry.Add(-24 * time.Hour), 0, ""},
	}
	for _, tt := range tests {
		if got := runBoth(tt.now); got != tt.new {
			t.Fatalf("%s: two replicas queued %d reminders, want %d", tt.name, got, tt.new)
		}
		if again := runBoth(tt.now); again != 0 {
			t.Fatalf("%s: running again queued %d reminders", tt.name, again)
		}
		msgs := e.queued(all)
		if len(msgs) != n+tt.new {
			t.Fatalf("%s: %d messages queued, want %d", tt.name, len(msgs)-n, tt.new)
		}
		for i, c := range cards {
			if tt.new == 0 {
				break
			}
			ms := e.messages(c)
			m := ms[len(ms)-1]
			points := 12 + i
			want := want{
				kind: notify.KindPointsExpiring, key: fmt.Sprintf("expiring:%s:%s:2027-07-01", tt.notice, c.Member.ID),
				titleDE: fmt.Sprintf("%d Sterne verfallen am 1. Juli", points), bodyDE: "Tausche sie bei Café Treue gegen eine Prämie ein.",
				titleEN: fmt.Sprintf("%d stars expire on 1 July", points), bodyEN: "Swap them for a reward at Café Treue.",
				link: "treue://rewards", ttl: 24 * time.Hour,
			}
			check(t, []notify.Message{m}, want)
			if !m.CreatedAt.Equal(tt.now) {
				t.Errorf("%s: reminder created at %v, want %v", tt.name, m.CreatedAt, tt.now)
			}
		}
		n = len(msgs)
	}
	// The late member's points expire a month later.
	if ms := e.messages(late); len(ms) != 1 {
		t.Errorf("the member whose points expire in August got %d messages, want only his points earned", len(ms))
	}
}

func TestSchedulerExpiringOnTheLastDay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.member("u1", loyalty.LocaleDE)
	e.earn(c, 100)
	s := notify.NewScheduler(e.store, e.svc, notify.SchedulerConfig{})
	// First run six hours before the points expire: only the last notice,
	// and it does not outlive the points.
	expiry := at(2027, 7, 1, 0, 0)
	if n, err := s.Run(e.ctx, program, expiry.Add(-6*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Run = %d, %v, want 1 reminder", n, err)
	}
	ms := e.messages(c)
	m := ms[len(ms)-1]
	if m.Key != "expiring:7:"+c.Member.ID+":2027-07-01" || m.Title.DE != "1 Stern verfällt am 1. Juli" || !m.ExpiresAt.Equal(expiry) {
		t.Errorf("reminder %s %q expiring %v, want the last notice of 1 Stern expiring with the points at %v", m.Key, m.Title.DE, m.ExpiresAt, expiry)
	}
}

func TestSchedulerChallengeEnding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// u1 activates "3 Besuche in 7 Tagen" now and visits once: it ends on
	// 17 June at 10:00. u2 never activates it; u3 activates it two days
	// later.
	u1, u2, u3 := e.member("u1", loyalty.LocaleDE), e.member("u2", loyalty.LocaleDE), e.member("u3", loyalty.LocaleDE)
	if _, _, err := e.svc.ActivateChallenge(e.ctx, customer(u1), "three-visits"); err != nil {
		t.Fatal(err)
	}
	e.earn(u1, 300)
	e.clock.Advance(48 * time.Hour)
	if _, _, err := e.svc.ActivateChallenge(e.ctx, customer(u3), "three-visits"); err != nil {
		t.Fatal(err)
	}
	cards := []loyalty.Card{u1, u2, u3}
	n := len(e.queued(cards))
	s := notify.NewScheduler(e.store, e.svc, notify.SchedulerConfig{Page: 1})
	ends := at(2026, 6, 17, 10, 0)
	endKey := "ending:" + u1.Member.ID + ":three-visits:2026-06-17T08:00:00Z"

	// Two days before: nothing.
	if got, err := s.Run(e.ctx, program, ends.Add(-48*time.Hour)); err != nil || got != 0 {
		t.Fatalf("two days before the end: Run = %d, %v, want nothing", got, err)
	}
	// The day before, at noon: "ends tomorrow".
	now := at(2026, 6, 16, 12, 0)
	dry, err := s.DryRun(e.ctx, program, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(e.queued(cards)); got != n {
		t.Fatalf("DryRun queued %d messages", got-n)
	}
	endsTomorrow := want{
		kind: notify.KindChallengeEnding, key: endKey,
		titleDE: "Endet morgen: „3 Besuche in 7 Tagen“", bodyDE: "Stand: 1 von 3 Besuchen. Schaffst du den Rest?",
		titleEN: "Ends tomorrow: “3 visits in 7 days”", bodyEN: "So far: 1 of 3 visits. Can you make it?",
		link: "treue://challenges/three-visits", ttl: 22 * time.Hour, // until the challenge ends
	}
	check(t, dry, endsTomorrow)
	if got, err := s.Run(e.ctx, program, now); err != nil || got != 1 {
		t.Fatalf("the day before the end: Run = %d, %v, want 1", got, err)
	}
	ms := e.queued(cards)
	check(t, ms[n:], endsTomorrow)

	// On the day, again: nothing new, though a dry run says "today".
	now = at(2026, 6, 17, 8, 0)
	if got, err := s.Run(e.ctx, program, now); err != nil || got != 0 {
		t.Fatalf("on the last day: Run = %d, %v, want nothing new", got, err)
	}
	dry, err = s.DryRun(e.ctx, program, now)
	if err != nil {
		t.Fatal(err)
	}
	check(t, dry, want{
		kind: notify.KindChallengeEnding, key: endKey,
		titleDE: "Nur noch heute: „3 Besuche in 7 Tagen“", bodyDE: "Stand: 1 von 3 Besuchen. Schaffst du den Rest?",
		titleEN: "Last day: “3 visits in 7 days”", bodyEN: "So far: 1 of 3 visits. Can you make it?",
		link: "treue://challenges/three-visits", ttl: 2 * time.Hour,
	})
	if got := len(e.queued(cards)); got != len(ms) {
		t.Errorf("DryRun queued %d messages", got-len(ms))
	}
}

func TestSchedulerDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.member("u1", loyalty.LocaleDE)
	e.earn(c, 5000)
	s := notify.NewScheduler(e.store, e.svc, notify.SchedulerConfig{})
	now := at(2027, 6, 20, 9, 0)
	dry, err := s.DryRun(e.ctx, program, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 1 || dry[0].Key != "expiring:30:"+c.Member.ID+":2027-07-01" || dry[0].ID != 0 {
		t.Fatalf("DryRun = %+v, want the 30-day reminder, unqueued", dry)
	}
	if ms := e.messages(c); len(ms) != 1 {
		t.Fatalf("after DryRun the member has %d messages, want only the points earned", len(ms))
	}
	// Run queues exactly what DryRun showed.
	if n, err := s.Run(e.ctx, program, now); err != nil || n != 1 {
		t.Fatalf("Run = %d, %v", n, err)
	}
	ms := e.messages(c)
	got := ms[len(ms)-1]
	got.ID, got.State = 0, dry[0].State
	if got.Key != dry[0].Key || got.Digest != dry[0].Digest || !got.ExpiresAt.Equal(dry[0].ExpiresAt) {
		t.Errorf("Run queued %+v, DryRun showed %+v", got, dry[0])
	}
	if _, err := s.DryRun(e.ctx, "nope", now); err == nil {
		t.Error("DryRun of an unknown program succeeded")
	}
}

// rows are Reminders serving fixed expiring points, paged by member as
// the loyalty service pages them; no challenges.
type rows struct {
	program loyalty.Program
	points  []loyalty.ExpiringPoints // by member, then time
	calls   int
}

func (r *rows) Program(_ context.Context, id string) (loyalty.Program, error) {
	if id != r.program.ID {
		return loyalty.Program{}, loyalty.ErrNotFound
	}
	return r.program, nil
}

func (r *rows) ExpiringPoints(_ context.Context, _ string, from, to time.Time, after string, limit int) ([]loyalty.ExpiringPoints, error) {
	r.calls++
	var out []loyalty.ExpiringPoints
	members := 0
	for i, p := range r.points {
		if p.MemberID <= after || p.At.Before(from) || !p.At.Before(to) {
			continue
		}
		if i == 0 || r.points[i-1].MemberID != p.MemberID {
			if members == limit {
				break
			}
			members++
		}
		out = append(out, p)
	}
	return out, nil
}

func (r *rows) EndingChallenges(context.Context, string, time.Time, time.Time, string, int) ([]loyalty.EndingChallenge, string, error) {
	return nil, "", nil
}

// TestSchedulerExpiringSumsADay checks what the store cannot show with
// its month-end expiry: points expiring at two times of one day make one
// reminder of their sum, and a member's rows may span pages.
func TestSchedulerExpiringSumsADay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.Program(e.ctx, program)
	e.must(err)
	day := at(2027, 7, 1, 0, 0)
	r := &rows{program: p, points: []loyalty.ExpiringPoints{
		{MemberKey: loyalty.MemberKey{ProgramID: program, MemberID: "m1"}, At: day, Points: 10},
		{MemberKey: loyalty.MemberKey{ProgramID: program, MemberID: "m1"}, At: day.Add(12 * time.Hour), Points: 5},
		{MemberKey: loyalty.MemberKey{ProgramID: program, MemberID: "m1"}, At: day.Add(48 * time.Hour), Points: 1},
		{MemberKey: loyalty.MemberKey{ProgramID: program, MemberID: "m2"}, At: day, Points: 7},
		{MemberKey: loyalty.MemberKey{ProgramID: program, MemberID: "m3"}, At: day.Add(time.Hour), Points: 3},
	}}
	s := notify.NewScheduler(e.store, r, notify.SchedulerConfig{Page: 1})
	got, err := s.DryRun(e.ctx, program, at(2027, 6, 20, 9, 0))
	e.must(err)
	var titles []string
	for _, m := range got {
		titles = append(titles, m.Key+" "+m.Title.DE)
	}
	want := []string{
		"expiring:30:m1:2027-07-01 15 Sterne verfallen am 1. Juli",
		"expiring:30:m1:2027-07-03 1 Stern verfällt am 3. Juli",
		"expiring:30:m2:2027-07-01 7 Sterne verfallen am 1. Juli",
		"expiring:30:m3:2027-07-01 3 Sterne verfallen am 1. Juli",
	}
	if !slices.Equal(titles, want) {
		t.Errorf("reminders:\n%q\nwant\n%q", titles, want)
	}
	if r.calls != 4 {
		t.Errorf("%d pages read, want 4 (one per member, and an empty one)", r.calls)
	}
}
