package googlepasstest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
)

func testCreatePass(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.clock.Advance(time.Minute)
	p := e.newPass(m)
	// The state fields are ignored: a new pass is not saved, never synced.
	in := p
	in.Saved, in.SavedAsOf, in.SyncedAt, in.Tier, in.ExpiryWarned = true, start, start, "Gold", start
	got := e.create(in)
	want := p
	want.CreatedAt = stored(p.CreatedAt)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreatePass (-want +got):\n%s", diff)
	}
	e.wantPass(p, want)

	// The member has a pass: later calls, with the same object id or
	// another, return it and store nothing.
	e.clock.Advance(time.Minute)
	again := e.newPass(m)
	if diff := cmp.Diff(want, e.create(again)); diff != "" {
		t.Errorf("second CreatePass (-first +second):\n%s", diff)
	}
	again.ObjectID = objectID(1)
	if diff := cmp.Diff(want, e.create(again)); diff != "" {
		t.Errorf("CreatePass with another object id (-first +second):\n%s", diff)
	}
	_, err := e.store.PassByObject(e.ctx, again.ObjectID)
	wantErr(t, err, loyalty.ErrNotFound)

	// Nor does a call reset the state of the pass that is there.
	_, _, err = e.store.SetSaved(e.ctx, p.ObjectID, true, start)
	e.must(err)
	e.must(e.store.MarkSynced(e.ctx, p.ProgramID, p.MemberID, start, "Gold", start))
	want.Saved, want.SavedAsOf, want.SyncedAt, want.Tier, want.ExpiryWarned = true, stored(start), stored(start), "Gold", stored(start)
	if diff := cmp.Diff(want, e.create(e.newPass(m))); diff != "" {
		t.Errorf("CreatePass of a saved, synced pass (-want +got):\n%s", diff)
	}
	e.wantPass(p, want)

	// Another member gets a pass of its own.
	q := e.newPass(e.enroll("u2"))
	wantQ := q
	wantQ.CreatedAt = stored(q.CreatedAt)
	if diff := cmp.Diff(wantQ, e.create(q)); diff != "" {
		t.Errorf("CreatePass of another member (-want +got):\n%s", diff)
	}
	e.wantPass(q, wantQ)
	e.wantPass(p, want)
}

func testCreatePassConcurrent(t *testing.T, e *env) {
	m := e.enroll("u1")
	// Half the calls carry the member's one object id (googlepass.ObjectID);
	// the others an object id of their own, to tell which was stored.
	const n = 20
	passes := make([]googlepass.Pass, n)
	for i := range passes {
		passes[i] = e.newPass(m)
		if i%2 == 1 {
			passes[i].ObjectID = objectID(i)
		}
		e.clock.Advance(time.Millisecond)
	}
	got := make([]googlepass.Pass, n)
	errs := make([]error, n)
	parallel(n, func(i int) { got[i], errs[i] = e.store.CreatePass(e.ctx, passes[i]) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreatePass %d: %v", i, err)
		}
		if diff := cmp.Diff(got[0], got[i]); diff != "" {
			t.Errorf("CreatePass %d returned another pass than CreatePass 0 (-0 +%d):\n%s", i, i, diff)
		}
	}
	// Exactly one of the passes given is stored, as it was given.
	kept := 0
	for i, p := range passes {
		want := p
		want.CreatedAt = stored(p.CreatedAt)
		if cmp.Equal(want, got[0]) {
			kept++
			continue
		}
		if i%2 == 1 {
			_, err := e.store.PassByObject(e.ctx, p.ObjectID)
			wantErr(t, err, loyalty.ErrNotFound)
		}
	}
	if kept != 1 {
		t.Errorf("CreatePass returned %+v, which is %d of the %d passes given, want 1", got[0], kept, n)
	}
	e.wantPass(got[0], got[0])
}

func testCreatePassUnknownMember(t *testing.T, e *env) {
	e.enroll("u1")
	for _, m := range []loyalty.Member{{ProgramID: programID, ID: "no-such-member"}, {ProgramID: "other", ID: "no-such-member"}} {
		p := e.newPass(m)
		got, err := e.store.CreatePass(e.ctx, p)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("CreatePass for unknown member %s of %s = %+v, %v; want an error wrapping %q", m.ID, m.ProgramID, got, err, loyalty.ErrNotFound)
		}
		_, err = e.store.PassByObject(e.ctx, p.ObjectID)
		wantErr(t, err, loyalty.ErrNotFound)
	}
}

func testCreatePassObjectTaken(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	m2 := e.enroll("u2")
	q := e.newPass(m2)
	q.ObjectID = p.ObjectID
	if got, err := e.store.CreatePass(e.ctx, q); err == nil {
		t.Errorf("CreatePass with another pass's object id = %+v, want an error", got)
	}
	_, err := e.store.Pass(e.ctx, programID, m2.ID)
	wantErr(t, err, loyalty.ErrNotFound)
	e.wantPass(p, p)
}

func testNotFound(t *testing.T, e *env) {
	m := e.enroll("u1")
	e.create(e.newPass(m))
	e.enroll("u2") // a member without a pass
	for _, c := range []struct{ program, member string }{
		{programID, "no-such-member"},
		{programID, e.enroll("u3").ID},
		{"other", m.ID},
		{"", ""},
	} {
		_, err := e.store.Pass(e.ctx, c.program, c.member)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("Pass(%s, %s): got error %v, want one wrapping %q", c.program, c.member, err, loyalty.ErrNotFound)
		}
	}
	for _, id := range []string{objectID(1), googlepass.ObjectID(issuerID, "other", m.ID), ""} {
		_, err := e.store.PassByObject(e.ctx, id)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("PassByObject(%q): got error %v, want one wrapping %q", id, err, loyalty.ErrNotFound)
		}
	}
}
