package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

var serviceTests = []test{
	{"ApplySeed", testApplySeed},
	{"AuthenticateTill", testAuthenticateTill},
	{"Enroll", testEnroll},
	{"LookupMember", testLookupMember},
	{"Earn", testEarn},
	{"EarnReplay", testEarnReplay},
	{"EarnRefused", testEarnRefused},
	{"Rewards", testRewards},
	{"RedeemReward", testRedeemReward},
	{"RedeemRewardStock", testRedeemRewardStock},
	{"RedeemVoucher", testRedeemVoucher},
	{"ReverseFull", testReverseFull},
	{"ReversePartial", testReversePartial},
	{"ReverseBeyondLeft", testReverseBeyondLeft},
	{"ReverseSpentPoints", testReverseSpentPoints},
	{"ReverseByReceipt", testReverseByReceipt},
	{"ReverseReplay", testReverseReplay},
	{"Activity", testActivity},
}

func testApplySeed(t *testing.T, e *env) {
	ctx := e.ctx
	// A malformed seed writes nothing.
	bad := DemoSeed("cafe-a")
	bad.Rewards[1].Cost = 0
	wantErr(t, e.svc.ApplySeed(ctx, bad), loyalty.ErrInvalid)
	bad = DemoSeed("cafe-a")
	bad.Program.Currency = "euro"
	wantErr(t, e.svc.ApplySeed(ctx, bad), loyalty.ErrInvalid)
	bad = DemoSeed("cafe-a")
	bad.Tills[0].Key = "short"
	wantErr(t, e.svc.ApplySeed(ctx, bad), loyalty.ErrInvalid)
	wantErr(t, e.store.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Program(ctx, "cafe-a"); return err }), loyalty.ErrNotFound)

	// Applying a seed twice leaves it as written once.
	seed := DemoSeed("cafe-a")
	e.must(e.svc.ApplySeed(ctx, seed))
	e.must(e.svc.ApplySeed(ctx, DemoSeed("cafe-a")))
	e.view(func(tx loyalty.Tx) error {
		p, err := tx.Program(ctx, "cafe-a")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(seed.Program, p); diff != "" {
			t.Errorf("program (-seed +stored):\n%s", diff)
		}
		rewards, err := tx.Rewards(ctx, "cafe-a")
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range rewards {
			if r.ProgramID != "cafe-a" {
				t.Errorf("reward %s has program %q", r.ID, r.ProgramID)
			}
			ids = append(ids, r.ID)
		}
		if want := []string{"alt", "keks", "kaffee", "kuchen", "backkurs"}; !cmp.Equal(want, ids) {
			t.Errorf("rewards = %v, want %v (cheapest first)", ids, want)
		}
		return nil
	})
}

func testAuthenticateTill(t *testing.T, e *env) {
	ctx := e.ctx
	e.seed("cafe-a")
	e.seed("cafe-b")
	for _, c := range []struct {
		key     string
		program string
	}{{TillKey("cafe-a"), "cafe-a"}, {TillKey("cafe-b"), "cafe-b"}} {
		till, err := e.svc.AuthenticateTill(ctx, c.key)
		e.must(err)
		want := loyalty.Till{ID: "till-" + c.program, ProgramID: c.program, Name: "Kasse 1", KeyHash: loyalty.HashAPIKey(c.key)}
		if diff := cmp.Diff(want, till); diff != "" {
			t.Errorf("AuthenticateTill (-want +got):\n%s", diff)
		}
	}
	for _, key := range []string{"", "wrong-key-wrong-key", TillKey("cafe-a") + " ", strings.ToUpper(TillKey("cafe-a")), strings.Repeat("k", 300)} {
		_, err := e.svc.AuthenticateTill(ctx, key)
		wantErr(t, err, loyalty.ErrUnauthenticated)
	}
}

func testEnroll(t *testing.T, e *env) {
	ctx := e.ctx
	e.seed("cafe-a")
	e.seed("cafe-b")
	c := loyalty.Customer{ProgramID: "cafe-a", UID: "firebase-uid-1"}
	_, err := e.svc.Card(ctx, c)
	wantErr(t, err, loyalty.ErrNotEnrolled)

	card, created, err := e.svc.Enroll(ctx, c, loyalty.LocaleEN)
	e.must(err)
	if !created {
		t.Error("first Enroll: created = false")
	}
	if n, err := loyalty.NormalizeCardNumber(card.Member.CardNumber); err != nil || n != card.Member.CardNumber {
		t.Errorf("card number %q is not a valid normalized card number: %q, %v", card.Member.CardNumber, n, err)
	}
	wantMember := loyalty.Member{ProgramID: "cafe-a", ID: card.Member.ID, FirebaseUID: c.UID, CardNumber: card.Member.CardNumber,
		Locale: loyalty.LocaleEN, CreatedAt: e.now()}
	want := loyalty.Card{
		Program: DemoSeed("cafe-a").Program,
		Member:  wantMember,
		Account: loyalty.Account{ProgramID: "cafe-a", MemberID: card.Member.ID, Balance: 0, Version: 0, UpdatedAt: e.now()},
		Game:    loyalty.GameState{ProgramID: "cafe-a", MemberID: card.Member.ID},
	}
	if diff := cmp.Diff(want, card); diff != "" {
		t.Errorf("Enroll (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(card.Member.ID, "m_") {
		t.Errorf("member id %q, want the m_ prefix", card.Member.ID)
	}

	// Enrolling again returns the same card and creates nothing.
	e.clock.Advance(time.Hour)
	again, created, err := e.svc.Enroll(ctx, c, loyalty.LocaleDE)
	e.must(err)
	if created {
		t.Error("second Enroll: created = true")
	}
	if diff := cmp.Diff(card, again); diff != "" {
		t.Errorf("second Enroll (-first +second):\n%s", diff)
	}
	got, err := e.svc.Card(ctx, c)
	e.must(err)
	if diff := cmp.Diff(card, got); diff != "" {
		t.Errorf("Card (-enrolled +got):\n%s", diff)
	}

	// The same user in another program is another member with another card.
	other, created, err := e.svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-b", UID: c.UID}, "")
	e.must(err)
	if !created || other.Member.ID == card.Member.ID || other.Member.CardNumber == card.Member.CardNumber || other.Member.Locale != loyalty.DefaultLocale {
		t.Errorf("Enroll in a second program = %+v, created %v; want a new member with its own card and the default locale", other.Member, created)
	}

	_, _, err = e.svc.Enroll(ctx, loyalty.Customer{ProgramID: "no-such-program", UID: c.UID}, "")
	wantErr(t, err, loyalty.ErrNotFound)
	_, _, err = e.svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: ""}, "")
	wantErr(t, err, loyalty.ErrInvalid)
	_, _, err = e.svc.Enroll(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: strings.Repeat("u", 129)}, "")
	wantErr(t, err, loyalty.ErrInvalid)
	e.view(func(tx loyalty.Tx) error {
		_, err := tx.MemberByUID(ctx, "no-such-program", c.UID)
		if !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("a failed Enroll wrote a member: %v", err)
		}
		return nil
	})
}

func testLookupMember(t *testing.T, e *env) {
	ctx := e.ctx
	tillA, tillB := e.seed("cafe-a"), e.seed("cafe-b")
	card := e.enroll("cafe-a", "u1")
	n := card.Member.CardNumber
	for _, typed := range []string{n, n[:4] + " " + n[4:8] + " " + n[8:12] + " " + n[12:], n[:8] + "-" + n[8:]} {
		got, err := e.svc.LookupMember(ctx, tillA, typed)
		e.must(err)
		if diff := cmp.Diff(card, got); diff != "" {
			t.Errorf("LookupMember(%q) (-want +got):\n%s", typed, diff)
		}
	}
	_, err := e.svc.LookupMember(ctx, tillB, n)
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.LookupMember(ctx, tillA, testCard(424242))
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.LookupMember(ctx, tillA, n[:15])
	wantErr(t, err, loyalty.ErrInvalid)
}

func testActivity(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	other := e.enroll("cafe-a", "u2")
	var first loyalty.EarnResult
	for i := int64(1); i <= 5; i++ {
		res := e.earn(till, card, i*1000, fmt.Sprint("earn-", i))
		if i == 1 {
			first = res
		}
		e.earn(till, other, 500, fmt.Sprint("other-", i))
		e.clock.Advance(time.Minute)
	}
	e.redeem(card, "kaffee", "redeem-1")
	_, err := e.svc.Reverse(ctx, till, loyalty.ReverseRequest{PurchaseID: first.PurchaseID, IdempotencyKey: "reverse-1"})
	e.must(err)

	c := customer(card)
	all, m, err := e.svc.Activity(ctx, c, 0, loyalty.MaxPageSize)
	e.must(err)
	if m.ID != card.Member.ID {
		t.Errorf("Activity's member = %s, want %s", m.ID, card.Member.ID)
	}
	if len(all) != 7 {
		t.Fatalf("Activity returned %d entries, want 7 (5 earn, 1 redeem, 1 reverse)", len(all))
	}
	if all[0].Kind != loyalty.EntryReverse || all[1].Kind != loyalty.EntryRedeem || all[6].Kind != loyalty.EntryEarn {
		t.Errorf("Activity not newest first: kinds %s, %s, …, %s", all[0].Kind, all[1].Kind, all[6].Kind)
	}
	if all[0].BalanceAfter != 150-50-10 {
		t.Errorf("newest entry's balance_after = %d, want 90", all[0].BalanceAfter)
	}

	// Paging by two yields every entry once, newest first.
	var paged []loyalty.Entry
	before := int64(0)
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		es, _, err := e.svc.Activity(ctx, c, before, 2)
		e.must(err)
		if len(es) > 2 {
			t.Fatalf("page of %d entries, want at most 2", len(es))
		}
		if len(es) == 0 {
			break
		}
		paged = append(paged, es...)
		before = es[len(es)-1].ID
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("entries paged by 2 (-all +paged):\n%s", diff)
	}
	for i := 1; i < len(paged); i++ {
		if paged[i].ID >= paged[i-1].ID {
			t.Errorf("entry %d after %d: not newest first", paged[i].ID, paged[i-1].ID)
		}
	}

	for _, limit := range []int{0, -1, loyalty.MaxPageSize + 1} {
		_, _, err := e.svc.Activity(ctx, c, 0, limit)
		wantErr(t, err, loyalty.ErrInvalid)
	}
	_, _, err = e.svc.Activity(ctx, c, -1, 10)
	wantErr(t, err, loyalty.ErrInvalid)
	_, _, err = e.svc.Activity(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"}, 0, 10)
	wantErr(t, err, loyalty.ErrNotEnrolled)
}
