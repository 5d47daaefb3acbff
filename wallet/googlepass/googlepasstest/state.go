package googlepasstest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

func testSetSaved(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	other := e.create(e.newPass(e.enroll("u2")))
	// SetSaved keeps what MarkSynced recorded.
	synced, expiry := start.Add(time.Minute), start.AddDate(0, 6, 0)
	e.must(e.store.MarkSynced(e.ctx, p.ProgramID, p.MemberID, synced, "Gold", expiry))
	want := p
	want.SyncedAt, want.Tier, want.ExpiryWarned = stored(synced), "Gold", stored(expiry)

	set := func(what string, saved bool, asOf time.Time, wantChanged bool) {
		t.Helper()
		got, changed, err := e.store.SetSaved(e.ctx, p.ObjectID, saved, asOf)
		e.must(err)
		if changed != wantChanged {
			t.Errorf("%s: SetSaved(%v, %v) changed = %v, want %v", what, saved, asOf, changed, wantChanged)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: SetSaved(%v, %v) returned (-want +got):\n%s", what, saved, asOf, diff)
		}
		checkUTC(t, "SetSaved", got)
		e.wantPass(p, want)
	}
	t1 := start.Add(time.Hour)
	want.Saved, want.SavedAsOf = true, stored(t1)
	set("save", true, t1, true)
	set("save replayed", true, t1, false)

	t3 := t1.Add(2 * time.Minute)
	want.Saved, want.SavedAsOf = false, stored(t3)
	set("delete", false, t3, true)
	// Callbacks older than the delete change nothing, however they come.
	set("save between, delivered late", true, t1.Add(time.Minute), false)
	set("first save replayed", true, t1, false)
	set("save a microsecond older", true, stored(t3).Add(-time.Microsecond), false)
	set("delete replayed", false, t3, false)

	// A newer callback is recorded, even when it says what the pass says.
	t4 := t3.Add(time.Minute)
	want.Saved, want.SavedAsOf = true, stored(t4)
	set("save again", true, t4, true)
	t5 := t4.Add(time.Minute)
	want.SavedAsOf = stored(t5)
	set("newer save", true, t5, true)
	// A callback as old as the latest is not older than it: it applies.
	want.Saved = false
	set("delete as old as the save", false, t5, true)

	e.wantPass(other, other)
}

func testSetSavedUnknownObject(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	for _, id := range []string{objectID(1), ""} {
		got, changed, err := e.store.SetSaved(e.ctx, id, true, start)
		if !errors.Is(err, loyalty.ErrNotFound) || changed {
			t.Errorf("SetSaved(%q) = %+v, %v, %v; want an error wrapping %q", id, got, changed, err, loyalty.ErrNotFound)
		}
	}
	e.wantPass(p, p)
}

func testMarkSynced(t *testing.T, e *env) {
	p := e.create(e.newPass(e.enroll("u1")))
	other := e.create(e.newPass(e.enroll("u2")))
	// MarkSynced keeps what SetSaved recorded.
	_, _, err := e.store.SetSaved(e.ctx, p.ObjectID, true, start)
	e.must(err)
	want := p
	want.Saved, want.SavedAsOf = true, stored(start)

	mark := func(at time.Time, tier string, expiryWarned time.Time) {
		t.Helper()
		e.must(e.store.MarkSynced(e.ctx, p.ProgramID, p.MemberID, at, tier, expiryWarned))
		e.wantPass(p, want)
	}
	t1, exp1 := start.Add(time.Hour), start.AddDate(0, 6, 0)
	want.SyncedAt, want.Tier, want.ExpiryWarned = stored(t1), "Gold", stored(exp1)
	mark(t1, "Gold", exp1)

	// A zero expiryWarned keeps the date warned about before.
	t2 := t1.Add(time.Hour)
	want.SyncedAt, want.Tier = stored(t2), "Silber"
	mark(t2, "Silber", time.Time{})

	// No tier; another expiry, even an earlier one, replaces it.
	t3, exp2 := t2.Add(time.Hour), start.AddDate(0, 3, 0)
	want.SyncedAt, want.Tier, want.ExpiryWarned = stored(t3), "", stored(exp2)
	mark(t3, "", exp2)

	for _, c := range []struct{ program, member string }{
		{programID, "no-such-member"},
		{programID, e.enroll("u3").ID}, // a member without a pass
		{"other", p.MemberID},
	} {
		err := e.store.MarkSynced(e.ctx, c.program, c.member, t3, "Gold", exp1)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("MarkSynced(%s, %s): got error %v, want one wrapping %q", c.program, c.member, err, loyalty.ErrNotFound)
		}
	}
	e.wantPass(p, want)
	e.wantPass(other, other)
}
