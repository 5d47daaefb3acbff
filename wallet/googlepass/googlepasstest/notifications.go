package googlepasstest

import (
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
)

func testReserve(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	want := func(what string, now time.Time, ok bool) {
		t.Helper()
		if got := e.reserve(p, now); got != ok {
			t.Errorf("%s: ReserveNotification at %v = %v, want %v", what, now, got, ok)
		}
	}
	a := e.clock.Now()
	for i := range limit {
		want("below the limit", a.Add(time.Duration(i)*time.Hour), true)
	}
	want("at the limit", a.Add(limit*time.Hour), false)

	// The first record leaves the window when it is window old: not a
	// microsecond before. The refusal above recorded nothing.
	first := stored(a)
	want("the first a microsecond short of window old", first.Add(window-time.Microsecond), false)
	want("the first window old", first.Add(window), true)
	want("again", first.Add(window), false)
	second := stored(a.Add(time.Hour))
	want("the second a microsecond short of window old", second.Add(window-time.Microsecond), false)
	want("the second window old", second.Add(window), true)

	// Long after, all have left; records at one instant count each.
	later := a.Add(10 * window)
	for range limit {
		want("long after", later, true)
	}
	want("at the limit, at one instant", later, false)
	// The limit is the caller's.
	ok, err := e.store.ReserveNotification(e.ctx, p.ProgramID, p.MemberID, later, window, limit+1)
	e.must(err)
	if !ok {
		t.Errorf("ReserveNotification with a limit of %d after %d: ok = false", limit+1, limit)
	}
	e.wantPass(p, p)

	// Another replica, its clock a minute ahead, recorded the last ones:
	// they count.
	ahead := later.Add(20 * window)
	for range limit {
		want("on a clock a minute ahead", ahead.Add(time.Minute), true)
	}
	want("behind the other clock", ahead, false)
}

func testReservePerPass(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	q := e.create(e.newPass(e.enroll("u2")))
	now := e.clock.Now()
	for i := range limit {
		if !e.reserve(p, now) {
			t.Fatalf("ReserveNotification %d: ok = false", i)
		}
	}
	if e.reserve(p, now) {
		t.Error("ReserveNotification beyond the limit: ok = true")
	}
	for i := range limit {
		if !e.reserve(q, now) {
			t.Errorf("ReserveNotification %d for another member: ok = false", i)
		}
	}
	if e.reserve(q, now) {
		t.Error("ReserveNotification for another member beyond the limit: ok = true")
	}
}

func testReserveConcurrent(t *testing.T, e *env) {
	passes := []googlepass.Pass{e.create(e.newPass(e.enroll("u1"))), e.create(e.newPass(e.enroll("u2")))}
	const n = 20 // per pass
	now := e.clock.Now()
	ok := make([]bool, 2*n)
	errs := make([]error, 2*n)
	parallel(2*n, func(i int) {
		p := passes[i%2]
		ok[i], errs[i] = e.store.ReserveNotification(e.ctx, p.ProgramID, p.MemberID, now, window, limit)
	})
	var reserved [2]int
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ReserveNotification %d: %v", i, err)
		}
		if ok[i] {
			reserved[i%2]++
		}
	}
	for j, p := range passes {
		if reserved[j] != limit {
			t.Errorf("%d of %d concurrent ReserveNotification calls for member %s recorded one, want %d", reserved[j], n, p.MemberID, limit)
		}
		if e.reserve(p, now.Add(time.Minute)) {
			t.Errorf("ReserveNotification for member %s after the concurrent calls: ok = true", p.MemberID)
		}
		if !e.reserve(p, now.Add(window)) {
			t.Errorf("ReserveNotification for member %s a window later: ok = false", p.MemberID)
		}
	}
}

func testReserveUnknownPass(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	for _, c := range []struct{ program, member string }{
		{programID, "no-such-member"},
		{programID, e.enroll("u2").ID}, // a member without a pass
		{"other", p.MemberID},
	} {
		ok, err := e.store.ReserveNotification(e.ctx, c.program, c.member, start, window, limit)
		if !errors.Is(err, loyalty.ErrNotFound) || ok {
			t.Errorf("ReserveNotification(%s, %s) = %v, %v; want an error wrapping %q", c.program, c.member, ok, err, loyalty.ErrNotFound)
		}
	}
	if !e.reserve(p, start) {
		t.Error("ReserveNotification after the refusals: ok = false")
	}
}
