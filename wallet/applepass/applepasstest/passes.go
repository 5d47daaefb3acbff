package applepasstest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
)

func testCreatePass(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.clock.Advance(time.Minute)
	r := e.record(m, typeA)
	got := e.create(r)
	want := r
	want.CreatedAt = stored(r.CreatedAt)
	want.UpdatedAt = want.CreatedAt // the account last changed at enrollment, before
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreatePass (-want +got):\n%s", diff)
	}
	checkUTC(t, "CreatePass", got.CreatedAt, got.UpdatedAt)
	e.wantPass(r, want)

	// The member has a pass of the type: a second call, later and with
	// another serial number and token, returns it and stores nothing.
	e.clock.Advance(time.Minute)
	again := e.record(m, typeA)
	if diff := cmp.Diff(want, e.create(again)); diff != "" {
		t.Errorf("second CreatePass (-first +second):\n%s", diff)
	}
	_, err := e.store.PassBySerial(e.ctx, typeA, again.Serial)
	wantErr(t, err, loyalty.ErrNotFound)
	e.wantPass(r, want)

	// Another pass type, or another member, gets a pass of its own.
	for _, r := range []applepass.Record{e.record(m, typeB), e.record(e.enroll("u2"), typeA)} {
		want := r
		want.CreatedAt, want.UpdatedAt = stored(r.CreatedAt), stored(r.CreatedAt)
		if diff := cmp.Diff(want, e.create(r)); diff != "" {
			t.Errorf("CreatePass(%s, %s) (-want +got):\n%s", r.MemberID, r.PassTypeID, diff)
		}
		e.wantPass(r, want)
	}
	e.wantPass(r, want)
}

func testCreatePassConcurrent(t *testing.T, e *env) {
	m := e.enroll("u1")
	const n = 8
	records := make([]applepass.Record, n)
	for i := range records {
		records[i] = e.record(m, typeA)
		e.clock.Advance(time.Millisecond)
	}
	got := make([]applepass.Record, n)
	errs := make([]error, n)
	parallel(n, func(i int) { got[i], errs[i] = e.store.CreatePass(e.ctx, records[i]) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreatePass %d: %v", i, err)
		}
		if diff := cmp.Diff(got[0], got[i]); diff != "" {
			t.Errorf("CreatePass %d returned another record than CreatePass 0 (-0 +%d):\n%s", i, i, diff)
		}
	}
	kept := 0
	for _, r := range records {
		_, err := e.store.PassBySerial(e.ctx, typeA, r.Serial)
		switch {
		case err == nil:
			kept++
			if r.Serial != got[0].Serial {
				t.Errorf("serial %s stored, but CreatePass returned %s", r.Serial, got[0].Serial)
			}
		case !errors.Is(err, loyalty.ErrNotFound):
			t.Fatal(err)
		}
	}
	if kept != 1 {
		t.Errorf("%d of %d concurrent CreatePass calls stored a pass, want 1", kept, n)
	}
	e.wantPass(got[0], got[0])
}

func testCreatePassUnknownMember(t *testing.T, e *env) {
	r := e.record(loyalty.Member{ProgramID: programID, ID: "no-such-member"}, typeA)
	if got, err := e.store.CreatePass(e.ctx, r); err == nil {
		t.Errorf("CreatePass for an unknown member = %+v, want an error", got)
	}
	_, err := e.store.PassBySerial(e.ctx, typeA, r.Serial)
	wantErr(t, err, loyalty.ErrNotFound)
}

func testNotFound(t *testing.T, e *env) {
	m := e.enroll("u1")
	p := e.create(e.record(m, typeA))
	for _, c := range []struct{ program, member, passType string }{
		{programID, m.ID, typeB},
		{programID, "other", typeA},
		{"other", m.ID, typeA},
	} {
		_, err := e.store.Pass(e.ctx, c.program, c.member, c.passType)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("Pass(%s, %s, %s): got error %v, want one wrapping %q", c.program, c.member, c.passType, err, loyalty.ErrNotFound)
		}
	}
	for _, c := range []struct{ passType, serial string }{
		{typeA, "00"},
		{typeB, p.Serial},
		{typeA, ""},
	} {
		_, err := e.store.PassBySerial(e.ctx, c.passType, c.serial)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("PassBySerial(%s, %q): got error %v, want one wrapping %q", c.passType, c.serial, err, loyalty.ErrNotFound)
		}
	}
}

func testUpdatedAt(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.clock.Advance(time.Minute)
	p := e.create(e.record(m, typeA))
	if !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Errorf("new pass: UpdatedAt = %v, want CreatedAt %v", p.UpdatedAt, p.CreatedAt)
	}
	e.register("dev", p, "tok", e.clock.Now())
	e.wantUpdated("dev", typeA, time.Time{}, []string{p.Serial}, p.CreatedAt)

	// A change of the member's account after the pass's creation moves
	// UpdatedAt to it.
	e.clock.Advance(time.Hour)
	changed := e.earn(m)
	if !changed.After(p.CreatedAt) {
		t.Fatalf("account changed at %v, not after the pass's creation at %v", changed, p.CreatedAt)
	}
	want := p
	want.UpdatedAt = stored(changed)
	e.wantPass(p, want)
	e.wantUpdated("dev", typeA, p.CreatedAt, []string{p.Serial}, want.UpdatedAt)
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(-time.Nanosecond), []string{p.Serial}, want.UpdatedAt)
	// Nothing changed after the last update.
	e.wantUpdated("dev", typeA, want.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(500*time.Nanosecond), nil, time.Time{})
	e.wantUpdated("dev", typeA, want.UpdatedAt.Add(time.Hour), nil, time.Time{})
}

func testUpdatedSince(t *testing.T, e *env) {
	m1, m2, m3 := e.enroll("u1"), e.enroll("u2"), e.enroll("u3")
	// p1's serial number sorts first, but p2 is created first.
	r1, r2 := e.record(m1, typeA), e.record(m2, typeA)
	e.clock.Advance(time.Minute)
	r2.CreatedAt = e.clock.Now()
	p2 := e.create(r2)
	e.clock.Advance(time.Minute)
	r1.CreatedAt = e.clock.Now()
	p1 := e.create(r1)
	p3 := e.create(e.record(m1, typeB))
	p4 := e.create(e.record(m3, typeA)) // dev does not register for it
	for _, p := range []applepass.Record{p1, p2, p3} {
		e.register("dev", p, "tok", e.clock.Now())
	}
	e.register("other-dev", p4, "tok", e.clock.Now())

	both := []string{p1.Serial, p2.Serial}
	e.wantUpdated("dev", typeA, time.Time{}, both, p1.UpdatedAt)
	e.wantUpdated("dev", typeA, p2.UpdatedAt, []string{p1.Serial}, p1.UpdatedAt)
	e.wantUpdated("dev", typeA, p1.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeB, time.Time{}, []string{p3.Serial}, p3.UpdatedAt)
	e.wantUpdated("other-dev", typeA, time.Time{}, []string{p4.Serial}, p4.UpdatedAt)
	e.wantUpdated("unknown-dev", typeA, time.Time{}, nil, time.Time{})
	e.wantUpdated("dev", "pass.com.example.unknown", time.Time{}, nil, time.Time{})

	// One member's account changes: only that member's pass is updated.
	// A since in another time zone is the same instant.
	e.clock.Advance(time.Hour)
	changed := stored(e.earn(m2))
	e.wantUpdated("dev", typeA, p1.UpdatedAt.In(start.Location()), []string{p2.Serial}, changed)
	e.wantUpdated("dev", typeA, time.Time{}, both, changed)
	e.wantUpdated("dev", typeA, changed, nil, time.Time{})
	e.wantUpdated("other-dev", typeA, p4.UpdatedAt, nil, time.Time{})
	e.wantUpdated("dev", typeB, p3.UpdatedAt, nil, time.Time{})
}
