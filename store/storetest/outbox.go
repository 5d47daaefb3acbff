package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// outboxTests check the outbox of card changes, the reads a card's
// watchers need (MemberByID, EntriesSince) and the changes the Service
// writes.
var outboxTests = []test{
	{"AppendRoundTrip", testOutboxRoundTrip},
	{"Claim", testOutboxClaim},
	{"Delete", testOutboxDelete},
	{"ViewCannotWrite", testOutboxViewCannotWrite},
	{"ConcurrentClaims", testOutboxConcurrentClaims},
	{"EntriesSince", testTxEntriesSince},
	{"Earn", testOutboxEarn},
	{"Hold", testOutboxHold},
}

// cardChange returns a change of m's card at version, taken at at, with
// every field of its state set.
func cardChange(m loyalty.Member, version int64, at time.Time) loyalty.CardChange {
	return loyalty.CardChange{State: loyalty.CardState{
		ProgramID: m.ProgramID, MemberID: m.ID, UID: m.FirebaseUID, CardNumber: m.CardNumber, Locale: m.Locale,
		ProgramName: "Café „Zur Post“", PointName: loyalty.Text{DE: "Sterne", EN: "stars"}, TierName: loyalty.Text{DE: "Silber"},
		Version: version, Balance: 120 + version, Available: 100, Pending: 20,
		NextExpiry: at.Add(90 * 24 * time.Hour), NextExpiryPoints: 7, ValidUntil: at.Add(10 * time.Minute), TakenAt: at,
	}}
}

// appendChanges writes cs to the outbox in one transaction, sets their
// seqs and fails the test on error.
func (e *env) appendChanges(cs ...*loyalty.CardChange) {
	e.t.Helper()
	e.update(func(tx loyalty.Tx) error {
		for _, c := range cs {
			if err := tx.AppendCardChange(e.ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim claims changes as CardChanges does and fails the test on error.
func (e *env) claim(writtenBefore, now time.Time, lease time.Duration, limit int) []loyalty.CardChange {
	e.t.Helper()
	var cs []loyalty.CardChange
	e.update(func(tx loyalty.Tx) (err error) {
		cs, err = tx.CardChanges(e.ctx, writtenBefore, now, lease, limit)
		return err
	})
	return cs
}

// seqs returns the seqs of cs.
func seqs(cs []loyalty.CardChange) []int64 {
	var s []int64
	for _, c := range cs {
		s = append(s, c.Seq)
	}
	return s
}

func testOutboxRoundTrip(t *testing.T, e *env) {
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	at := e.now()
	name := loyalty.Text{DE: "Kaffee", EN: "Coffee"}
	full := cardChange(m, 3, at)
	full.Entries = []loyalty.Entry{
		{ID: 41, ProgramID: p.ID, MemberID: m.ID, Kind: loyalty.EntryEarn, Points: 12, BalanceAfter: 62, Version: 2, CreatedAt: at,
			PurchaseID: "pur_1", Detail: loyalty.EntryDetail{AmountMinor: 1299, Currency: "EUR", ReceiptID: "R-1"}},
		{ID: 42, ProgramID: p.ID, MemberID: m.ID, Kind: loyalty.EntryRedeem, Points: -50, BalanceAfter: 12, Version: 3, CreatedAt: at,
			RewardID: "kaffee", Detail: loyalty.EntryDetail{RewardName: &name, VoucherCode: "K7QD-M2XH"}},
	}
	// A hold's change: no entries, nothing pending or expiring.
	bare := loyalty.CardChange{State: loyalty.CardState{
		ProgramID: p.ID, MemberID: m.ID, UID: m.FirebaseUID, CardNumber: m.CardNumber, Locale: m.Locale,
		Version: 4, Balance: 12, TakenAt: at.Add(time.Second),
	}}
	later := cardChange(m, 5, at.Add(2*time.Second))
	e.appendChanges(&full, &bare)
	e.appendChanges(&later)
	if full.Seq <= 0 || bare.Seq <= full.Seq || later.Seq <= bare.Seq {
		t.Fatalf("AppendCardChange set seqs %d, %d, %d; want positive and increasing", full.Seq, bare.Seq, later.Seq)
	}
	got := e.claim(at.Add(time.Hour), at, time.Minute, 10)
	if diff := cmp.Diff([]loyalty.CardChange{full, bare, later}, got); diff != "" {
		t.Errorf("claimed changes (-want +got):\n%s", diff)
	}
	for _, c := range got {
		for what, tm := range map[string]time.Time{"TakenAt": c.State.TakenAt, "ValidUntil": c.State.ValidUntil, "NextExpiry": c.State.NextExpiry} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("change %d: %s in %v, want UTC", c.Seq, what, tm.Location())
			}
		}
	}
}

func testOutboxClaim(t *testing.T, e *env) {
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	t0 := e.now()
	var cs [5]loyalty.CardChange
	for i := range 4 {
		cs[i] = cardChange(m, int64(i+1), t0.Add(time.Duration(i)*time.Second))
		e.appendChanges(&cs[i])
	}
	// Written last, stamped before the others (another replica's clock):
	// it comes last all the same.
	cs[4] = cardChange(m, 5, t0.Add(-time.Hour))
	e.appendChanges(&cs[4])

	now, lease := t0.Add(10*time.Second), 30*time.Second
	check := func(what string, got []loyalty.CardChange, want ...int) {
		t.Helper()
		var ws []loyalty.CardChange
		for _, i := range want {
			ws = append(ws, cs[i])
		}
		if diff := cmp.Diff(ws, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	check("written at or before t0+1s", e.claim(t0.Add(time.Second), now, lease, 10), 0, 1, 4)
	check("again within the lease", e.claim(t0.Add(time.Second), now, lease, 10))
	check("limit 1", e.claim(t0.Add(time.Hour), now, lease, 1), 2)
	check("the rest", e.claim(t0.Add(time.Hour), now.Add(time.Second), lease, 10), 3)
	check("a microsecond before the first claims run out", e.claim(t0.Add(time.Hour), now.Add(lease-time.Microsecond), lease, 10))
	check("when the first claims run out", e.claim(t0.Add(time.Hour), now.Add(lease), lease, 10), 0, 1, 2, 4)
	check("when the last claim runs out", e.claim(t0.Add(time.Hour), now.Add(lease+time.Second), lease, 10), 3)
	check("nothing written before t0-1h", e.claim(t0.Add(-time.Hour-time.Microsecond), now.Add(time.Hour), lease, 10))

	ctx := e.ctx
	for _, c := range []struct {
		lease time.Duration
		limit int
	}{{lease, 0}, {lease, -1}, {0, 10}, {-time.Second, 10}} {
		err := e.store.Update(ctx, func(tx loyalty.Tx) error {
			_, err := tx.CardChanges(ctx, t0.Add(time.Hour), now.Add(time.Hour), c.lease, c.limit)
			return err
		})
		if !errors.Is(err, loyalty.ErrInvalid) {
			t.Errorf("CardChanges(lease %v, limit %d) = %v, want ErrInvalid", c.lease, c.limit, err)
		}
	}
}

func testOutboxDelete(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	at := e.now()
	a, b, c := cardChange(m, 1, at), cardChange(m, 2, at), cardChange(m, 3, at)
	e.appendChanges(&a, &b, &c)
	e.update(func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, []int64{a.Seq, c.Seq, c.Seq + 1000, -1}) })
	e.update(func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, nil) })
	if got := seqs(e.claim(at, at, time.Minute, 10)); !cmp.Equal(got, []int64{b.Seq}) {
		t.Errorf("after deleting %d and %d: claimed %v, want %d", a.Seq, c.Seq, got, b.Seq)
	}
	// A claimed change is deleted all the same.
	e.update(func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, []int64{b.Seq}) })
	if got := e.claim(at, at.Add(time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("after deleting all: claimed %v", seqs(got))
	}

	// Thousands at once, with unknown seqs among them.
	many := make([]loyalty.CardChange, 2000)
	e.update(func(tx loyalty.Tx) error {
		for i := range many {
			many[i] = cardChange(m, int64(10+i), at)
			if err := tx.AppendCardChange(ctx, &many[i]); err != nil {
				return err
			}
		}
		return nil
	})
	var del []int64
	for _, c := range many[:1999] {
		del = append(del, c.Seq, c.Seq+100_000)
	}
	e.update(func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, del) })
	if got := seqs(e.claim(at, at.Add(2*time.Hour), time.Minute, 10)); !cmp.Equal(got, []int64{many[1999].Seq}) {
		t.Errorf("after deleting 1999 of 2000: claimed %v, want %d", got, many[1999].Seq)
	}
}

func testOutboxViewCannotWrite(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	at := e.now()
	c := cardChange(m, 1, at)
	writes := []struct {
		name string
		fn   func(tx loyalty.Tx) error
	}{
		{"AppendCardChange", func(tx loyalty.Tx) error { c := cardChange(m, 2, at); return tx.AppendCardChange(ctx, &c) }},
		{"CardChanges", func(tx loyalty.Tx) error { _, err := tx.CardChanges(ctx, at, at, time.Minute, 10); return err }},
		{"DeleteCardChanges", func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, []int64{c.Seq}) }},
		{"DeleteCardChanges/none", func(tx loyalty.Tx) error { return tx.DeleteCardChanges(ctx, nil) }},
	}
	// Each write fails on an empty outbox and on one with a change.
	for _, stage := range []string{"empty", "one change"} {
		if stage == "one change" {
			e.appendChanges(&c)
		}
		for _, w := range writes {
			t.Run(stage+"/"+w.name, func(t *testing.T) {
				if err := e.store.View(ctx, w.fn); err == nil {
					t.Fatal("a write inside View succeeded")
				}
			})
		}
	}
	// The change is there, unclaimed, and alone.
	if got := seqs(e.claim(at, at, time.Minute, 10)); !cmp.Equal(got, []int64{c.Seq}) {
		t.Errorf("after writes in View: claimed %v, want %d", got, c.Seq)
	}
}

// testOutboxConcurrentClaims: 8 dispatchers claim 300 changes, a few at a
// time, until none are left: every change is claimed exactly once.
func testOutboxConcurrentClaims(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	at := e.now()
	const n = 300
	e.update(func(tx loyalty.Tx) error {
		for i := range n {
			c := cardChange(m, int64(i+1), at)
			if err := tx.AppendCardChange(ctx, &c); err != nil {
				return err
			}
		}
		return nil
	})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[int64]int{}
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var cs []loyalty.CardChange
				err := e.store.Update(ctx, func(tx loyalty.Tx) (err error) {
					cs, err = tx.CardChanges(ctx, at, at, time.Hour, 7)
					return err
				})
				if err != nil {
					t.Errorf("CardChanges: %v", err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for i, c := range cs {
					claimed[c.Seq]++
					if i > 0 && c.Seq <= cs[i-1].Seq {
						t.Errorf("claimed seqs %v: not increasing", seqs(cs))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for seq, k := range claimed {
		if k != 1 {
			t.Errorf("change %d claimed %d times", seq, k)
		}
	}
	if len(claimed) != n {
		t.Errorf("%d changes claimed, want %d", len(claimed), n)
	}
	if got := e.claim(at, at, time.Hour, n); len(got) != 0 {
		t.Errorf("%d changes left unclaimed", len(got))
	}
}

func testTxEntriesSince(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	var written []loyalty.Entry // at versions 1, 2, 4, 5, 6
	for i := 1; i <= 5; i++ {
		var en loyalty.Entry
		e.update(func(tx loyalty.Tx) (err error) {
			if en, err = e.post(tx, m, int64(i), e.now()); err != nil {
				return err
			}
			// Interleave another member's entries.
			_, err = e.post(tx, other, 100, e.now())
			return err
		})
		written = append(written, en)
		if i == 2 {
			// A hold moves the version without an entry.
			e.update(func(tx loyalty.Tx) error {
				a, err := tx.Account(ctx, p.ID, m.ID)
				if err != nil {
					return err
				}
				a.Version++
				return tx.SaveAccount(ctx, a)
			})
		}
		e.clock.Advance(time.Second)
	}
	for i, want := range []int64{1, 2, 4, 5, 6} {
		if written[i].Version != want {
			t.Fatalf("entry %d written at version %d, want %d", i, written[i].Version, want)
		}
	}
	oldestFirst := func(idx ...int) []loyalty.Entry {
		var es []loyalty.Entry
		for _, i := range idx {
			es = append(es, written[i])
		}
		return es
	}
	cases := []struct {
		after int64
		limit int
		want  []loyalty.Entry
	}{
		{0, 10, oldestFirst(0, 1, 2, 3, 4)},
		{0, 2, oldestFirst(0, 1)},
		{2, 10, oldestFirst(2, 3, 4)},
		{3, 10, oldestFirst(2, 3, 4)},
		{4, 1, oldestFirst(3)},
		{5, 10, oldestFirst(4)},
		{6, 10, nil},
		{100, 10, nil},
	}
	for _, c := range cases {
		for name, run := range map[string]func(context.Context, func(loyalty.Tx) error) error{"Update": e.store.Update, "View": e.store.View} {
			err := run(ctx, func(tx loyalty.Tx) error {
				got, err := tx.EntriesSince(ctx, p.ID, m.ID, c.after, c.limit)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("%s: EntriesSince(after %d, limit %d) (-want +got):\n%s", name, c.after, c.limit, diff)
				}
				return nil
			})
			e.must(err)
		}
	}
	e.view(func(tx loyalty.Tx) error {
		if es, err := tx.EntriesSince(ctx, p.ID, "nope", 0, 10); err != nil || len(es) != 0 {
			t.Errorf("EntriesSince of an unknown member = %v, %v; want none, nil", es, err)
		}
		_, err := tx.EntriesSince(ctx, p.ID, m.ID, 0, 0)
		wantErr(t, err, loyalty.ErrInvalid)
		return nil
	})
}

// testOutboxEarn: an earn writes one change to the outbox, with the new
// balance and version and the earn entry, and hands it to the change hook;
// the dispatcher claims and deletes it.
func testOutboxEarn(t *testing.T, e *env) {
	ctx := e.ctx
	var (
		mu     sync.Mutex
		hooked []loyalty.CardChange
	)
	svc := loyalty.NewService(e.store, loyalty.WithClock(e.clock.Now), loyalty.WithChangeHook(func(cs []loyalty.CardChange) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, cs...)
	}))
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	if got := e.claim(e.now(), e.now(), time.Minute, 10); len(got) != 0 {
		t.Fatalf("seeding and enrolling wrote changes %+v, want none", got)
	}
	e.clock.Advance(time.Minute)
	res, err := svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 1299, Currency: "EUR", IdempotencyKey: "e1"})
	e.must(err)
	st, err := svc.CardState(ctx, customer(card))
	e.must(err)
	if st.Version != 1 || st.Balance != 12 || st.Available != 12 || !st.TakenAt.Equal(e.now()) {
		t.Errorf("card after the earn: %+v; want version 1, balance and available 12, taken now", st)
	}
	s := e.state(card)
	want := loyalty.CardChange{State: st, Entries: s.Entries}
	if len(s.Entries) != 1 || s.Entries[0].ID != res.EntryID || s.Entries[0].Version != 1 {
		t.Fatalf("entries after the earn: %+v; want entry %d at version 1", s.Entries, res.EntryID)
	}

	// A replayed earn writes no change.
	_, err = svc.Earn(ctx, till, loyalty.EarnRequest{CardNumber: card.Member.CardNumber, AmountMinor: 1299, Currency: "EUR", IdempotencyKey: "e1"})
	e.must(err)

	got, err := e.svc.ClaimCardChanges(ctx, e.now(), time.Minute, 10)
	e.must(err)
	if len(got) != 1 {
		t.Fatalf("ClaimCardChanges = %+v, want one change", got)
	}
	want.Seq = got[0].Seq
	if diff := cmp.Diff([]loyalty.CardChange{want}, got); diff != "" {
		t.Errorf("outbox after an earn (-want +got):\n%s", diff)
	}
	mu.Lock()
	if diff := cmp.Diff([]loyalty.CardChange{want}, hooked); diff != "" {
		t.Errorf("changes handed to the hook (-want +got):\n%s", diff)
	}
	mu.Unlock()
	if again, err := e.svc.ClaimCardChanges(ctx, e.now(), time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("ClaimCardChanges within the lease = %v, %v; want none", seqs(again), err)
	}
	e.must(e.svc.DeleteCardChanges(ctx, seqs(got)))
	e.clock.Advance(time.Hour)
	if left, err := e.svc.ClaimCardChanges(ctx, e.now(), time.Minute, 10); err != nil || len(left) != 0 {
		t.Errorf("ClaimCardChanges after the delete = %v, %v; want none", seqs(left), err)
	}
}

// testOutboxHold: a hold writes a change with the new available points and
// no entries.
func testOutboxHold(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	e.earn(till, card, 10_000, "e1")
	earned, err := e.svc.ClaimCardChanges(ctx, e.now(), time.Minute, 10)
	e.must(err)
	if len(earned) != 1 || earned[0].State.Balance != 100 || earned[0].State.Available != 100 || len(earned[0].Entries) != 1 {
		t.Fatalf("after earning 100: outbox %+v, want one change with 100 points and the entry", earned)
	}
	e.must(e.svc.DeleteCardChanges(ctx, seqs(earned)))

	e.clock.Advance(time.Minute)
	h := e.hold(till, card, 60, "h1")
	e.hold(till, card, 60, "h1") // a replay writes no change
	got, err := e.svc.ClaimCardChanges(ctx, e.now(), time.Minute, 10)
	e.must(err)
	if len(got) != 1 {
		t.Fatalf("after a hold: outbox %+v, want one change", got)
	}
	st := got[0].State
	if st.MemberID != card.Member.ID || st.Version != 2 || st.Balance != 100 || st.Available != 40 ||
		!st.ValidUntil.Equal(h.Hold.ExpiresAt) || !st.TakenAt.Equal(e.now()) || len(got[0].Entries) != 0 {
		t.Errorf("change of a hold = %+v; want version 2, balance 100, 40 available until %v, taken now, no entries",
			got[0], h.Hold.ExpiresAt)
	}
	e.must(e.svc.DeleteCardChanges(ctx, seqs(got)))
	if left, err := e.svc.ClaimCardChanges(ctx, e.now().Add(time.Hour), time.Minute, 10); err != nil || len(left) != 0 {
		t.Errorf("ClaimCardChanges after the delete = %v, %v; want none", seqs(left), err)
	}
}
