package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
)

// gameStateTests check the Tx primitives of gamification: game states,
// referral codes, grants, the purchases and members the rules read, and
// operators.
var gameStateTests = []test{
	{"RoundTrip", testGameStateRoundTrip},
	{"ReferralCode", testGameStateReferralCode},
	{"CreateGrant", testGameStateCreateGrant},
	{"PurchasesSince", testGameStatePurchasesSince},
	{"MembersPaging", testGameStateMembersPaging},
	{"Operator", testGameStateOperator},
}

// readGameState returns the member's game state, read in a View.
func (e *env) readGameState(m loyalty.Member) loyalty.GameState {
	e.t.Helper()
	var s loyalty.GameState
	e.view(func(tx loyalty.Tx) (err error) { s, err = tx.GameState(e.ctx, m.ProgramID, m.ID); return err })
	return s
}

// saveGameState writes s in a transaction of its own and returns its error.
func (e *env) saveGameState(s loyalty.GameState) error {
	return e.store.Update(e.ctx, func(tx loyalty.Tx) error { return tx.SaveGameState(e.ctx, s) })
}

func testGameStateRoundTrip(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	now := e.now()

	// A member without a saved state has the zero state, with its keys.
	zero := loyalty.GameState{ProgramID: p.ID, MemberID: m.ID}
	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			got, err := tx.GameState(ctx, p.ID, m.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(zero, got); diff != "" {
				t.Errorf("%s: GameState of a new member (-want +got):\n%s", name, diff)
			}
			return nil
		})
	}

	// Every field comes back as written.
	s := loyalty.GameState{
		ProgramID: p.ID, MemberID: m.ID,
		Tier:     gamification.TierState{ID: "gold", Since: now.Add(-48 * time.Hour), Until: now.AddDate(1, 0, 0)},
		Segments: []string{"students", "regulars"},
		Birthday: time.Date(1990, 3, 14, 0, 0, 0, 0, time.UTC),
		Challenges: map[string]gamification.ChallengeState{
			"three-visits": {ActivatedAt: now.Add(-time.Hour), Completions: 2, LastCompletedAt: now},
			"weekend":      {Completions: 1, LastCompletedAt: now.Add(-24 * time.Hour)},
		},
		Stamps: map[string]int64{"coffee": 13, "cake": 2},
		Progress: []gamification.Progress{
			{ID: "three-visits", Current: 2, Target: 3, Text: gamification.Text{DE: "2 von 3 Besuchen", EN: "2 of 3 visits"}},
			{ID: "coffee", Current: 3, Target: 10, Text: gamification.Text{DE: "3 von 10 Stempeln"}},
		},
		ReferredBy: other.ID, ReferralSettled: true, ReferralsRewarded: 4,
		ReferralCode: "ANNA-7Q2",
	}
	e.update(func(tx loyalty.Tx) error { return tx.SaveGameState(ctx, s) })
	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			got, err := tx.GameState(ctx, p.ID, m.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("%s: GameState round trip (-want +got):\n%s", name, diff)
			}
			return nil
		})
	}
	if diff := cmp.Diff(loyalty.GameState{ProgramID: p.ID, MemberID: other.ID}, e.readGameState(other)); diff != "" {
		t.Errorf("other member's GameState (-want +got):\n%s", diff)
	}

	// Saving again replaces the whole state: what the new one leaves out is
	// gone, the referral code too.
	s2 := loyalty.GameState{
		ProgramID: p.ID, MemberID: m.ID,
		Tier:   gamification.TierState{ID: "silver", Since: now},
		Stamps: map[string]int64{"coffee": 1},
	}
	e.update(func(tx loyalty.Tx) error { return tx.SaveGameState(ctx, s2) })
	if diff := cmp.Diff(s2, e.readGameState(m)); diff != "" {
		t.Errorf("GameState after replace (-want +got):\n%s", diff)
	}
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.MemberByReferralCode(ctx, p.ID, s.ReferralCode)
		wantErr(t, err, loyalty.ErrNotFound)
		if err == nil {
			t.Errorf("replaced state's old referral code: member %s, want none", got.ID)
		}
		return nil
	})
}

func testGameStateReferralCode(t *testing.T, e *env) {
	ctx := e.ctx
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	m1, m2, m3 := e.createMember(a.ID, 1), e.createMember(a.ID, 2), e.createMember(a.ID, 3)
	mb := e.createMember(b.ID, 4)
	const code = "ANNA-7Q2"
	e.must(e.saveGameState(loyalty.GameState{ProgramID: a.ID, MemberID: m1.ID, ReferralCode: code, Stamps: map[string]int64{"coffee": 1}}))
	// Members without a code do not collide with each other.
	e.must(e.saveGameState(loyalty.GameState{ProgramID: a.ID, MemberID: m2.ID, ReferredBy: m1.ID}))
	e.must(e.saveGameState(loyalty.GameState{ProgramID: a.ID, MemberID: m3.ID, ReferredBy: m1.ID}))
	// Another program's member may have the same code.
	e.must(e.saveGameState(loyalty.GameState{ProgramID: b.ID, MemberID: mb.ID, ReferralCode: code}))
	// The code's owner may save its state with its code again.
	e.must(e.saveGameState(loyalty.GameState{ProgramID: a.ID, MemberID: m1.ID, ReferralCode: code, Stamps: map[string]int64{"coffee": 2}}))

	// Another member of the program may not take the code.
	wantErr(t, e.saveGameState(loyalty.GameState{ProgramID: a.ID, MemberID: m2.ID, ReferralCode: code}), loyalty.ErrConflict)
	if diff := cmp.Diff(loyalty.GameState{ProgramID: a.ID, MemberID: m2.ID, ReferredBy: m1.ID}, e.readGameState(m2)); diff != "" {
		t.Errorf("GameState after a refused code (-want +got):\n%s", diff)
	}
	if got := e.readGameState(m1); got.ReferralCode != code || got.Stamps["coffee"] != 2 {
		t.Errorf("owner's GameState = %+v, want code %s and 2 coffee stamps", got, code)
	}

	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			for _, c := range []struct {
				program, code string
				want          loyalty.Member // zero: none
			}{
				{a.ID, code, m1},
				{b.ID, code, mb},
				{a.ID, "NOPE-0000", loyalty.Member{}},
				{a.ID, "anna-7q2", loyalty.Member{}},
				{a.ID, "", loyalty.Member{}},
				{"cafe-c", code, loyalty.Member{}},
			} {
				got, err := tx.MemberByReferralCode(ctx, c.program, c.code)
				switch {
				case c.want.ID == "":
					if err == nil {
						t.Errorf("%s: MemberByReferralCode(%q, %q) = member %s, want ErrNotFound", name, c.program, c.code, got.ID)
					} else {
						wantErr(t, err, loyalty.ErrNotFound)
					}
				case err != nil:
					t.Errorf("%s: MemberByReferralCode(%q, %q): %v", name, c.program, c.code, err)
				default:
					if diff := cmp.Diff(c.want, got); diff != "" {
						t.Errorf("%s: MemberByReferralCode(%q, %q) (-want +got):\n%s", name, c.program, c.code, diff)
					}
				}
			}
			return nil
		})
	}
}

func testGameStateCreateGrant(t *testing.T, e *env) {
	ctx := e.ctx
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	m1, m2 := e.createMember(a.ID, 1), e.createMember(a.ID, 2)
	mb := e.createMember(b.ID, 3)
	grant := func(m loyalty.Member, key string) loyalty.GrantRecord {
		return loyalty.GrantRecord{ProgramID: m.ProgramID, MemberID: m.ID, Key: key, CreatedAt: e.now()}
	}
	// create runs CreateGrant for each grant in one transaction and returns
	// what each returned.
	create := func(gs ...loyalty.GrantRecord) []bool {
		t.Helper()
		var got []bool
		e.update(func(tx loyalty.Tx) error {
			got = nil
			for _, g := range gs {
				ok, err := tx.CreateGrant(ctx, g)
				if err != nil {
					return fmt.Errorf("CreateGrant(%s, %q): %w", g.MemberID, g.Key, err)
				}
				got = append(got, ok)
			}
			return nil
		})
		return got
	}
	check := func(what string, got, want []bool) {
		t.Helper()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: CreateGrant results (-want +got):\n%s", what, diff)
		}
	}
	check("first", create(grant(m1, "welcome")), []bool{true})
	// A grant that exists is reported, and the transaction goes on: the
	// grant after it is written and committed.
	check("again", create(grant(m1, "welcome"), grant(m1, "challenge:three-visits:1"), grant(m1, "welcome")), []bool{false, true, false})
	check("after commit", create(grant(m1, "challenge:three-visits:1")), []bool{false})
	// Keys are per member.
	check("other members", create(grant(m2, "welcome"), grant(mb, "welcome"), grant(m2, "challenge:three-visits:1")), []bool{true, true, true})
	check("all again", create(grant(m1, "welcome"), grant(m2, "welcome"), grant(mb, "welcome"), grant(mb, "challenge:three-visits:1")),
		[]bool{false, false, false, true})
}

func testGameStatePurchasesSince(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	t0 := e.now()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	var purs []loyalty.Purchase
	for i := range 5 {
		purs = append(purs, loyalty.Purchase{
			ProgramID: p.ID, ID: fmt.Sprintf("pur_%d", i), MemberID: m.ID, TillID: "till-1", ReceiptID: fmt.Sprintf("R-%d", i),
			AmountMinor: int64(100 * (i + 1)), Currency: "EUR", Points: int64(i + 1), CreatedAt: at(i),
		})
	}
	purs[1].Lines = []loyalty.LineItem{{SKU: "kaffee-gross", Name: "Kaffee groß", Category: "Getränke", Quantity: 1, AmountMinor: 150}, {SKU: "keks", Quantity: 1, AmountMinor: 50}}
	purs[3].Lines = []loyalty.LineItem{{SKU: "torte", Quantity: 2, AmountMinor: 400}}
	purs[3].ReturnedMinor, purs[3].ReversedPoints = 200, 2
	// Written out of order, each with its earn entry; the other member's
	// purchase lies among them.
	otherPur := loyalty.Purchase{ProgramID: p.ID, ID: "pur_other", MemberID: other.ID, TillID: "till-1", AmountMinor: 900,
		Currency: "EUR", Points: 9, CreatedAt: at(2)}
	e.update(func(tx loyalty.Tx) error {
		for _, pur := range []loyalty.Purchase{purs[3], purs[0], otherPur, purs[4], purs[2], purs[1]} {
			if err := tx.CreatePurchase(ctx, pur); err != nil {
				return err
			}
			owner := m
			if pur.MemberID == other.ID {
				owner = other
			}
			if _, err := e.postEntry(tx, owner, earnEntry(pur)); err != nil {
				return err
			}
		}
		return nil
	})
	cest := time.FixedZone("CEST", 2*60*60)
	for _, c := range []struct {
		name  string
		since time.Time
		limit int
		want  []loyalty.Purchase
	}{
		{"all since the first", at(0), 10, purs},
		{"exactly as many as the limit", at(0), 5, purs},
		{"since is inclusive", at(1), 10, purs[1:]},
		{"since is inclusive, in another zone", at(1).In(cest), 10, purs[1:]},
		{"a microsecond later", at(1).Add(time.Microsecond), 10, purs[2:]},
		{"the limit keeps the newest", at(0), 2, purs[3:]},
		{"the limit keeps the newest since", at(1), 3, purs[2:]},
		{"a limit of one", at(0), 1, purs[4:]},
		{"after the last", at(4).Add(time.Microsecond), 10, nil},
	} {
		for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
			run(func(tx loyalty.Tx) error {
				got, err := tx.PurchasesSince(ctx, p.ID, m.ID, c.since, c.limit)
				if err != nil {
					return err
				}
				if len(got) == 0 && len(c.want) == 0 {
					return nil
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("%s: %s: PurchasesSince(%v, %d) (-want +got):\n%s", name, c.name, c.since, c.limit, diff)
				}
				return nil
			})
		}
	}
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.PurchasesSince(ctx, p.ID, other.ID, at(0), 10)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]loyalty.Purchase{otherPur}, got); diff != "" {
			t.Errorf("other member's PurchasesSince (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testGameStateMembersPaging(t *testing.T, e *env) {
	ctx := e.ctx
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	// Created out of the order of their ids; another program's member sorts
	// among them by id alone.
	byI := map[int]loyalty.Member{}
	for _, i := range []int{3, 1, 5, 2, 4} {
		byI[i] = e.createMember(a.ID, i)
	}
	mb := e.createMember(b.ID, 6)
	all := []loyalty.Member{byI[1], byI[2], byI[3], byI[4], byI[5]}
	members := func(tx loyalty.Tx, program, after string, limit int) []loyalty.Member {
		t.Helper()
		ms, err := tx.Members(ctx, program, after, limit)
		if err != nil {
			t.Errorf("Members(%q, %q, %d): %v", program, after, limit, err)
		}
		return ms
	}
	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			for _, c := range []struct {
				program, after string
				limit          int
				want           []loyalty.Member
			}{
				{a.ID, "", 10, all},
				{a.ID, "", 5, all},
				{a.ID, "", 2, all[:2]},
				{a.ID, all[1].ID, 2, all[2:4]},
				{a.ID, all[3].ID, 2, all[4:]},
				{a.ID, all[1].ID + "x", 10, all[2:]},
				{a.ID, all[4].ID, 10, nil},
				{b.ID, "", 10, []loyalty.Member{mb}},
				{b.ID, mb.ID, 10, nil},
				{"cafe-c", "", 10, nil},
			} {
				got := members(tx, c.program, c.after, c.limit)
				if len(got) == 0 && len(c.want) == 0 {
					continue
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("%s: Members(%q, %q, %d) (-want +got):\n%s", name, c.program, c.after, c.limit, diff)
				}
			}
			// Paging through by the last id returns each member once.
			var paged []loyalty.Member
			after := ""
			for range len(all) + 1 {
				page := members(tx, a.ID, after, 2)
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				after = page[len(page)-1].ID
			}
			if diff := cmp.Diff(all, paged); diff != "" {
				t.Errorf("%s: paging by 2 (-want +got):\n%s", name, diff)
			}
			return nil
		})
	}
}

func testGameStateOperator(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	op := loyalty.Operator{ID: "op-1", ProgramID: p.ID, Name: "Inhaberin", KeyHash: loyalty.HashAPIKey("key-of-operator-1")}
	till := loyalty.Till{ID: "till-1", ProgramID: p.ID, Name: "Kasse", KeyHash: loyalty.HashAPIKey("key-of-till-1")}
	e.update(func(tx loyalty.Tx) error {
		if err := tx.PutTill(ctx, till); err != nil {
			return err
		}
		return tx.PutOperator(ctx, op)
	})
	notFound := func(name string, tx loyalty.Tx, h []byte, what string) {
		t.Helper()
		got, err := tx.OperatorByKeyHash(ctx, h)
		if err == nil {
			t.Errorf("%s: OperatorByKeyHash(%s) = operator %s, want ErrNotFound", name, what, got.ID)
			return
		}
		wantErr(t, err, loyalty.ErrNotFound)
	}
	for name, run := range map[string]func(func(loyalty.Tx) error){"Update": e.update, "View": e.view} {
		run(func(tx loyalty.Tx) error {
			got, err := tx.OperatorByKeyHash(ctx, op.KeyHash)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(op, got); diff != "" {
				t.Errorf("%s: Operator round trip (-want +got):\n%s", name, diff)
			}
			notFound(name, tx, loyalty.HashAPIKey("nope"), "an unknown key")
			notFound(name, tx, till.KeyHash, "a till's key")
			return nil
		})
	}

	// Another operator may not have the same key.
	dup := loyalty.Operator{ID: "op-2", ProgramID: p.ID, Name: "Filiale", KeyHash: op.KeyHash}
	wantErr(t, e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.PutOperator(ctx, dup) }), loyalty.ErrConflict)

	// Putting again replaces the operator: its old key is gone.
	old := op.KeyHash
	op.Name, op.KeyHash = "Inhaber", loyalty.HashAPIKey("new-key-of-operator-1")
	e.update(func(tx loyalty.Tx) error { return tx.PutOperator(ctx, op) })
	e.view(func(tx loyalty.Tx) error {
		notFound("after replace", tx, old, "the replaced key")
		got, err := tx.OperatorByKeyHash(ctx, op.KeyHash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(op, got); diff != "" {
			t.Errorf("Operator after replace (-want +got):\n%s", diff)
		}
		return nil
	})
}
