package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

func testRewards(t *testing.T, e *env) {
	ctx := e.ctx
	e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	rewards, m, err := e.svc.Rewards(ctx, customer(card))
	e.must(err)
	if m.ID != card.Member.ID {
		t.Errorf("Rewards' member = %s, want %s", m.ID, card.Member.ID)
	}
	var ids []string
	for _, r := range rewards {
		ids = append(ids, r.ID)
	}
	if want := []string{"keks", "kaffee", "kuchen", "backkurs"}; !cmp.Equal(want, ids) {
		t.Errorf("Rewards = %v, want the active ones cheapest first: %v", ids, want)
	}
	_, _, err = e.svc.Rewards(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"})
	wantErr(t, err, loyalty.ErrNotEnrolled)
}

func testRedeemReward(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	c := customer(card)
	e.earn(till, card, 12_000, "earn-1") // 120 points
	e.clock.Advance(time.Minute)

	red, err := e.svc.RedeemReward(ctx, c, "kaffee", "redeem-1")
	e.must(err)
	at := e.now()
	if red.Balance != 70 || red.EntryID <= 0 {
		t.Errorf("RedeemReward = %+v, want balance 70 and an entry", red)
	}
	if code, err := loyalty.NormalizeVoucherCode(red.Voucher.Code); err != nil || code != red.Voucher.Code {
		t.Errorf("voucher code %q is not normalized: %q, %v", red.Voucher.Code, code, err)
	}
	wantVoucher := loyalty.Voucher{
		ProgramID: "cafe-a", Code: red.Voucher.Code, MemberID: card.Member.ID, RewardID: "kaffee",
		RewardName: loyalty.Text{DE: "Kaffee", EN: "Coffee"}, Cost: 50, Status: loyalty.VoucherIssued,
		IssuedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour),
	}
	if diff := cmp.Diff(wantVoucher, red.Voucher); diff != "" {
		t.Errorf("issued voucher (-want +got):\n%s", diff)
	}
	s := e.state(card)
	if diff := cmp.Diff([]loyalty.Voucher{wantVoucher}, s.Vouchers); diff != "" {
		t.Errorf("stored vouchers (-want +got):\n%s", diff)
	}
	wantEntry := loyalty.Entry{
		ID: red.EntryID, ProgramID: "cafe-a", MemberID: card.Member.ID, Kind: loyalty.EntryRedeem, Points: -50, BalanceAfter: 70, Version: 2,
		CreatedAt: at, RewardID: "kaffee", Detail: loyalty.EntryDetail{RewardName: &wantVoucher.RewardName, VoucherCode: red.Voucher.Code},
	}
	if diff := cmp.Diff(wantEntry, s.Entries[0]); diff != "" {
		t.Errorf("redeem entry (-want +got):\n%s", diff)
	}
	if got, want := s.Entries[0].Reason(loyalty.LocaleDE), "Prämie eingelöst: Kaffee"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if s.Account.Balance != 70 {
		t.Errorf("balance = %d, want 70", s.Account.Balance)
	}

	// A retry returns the first redemption and writes nothing.
	e.clock.Advance(time.Minute)
	again, err := e.svc.RedeemReward(ctx, c, "kaffee", "redeem-1")
	e.must(err)
	if diff := cmp.Diff(red, again); diff != "" {
		t.Errorf("replayed RedeemReward (-first +replay):\n%s", diff)
	}
	e.unchanged(card, s)
	_, err = e.svc.RedeemReward(ctx, c, "keks", "redeem-1")
	wantErr(t, err, loyalty.ErrConflict)
	e.unchanged(card, s)

	// Refusals write nothing.
	for _, r := range []struct {
		reward, key string
		want        error
	}{
		{"backkurs", "redeem-2", loyalty.ErrInsufficientPoints},
		{"alt", "redeem-3", loyalty.ErrNotFound},
		{"nope", "redeem-4", loyalty.ErrNotFound},
		{"", "redeem-5", loyalty.ErrInvalid},
		{"keks", "", loyalty.ErrInvalid},
		{"keks", strings.Repeat("k", 129), loyalty.ErrInvalid},
	} {
		_, err := e.svc.RedeemReward(ctx, c, r.reward, r.key)
		wantErr(t, err, r.want)
		e.unchanged(card, s)
	}
	_, err = e.svc.RedeemReward(ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "stranger"}, "keks", "redeem-6")
	wantErr(t, err, loyalty.ErrNotEnrolled)

	// The balance runs down to exactly zero, then no further.
	e.redeem(card, "kaffee", "redeem-7")
	e.redeem(card, "keks", "redeem-8")
	e.redeem(card, "keks", "redeem-9")
	if got := e.balance(card); got != 0 {
		t.Fatalf("balance = %d, want 0", got)
	}
	s = e.state(card)
	_, err = e.svc.RedeemReward(ctx, c, "keks", "redeem-10")
	wantErr(t, err, loyalty.ErrInsufficientPoints)
	e.unchanged(card, s)

	vs, _, err := e.svc.Vouchers(ctx, c)
	e.must(err)
	if len(vs) != 4 || vs[0].RewardID != "keks" || vs[3].Code != red.Voucher.Code {
		t.Errorf("Vouchers = %d vouchers, want 4, newest first, the first redemption last", len(vs))
	}
}

func testRedeemRewardStock(t *testing.T, e *env) {
	ctx := e.ctx
	till := e.seed("cafe-a")
	card := e.enroll("cafe-a", "u1")
	c := customer(card)
	e.earn(till, card, 30_000, "earn-1") // 300 points; kuchen costs 80, two in stock
	stock := func() int64 {
		t.Helper()
		var r loyalty.Reward
		e.view(func(tx loyalty.Tx) (err error) { r, err = tx.Reward(ctx, "cafe-a", "kuchen"); return err })
		if r.Stock == nil {
			t.Fatal("kuchen has unlimited stock")
		}
		return *r.Stock
	}
	e.redeem(card, "kuchen", "redeem-1")
	if got := stock(); got != 1 {
		t.Errorf("stock after one redemption = %d, want 1", got)
	}
	e.redeem(card, "kuchen", "redeem-2")
	if got := stock(); got != 0 {
		t.Errorf("stock after two redemptions = %d, want 0", got)
	}
	s := e.state(card)
	_, err := e.svc.RedeemReward(ctx, c, "kuchen", "redeem-3")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	e.unchanged(card, s)
	if s.Account.Balance != 300-2*80 {
		t.Errorf("balance = %d, want 140", s.Account.Balance)
	}
	// A replay of a redemption made while in stock still returns it.
	if _, err := e.svc.RedeemReward(ctx, c, "kuchen", "redeem-1"); err != nil {
		t.Errorf("replay after the stock ran out: %v", err)
	}
	// Unlimited rewards have no stock to run out.
	e.redeem(card, "keks", "redeem-4")
	e.view(func(tx loyalty.Tx) error {
		r, err := tx.Reward(ctx, "cafe-a", "keks")
		if err == nil && r.Stock != nil {
			t.Errorf("keks stock = %d after a redemption, want unlimited", *r.Stock)
		}
		return err
	})
}

func testRedeemVoucher(t *testing.T, e *env) {
	ctx := e.ctx
	tillA, tillB := e.seed("cafe-a"), e.seed("cafe-b")
	card := e.enroll("cafe-a", "u1")
	e.earn(tillA, card, 20_000, "earn-1") // 200 points
	v1 := e.redeem(card, "kaffee", "redeem-1").Voucher
	v2 := e.redeem(card, "keks", "redeem-2").Voucher
	v3 := e.redeem(card, "keks", "redeem-3").Voucher
	e.clock.Advance(time.Hour)

	// Codes are read as typed: lower case, no dash, O for 0.
	typed := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(v1.Code, "-", ""), "0", "O"))
	got, err := e.svc.RedeemVoucher(ctx, tillA, typed, "rv-1")
	e.must(err)
	want := v1
	want.Status, want.RedeemedAt, want.RedeemedBy = loyalty.VoucherRedeemed, e.now(), tillA.ID
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RedeemVoucher (-want +got):\n%s", diff)
	}
	e.view(func(tx loyalty.Tx) error {
		stored, err := tx.Voucher(ctx, "cafe-a", v1.Code)
		if diff := cmp.Diff(want, stored); err == nil && diff != "" {
			t.Errorf("stored voucher (-want +got):\n%s", diff)
		}
		return err
	})
	s := e.state(card)

	// A retry returns the first result; another key finds the voucher used.
	e.clock.Advance(time.Minute)
	again, err := e.svc.RedeemVoucher(ctx, tillA, v1.Code, "rv-1")
	e.must(err)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("replayed RedeemVoucher (-first +replay):\n%s", diff)
	}
	_, err = e.svc.RedeemVoucher(ctx, tillA, v1.Code, "rv-2")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	_, err = e.svc.RedeemVoucher(ctx, tillA, v2.Code, "rv-1")
	wantErr(t, err, loyalty.ErrConflict)
	_, err = e.svc.RedeemVoucher(ctx, tillB, v2.Code, "rv-3")
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.RedeemVoucher(ctx, tillA, "ZZZZ-ZZZZ", "rv-4")
	wantErr(t, err, loyalty.ErrNotFound)
	_, err = e.svc.RedeemVoucher(ctx, tillA, "ABC", "rv-5")
	wantErr(t, err, loyalty.ErrInvalid)
	_, err = e.svc.RedeemVoucher(ctx, tillA, v2.Code, "")
	wantErr(t, err, loyalty.ErrInvalid)
	e.unchanged(card, s)

	// A voucher is valid until just before it expires.
	e.clock.Advance(v3.ExpiresAt.Sub(e.now()) - time.Microsecond)
	if _, err := e.svc.RedeemVoucher(ctx, tillA, v3.Code, "rv-6"); err != nil {
		t.Errorf("RedeemVoucher a microsecond before expiry: %v", err)
	}
	e.clock.Advance(time.Microsecond)
	s = e.state(card)
	_, err = e.svc.RedeemVoucher(ctx, tillA, v2.Code, "rv-7")
	wantErr(t, err, loyalty.ErrFailedPrecondition)
	e.unchanged(card, s)

	vs, _, err := e.svc.Vouchers(ctx, customer(card))
	e.must(err)
	status := map[string]loyalty.VoucherStatus{}
	for _, v := range vs {
		status[v.Code] = v.Status
	}
	if want := map[string]loyalty.VoucherStatus{v1.Code: loyalty.VoucherRedeemed, v2.Code: loyalty.VoucherIssued, v3.Code: loyalty.VoucherRedeemed}; !cmp.Equal(want, status) {
		t.Errorf("voucher statuses = %v, want %v", status, want)
	}
	if st := vs[1].StatusAt(e.now()); vs[1].Code == v2.Code && st != loyalty.VoucherExpired {
		t.Errorf("expired voucher's StatusAt = %s", st)
	}
}
