package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/treue/treue/loyalty"
)

// lotTxTests check the Tx primitives of lots and holds.
var lotTxTests = []test{
	{"CreateLot", testLotTxCreate},
	{"OpenLotsOrder", testLotTxOpenLotsOrder},
	{"AppendEntryUses", testLotTxAppendEntryUses},
	{"MembersWithDueLots", testLotTxMembersWithDueLots},
	{"HoldRoundTrip", testLotTxHoldRoundTrip},
	{"ActiveHolds", testLotTxActiveHolds},
	{"IdempotencyEntryID", testLotTxIdempotencyEntryID},
}

// txCredit appends an adjust entry of points for m at the given time and the
// lot it credits, available and expiring as given (a zero expiry: never),
// the way the Service credits points. It returns the lot as written.
func (e *env) txCredit(tx loyalty.Tx, m loyalty.Member, points int64, at, available, expires time.Time) (loyalty.Lot, error) {
	a, err := tx.Account(e.ctx, m.ProgramID, m.ID)
	if err != nil {
		return loyalty.Lot{}, err
	}
	a.Balance += points
	a.Version++
	a.UpdatedAt = at
	en := loyalty.Entry{
		ProgramID: m.ProgramID, MemberID: m.ID, Kind: loyalty.EntryAdjust, Points: points, BalanceAfter: a.Balance, Version: a.Version, CreatedAt: at,
	}
	if err := tx.AppendEntry(e.ctx, &en); err != nil {
		return loyalty.Lot{}, err
	}
	l := loyalty.Lot{
		ProgramID: m.ProgramID, MemberID: m.ID, EntryID: en.ID, Points: points, Remaining: points,
		AvailableAt: available, ExpiresAt: expires, CreatedAt: at,
	}
	if err := tx.CreateLot(e.ctx, &l); err != nil {
		return loyalty.Lot{}, err
	}
	return l, tx.SaveAccount(e.ctx, a)
}

// txSpend appends a redeem entry for m that takes its points from lots as
// uses say, and returns it.
func (e *env) txSpend(tx loyalty.Tx, m loyalty.Member, uses ...loyalty.LotUse) (loyalty.Entry, error) {
	a, err := tx.Account(e.ctx, m.ProgramID, m.ID)
	if err != nil {
		return loyalty.Entry{}, err
	}
	var points int64
	for _, u := range uses {
		points += u.Points
	}
	a.Balance -= points
	a.Version++
	a.UpdatedAt = e.now()
	en := loyalty.Entry{
		ProgramID: m.ProgramID, MemberID: m.ID, Kind: loyalty.EntryRedeem, Points: -points, BalanceAfter: a.Balance, Version: a.Version,
		CreatedAt: e.now(), Uses: uses,
	}
	if err := tx.AppendEntry(e.ctx, &en); err != nil {
		return loyalty.Entry{}, err
	}
	return en, tx.SaveAccount(e.ctx, a)
}

// txLots returns the member's open lots, read in a View.
func (e *env) txLots(m loyalty.Member) []loyalty.Lot {
	e.t.Helper()
	var lots []loyalty.Lot
	e.view(func(tx loyalty.Tx) (err error) { lots, err = tx.OpenLots(e.ctx, m.ProgramID, m.ID); return err })
	return lots
}

// txLotIDs returns the ids of lots, in their order.
func txLotIDs(lots []loyalty.Lot) []int64 {
	var ids []int64
	for _, l := range lots {
		ids = append(ids, l.ID)
	}
	return ids
}

func testLotTxCreate(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	at := e.now()
	// Two lots in one transaction, then one of another member, then one
	// that came from a purchase. (fn may run more than once; the lots of
	// the attempt that committed count.)
	var written, attempt []loyalty.Lot
	add := func(l loyalty.Lot, err error) error {
		attempt = append(attempt, l)
		return err
	}
	update := func(fn func(tx loyalty.Tx) error) {
		e.t.Helper()
		e.update(func(tx loyalty.Tx) error { attempt = nil; return fn(tx) })
		written = append(written, attempt...)
	}
	update(func(tx loyalty.Tx) error {
		if err := add(e.txCredit(tx, m, 10, at, at, at.AddDate(1, 0, 0))); err != nil {
			return err
		}
		return add(e.txCredit(tx, m, 20, at, at.AddDate(0, 0, 14), time.Time{}))
	})
	update(func(tx loyalty.Tx) error { return add(e.txCredit(tx, other, 5, at, at, time.Time{})) })
	pur := loyalty.Purchase{ProgramID: p.ID, ID: "pur_1", MemberID: m.ID, TillID: "till", ReceiptID: "R-1", AmountMinor: 700,
		Currency: "EUR", Points: 7, CreatedAt: at}
	update(func(tx loyalty.Tx) error {
		if err := tx.CreatePurchase(ctx, pur); err != nil {
			return err
		}
		en, err := e.postEntry(tx, m, earnEntry(pur))
		if err != nil {
			return err
		}
		lots, err := tx.OpenLots(ctx, m.ProgramID, m.ID)
		for _, l := range lots {
			if l.EntryID == en.ID {
				attempt = append(attempt, l)
			}
		}
		return err
	})
	if len(written) != 4 {
		t.Fatalf("found %d lots written, want 4", len(written))
	}
	for i, l := range written {
		if l.ID <= 0 || (i > 0 && l.ID <= written[i-1].ID) {
			t.Fatalf("lot ids %v: want positive and increasing in the order written", txLotIDs(written))
		}
	}
	if l := written[3]; l.PurchaseID != pur.ID || l.Points != 7 || l.Remaining != 7 || !l.AvailableAt.Equal(at) || !l.ExpiresAt.IsZero() {
		t.Errorf("lot of the purchase = %+v, want 7 points of purchase %s, available now, never expiring", l, pur.ID)
	}
	// Every field comes back as written, in UTC, in both kinds of
	// transaction; never expiring is the zero time.
	want := []loyalty.Lot{written[0], written[1], written[3]}
	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			got, err := tx.OpenLots(ctx, m.ProgramID, m.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: OpenLots (-want +got):\n%s", name, diff)
			}
			for _, l := range got {
				for what, tm := range map[string]time.Time{"AvailableAt": l.AvailableAt, "ExpiresAt": l.ExpiresAt, "CreatedAt": l.CreatedAt} {
					if !tm.IsZero() && tm.Location() != time.UTC {
						t.Errorf("%s: lot %d: %s in %v, want UTC", name, l.ID, what, tm.Location())
					}
				}
			}
			return nil
		})
	}
	if diff := cmp.Diff([]loyalty.Lot{written[2]}, e.txLots(other)); diff != "" {
		t.Errorf("other member's lots (-want +got):\n%s", diff)
	}
	// Writing a lot inside View fails.
	if err := e.store.View(ctx, func(tx loyalty.Tx) error {
		l := written[2]
		return tx.CreateLot(ctx, &l)
	}); err == nil {
		t.Error("CreateLot inside View succeeded")
	}
}

func testLotTxOpenLotsOrder(t *testing.T, e *env) {
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	now := e.now()
	soon, later := now.Add(10*24*time.Hour), now.Add(30*24*time.Hour)
	never := time.Time{}
	lots := map[string]loyalty.Lot{}
	e.update(func(tx loyalty.Tx) error {
		for _, c := range []struct {
			name    string
			member  loyalty.Member
			expires time.Time
			avail   time.Time
		}{
			{"later-1", m, later, now},
			{"never-1", m, never, now},
			{"soon", m, soon, now},
			{"later-2", m, later, now},
			{"never-2", m, never, now},
			{"spent", m, now.Add(24 * time.Hour), now},
			{"due", m, now.Add(-time.Hour), now.Add(-48 * time.Hour)},
			{"pending", m, later.Add(time.Hour), now.Add(7 * 24 * time.Hour)},
			{"other", other, now.Add(time.Hour), now},
		} {
			l, err := e.txCredit(tx, c.member, 3, now, c.avail, c.expires)
			if err != nil {
				return err
			}
			lots[c.name] = l
		}
		return nil
	})
	// Spending a lot to nothing closes it; spending part of one does not.
	e.update(func(tx loyalty.Tx) error {
		_, err := e.txSpend(tx, m, loyalty.LotUse{LotID: lots["spent"].ID, Points: 3}, loyalty.LotUse{LotID: lots["later-2"].ID, Points: 1})
		return err
	})
	partly := lots["later-2"]
	partly.Remaining = 2
	lots["later-2"] = partly
	var want []loyalty.Lot
	for _, name := range []string{"due", "soon", "later-1", "later-2", "pending", "never-1", "never-2"} {
		want = append(want, lots[name])
	}
	if diff := cmp.Diff(want, e.txLots(m)); diff != "" {
		t.Errorf("OpenLots: soonest expiry first, never last, then by id; no spent lots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]loyalty.Lot{lots["other"]}, e.txLots(other)); diff != "" {
		t.Errorf("OpenLots of the other member (-want +got):\n%s", diff)
	}
	if got := e.txLots(loyalty.Member{ProgramID: p.ID, ID: "nobody"}); len(got) != 0 {
		t.Errorf("OpenLots of an unknown member = %+v, want none", got)
	}
}

func testLotTxAppendEntryUses(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	now := e.now()
	var a, b, o loyalty.Lot
	e.update(func(tx loyalty.Tx) (err error) {
		if a, err = e.txCredit(tx, m, 10, now, now, time.Time{}); err != nil {
			return err
		}
		if b, err = e.txCredit(tx, m, 5, now, now, time.Time{}); err != nil {
			return err
		}
		o, err = e.txCredit(tx, other, 50, now, now, time.Time{})
		return err
	})
	var spent loyalty.Entry
	e.update(func(tx loyalty.Tx) (err error) {
		spent, err = e.txSpend(tx, m, loyalty.LotUse{LotID: a.ID, Points: 10}, loyalty.LotUse{LotID: b.ID, Points: 2})
		return err
	})
	if spent.ID <= 0 {
		t.Fatalf("AppendEntry with uses set ID %d", spent.ID)
	}
	b.Remaining = 3
	if diff := cmp.Diff([]loyalty.Lot{b}, e.txLots(m)); diff != "" {
		t.Errorf("lots after taking 10 of 10 and 2 of 5 (-want +got):\n%s", diff)
	}

	// A use that takes more than is left, or from a lot of another member
	// or none, fails, and the transaction writes nothing.
	type snapshot struct {
		Account loyalty.Account
		Entries []loyalty.Entry
		Lots    []loyalty.Lot
		Other   []loyalty.Lot
	}
	snap := func() snapshot {
		var s snapshot
		e.view(func(tx loyalty.Tx) (err error) {
			if s.Account, err = tx.Account(ctx, m.ProgramID, m.ID); err != nil {
				return err
			}
			if s.Entries, err = tx.Entries(ctx, m.ProgramID, m.ID, 0, maxRead); err != nil {
				return err
			}
			if s.Lots, err = tx.OpenLots(ctx, m.ProgramID, m.ID); err != nil {
				return err
			}
			s.Other, err = tx.OpenLots(ctx, other.ProgramID, other.ID)
			return err
		})
		return s
	}
	before := snap()
	for name, uses := range map[string][]loyalty.LotUse{
		"more than left":     {{LotID: b.ID, Points: 4}},
		"same lot twice":     {{LotID: b.ID, Points: 3}, {LotID: b.ID, Points: 1}},
		"spent lot":          {{LotID: a.ID, Points: 1}},
		"other member's lot": {{LotID: o.ID, Points: 1}},
		"no such lot":        {{LotID: o.ID + 1000, Points: 1}},
	} {
		err := e.store.Update(ctx, func(tx loyalty.Tx) error {
			_, err := e.txSpend(tx, m, uses...)
			return err
		})
		if err == nil {
			t.Errorf("%s: AppendEntry with uses %+v succeeded", name, uses)
		}
		if diff := cmp.Diff(before, snap()); diff != "" {
			t.Errorf("%s: the failed transaction changed the store (-before +after):\n%s", name, diff)
		}
	}

	// Taking exactly what is left closes the lot.
	e.update(func(tx loyalty.Tx) error {
		_, err := e.txSpend(tx, m, loyalty.LotUse{LotID: b.ID, Points: 3})
		return err
	})
	if got := e.txLots(m); len(got) != 0 {
		t.Errorf("lots after spending everything = %+v, want none", got)
	}
	if got := e.txLots(other); len(got) != 1 || got[0].Remaining != 50 {
		t.Errorf("other member's lots = %+v, want one with 50 points untouched", got)
	}
}

func testLotTxMembersWithDueLots(t *testing.T, e *env) {
	ctx := e.ctx
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	now := e.now()
	type member struct {
		m       loyalty.Member
		expires []time.Time
		spend   bool // spend the first lot to nothing
	}
	members := []member{
		{m: e.createMember(a.ID, 1), expires: []time.Time{now.Add(-time.Hour), now.Add(-48 * time.Hour)}},     // due twice
		{m: e.createMember(a.ID, 2), expires: []time.Time{now}},                                               // due exactly now
		{m: e.createMember(a.ID, 3), expires: []time.Time{now.Add(time.Microsecond)}},                         // due later
		{m: e.createMember(a.ID, 4), expires: []time.Time{now.Add(-time.Hour)}, spend: true},                  // due but spent
		{m: e.createMember(a.ID, 5), expires: []time.Time{{}}},                                                // never
		{m: e.createMember(b.ID, 6), expires: []time.Time{now.Add(-24 * time.Hour), now.Add(24 * time.Hour)}}, // other program
		{m: e.createMember(a.ID, 7)}, // no lots
	}
	for _, mb := range members {
		e.update(func(tx loyalty.Tx) error {
			for i, exp := range mb.expires {
				avail := now.Add(-72 * time.Hour)
				l, err := e.txCredit(tx, mb.m, 4, avail, avail, exp)
				if err != nil {
					return err
				}
				if mb.spend && i == 0 {
					if _, err := e.txSpend(tx, mb.m, loyalty.LotUse{LotID: l.ID, Points: 4}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	key := func(m loyalty.Member) loyalty.MemberKey {
		return loyalty.MemberKey{ProgramID: m.ProgramID, MemberID: m.ID}
	}
	due := []loyalty.MemberKey{key(members[0].m), key(members[1].m), key(members[5].m)}
	sortKeys := func(ks []loyalty.MemberKey) {
		slices.SortFunc(ks, func(x, y loyalty.MemberKey) int {
			return strings.Compare(x.ProgramID+"/"+x.MemberID, y.ProgramID+"/"+y.MemberID)
		})
	}
	sortKeys(due)
	dueAt := func(at time.Time, limit int) []loyalty.MemberKey {
		var ks []loyalty.MemberKey
		e.view(func(tx loyalty.Tx) (err error) { ks, err = tx.MembersWithDueLots(ctx, at, limit); return err })
		return ks
	}
	got := dueAt(now, 100)
	sortKeys(got)
	if diff := cmp.Diff(due, got); diff != "" {
		t.Errorf("MembersWithDueLots(now, 100) (-want +got):\n%s", diff)
	}
	for limit := 1; limit <= 3; limit++ {
		got := dueAt(now, limit)
		if len(got) != limit {
			t.Errorf("MembersWithDueLots(now, %d) = %v, want %d members", limit, got, limit)
		}
		seen := map[loyalty.MemberKey]bool{}
		for _, k := range got {
			if seen[k] || !slices.Contains(due, k) {
				t.Errorf("MembersWithDueLots(now, %d) = %v: %v is repeated or not due", limit, got, k)
			}
			seen[k] = true
		}
	}
	if got := dueAt(now.Add(-100*time.Hour), 100); len(got) != 0 {
		t.Errorf("MembersWithDueLots before anything was due = %v, want none", got)
	}
	// A microsecond later, the third member is due too; inside Update as
	// well.
	e.update(func(tx loyalty.Tx) error {
		got, err := tx.MembersWithDueLots(ctx, now.Add(time.Microsecond), 100)
		if err == nil && (len(got) != 4 || !slices.Contains(got, key(members[2].m))) {
			t.Errorf("MembersWithDueLots(now+1µs) = %v, want the 3 due members and %v", got, key(members[2].m))
		}
		return err
	})
}

// txHold returns an active hold of m with the given id, created now.
func (e *env) txHold(m loyalty.Member, id string, points int64, ttl time.Duration) loyalty.Hold {
	return loyalty.Hold{
		ProgramID: m.ProgramID, ID: id, MemberID: m.ID, TillID: "till-" + m.ProgramID, Points: points,
		Status: loyalty.HoldActive, CreatedAt: e.now(), ExpiresAt: e.now().Add(ttl),
	}
}

func testLotTxHoldRoundTrip(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	captured, released := e.txHold(m, "hold_1", 60, 10*time.Minute), e.txHold(m, "hold_2", 1, loyalty.MaxHoldTTL)
	e.update(func(tx loyalty.Tx) error {
		if err := tx.CreateHold(ctx, captured); err != nil {
			return err
		}
		return tx.CreateHold(ctx, released)
	})
	read := func(name string, want loyalty.Hold) {
		t.Helper()
		for kind, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
			run(func(tx loyalty.Tx) error {
				got, err := tx.Hold(ctx, want.ProgramID, want.ID)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, read in %s (-want +got):\n%s", name, kind, diff)
				}
				if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
					t.Errorf("%s: times in %v and %v, want UTC", name, got.CreatedAt.Location(), got.ExpiresAt.Location())
				}
				return nil
			})
		}
	}
	read("active hold", captured)
	read("active hold", released)

	e.clock.Advance(3 * time.Minute)
	captured.Status, captured.Captured, captured.ClosedAt = loyalty.HoldCaptured, 45, e.now()
	released.Status, released.ClosedAt = loyalty.HoldReleased, e.now().Add(time.Microsecond)
	e.update(func(tx loyalty.Tx) error {
		if err := tx.SaveHold(ctx, captured); err != nil {
			return err
		}
		return tx.SaveHold(ctx, released)
	})
	read("captured hold", captured)
	read("released hold", released)

	// Unknown holds, and holds of another program, are not found.
	for _, run := range []func(fn func(loyalty.Tx) error) error{
		func(fn func(loyalty.Tx) error) error { return e.store.View(ctx, fn) },
		func(fn func(loyalty.Tx) error) error { return e.store.Update(ctx, fn) },
	} {
		wantErr(t, run(func(tx loyalty.Tx) error { _, err := tx.Hold(ctx, p.ID, "nope"); return err }), loyalty.ErrNotFound)
		wantErr(t, run(func(tx loyalty.Tx) error { _, err := tx.Hold(ctx, "cafe-b", captured.ID); return err }), loyalty.ErrNotFound)
	}
	missing := e.txHold(m, "nope", 1, time.Minute)
	missing.Status, missing.ClosedAt = loyalty.HoldReleased, e.now()
	wantErr(t, e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.SaveHold(ctx, missing) }), loyalty.ErrNotFound)
	// An id is taken once per program; writes inside View fail.
	if err := e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.CreateHold(ctx, e.txHold(m, captured.ID, 5, time.Minute)) }); err == nil {
		t.Error("CreateHold twice with one id succeeded")
	}
	if err := e.store.View(ctx, func(tx loyalty.Tx) error { return tx.CreateHold(ctx, e.txHold(m, "hold_3", 5, time.Minute)) }); err == nil {
		t.Error("CreateHold inside View succeeded")
	}
	read("captured hold after a refused CreateHold", captured)
}

func testLotTxActiveHolds(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	now := e.now()
	active := func(h loyalty.Hold, expires time.Time) loyalty.Hold {
		h.CreatedAt, h.ExpiresAt = now.Add(-time.Hour), expires
		return h
	}
	closed := func(h loyalty.Hold, status loyalty.HoldStatus) loyalty.Hold {
		h.Status, h.ClosedAt = status, now
		if status == loyalty.HoldCaptured {
			h.Captured = h.Points
		}
		return h
	}
	holds := []loyalty.Hold{
		e.txHold(m, "h-active", 10, 10*time.Minute),
		active(e.txHold(m, "h-expired", 20, time.Minute), now.Add(-time.Microsecond)),
		active(e.txHold(m, "h-expires-now", 30, time.Minute), now),
		closed(e.txHold(m, "h-captured", 40, time.Minute), loyalty.HoldCaptured),
		closed(e.txHold(m, "h-released", 50, time.Minute), loyalty.HoldReleased),
		e.txHold(other, "h-other", 60, time.Minute),
		active(e.txHold(m, "h-just", 70, time.Minute), now.Add(time.Microsecond)),
	}
	e.update(func(tx loyalty.Tx) error {
		for _, h := range holds {
			if err := tx.CreateHold(ctx, h); err != nil {
				return fmt.Errorf("CreateHold(%s): %w", h.ID, err)
			}
		}
		return nil
	})
	byID := func(hs []loyalty.Hold) []loyalty.Hold {
		hs = slices.Clone(hs)
		slices.SortFunc(hs, func(a, b loyalty.Hold) int { return strings.Compare(a.ID, b.ID) })
		return hs
	}
	check := func(at time.Time, member loyalty.Member, want ...loyalty.Hold) {
		t.Helper()
		for kind, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
			run(func(tx loyalty.Tx) error {
				got, err := tx.ActiveHolds(ctx, member.ProgramID, member.ID, at)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(byID(want), byID(got), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("ActiveHolds(%s, %v) in %s (-want +got):\n%s", member.ID, at, kind, diff)
				}
				return nil
			})
		}
	}
	check(now, m, holds[0], holds[6])
	check(now, other, holds[5])
	check(now.Add(-time.Minute), m, holds[0], holds[1], holds[2], holds[6])
	check(now.Add(10*time.Minute), m)
	check(now, loyalty.Member{ProgramID: p.ID, ID: "nobody"})
}

func testLotTxIdempotencyEntryID(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	var entry loyalty.Entry
	withEntry := loyalty.IdempotencyRecord{ProgramID: p.ID, Caller: "till:t", Key: "with-entry", Fingerprint: sha256.Sum256([]byte("a")),
		Result: []byte(`{"entry_id":1}`), CreatedAt: e.now()}
	without := loyalty.IdempotencyRecord{ProgramID: p.ID, Caller: "till:t", Key: "without", Fingerprint: sha256.Sum256([]byte("b")),
		Result: []byte(`{}`), CreatedAt: e.now()}
	e.update(func(tx loyalty.Tx) (err error) {
		if entry, err = e.post(tx, m, 5, e.now()); err != nil {
			return err
		}
		withEntry.EntryID = entry.ID
		if err := tx.PutIdempotencyRecord(ctx, withEntry); err != nil {
			return err
		}
		return tx.PutIdempotencyRecord(ctx, without)
	})
	for kind, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			for _, want := range []loyalty.IdempotencyRecord{withEntry, without} {
				got, err := tx.IdempotencyRecord(ctx, want.ProgramID, want.Caller, want.Key)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: record %s (-want +got):\n%s", kind, want.Key, diff)
				}
			}
			return nil
		})
	}
	if got := errors.Is(e.store.View(ctx, func(tx loyalty.Tx) error {
		_, err := tx.IdempotencyRecord(ctx, p.ID, "till:other", withEntry.Key)
		return err
	}), loyalty.ErrNotFound); !got {
		t.Error("another caller's key was found")
	}
}
