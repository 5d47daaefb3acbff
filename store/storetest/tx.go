package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

var txTests = []test{
	{"NotFound", testTxNotFound},
	{"Conflict", testTxConflict},
	{"UpdateReturnsFnError", testTxUpdateReturnsFnError},
	{"ViewCannotWrite", testTxViewCannotWrite},
	{"RoundTrip", testTxRoundTrip},
	{"TimeRoundTrip", testTxTimeRoundTrip},
	{"EntriesPaging", testTxEntriesPaging},
	{"VouchersNewestFirst", testTxVouchersNewestFirst},
	{"PutReplaces", testTxPutReplaces},
	{"MemberByCard", testTxMemberByCard},
	{"NegativeBalanceRefused", testTxNegativeBalanceRefused},
}

// putProgram writes DemoSeed(id)'s program directly.
func (e *env) putProgram(id string) loyalty.Program {
	e.t.Helper()
	p := DemoSeed(id).Program
	e.update(func(tx loyalty.Tx) error { return tx.PutProgram(e.ctx, p) })
	return p
}

// createMember writes a member with the i-th test card directly.
func (e *env) createMember(programID string, i int) loyalty.Member {
	e.t.Helper()
	m := loyalty.Member{
		ProgramID: programID, ID: fmt.Sprintf("m_%s_%d", programID, i), FirebaseUID: fmt.Sprintf("uid-%d", i),
		CardNumber: testCard(i), Locale: loyalty.LocaleEN, CreatedAt: e.now(),
	}
	e.update(func(tx loyalty.Tx) error { return tx.CreateMember(e.ctx, m) })
	return m
}

// post appends an adjust entry of points to the member's ledger the way the
// Service does, and returns it.
func (e *env) post(tx loyalty.Tx, m loyalty.Member, points int64, at time.Time) (loyalty.Entry, error) {
	return e.postEntry(tx, m, loyalty.Entry{
		Kind: loyalty.EntryAdjust, Points: points, CreatedAt: at,
		Detail: loyalty.EntryDetail{AmountMinor: points * 100, Currency: "EUR"},
	})
}

// postEntry appends en to the member's ledger the way the Service does: it
// moves the balance and, for a credit, writes the lot the points go into,
// available at once and never expiring. It returns en as written.
func (e *env) postEntry(tx loyalty.Tx, m loyalty.Member, en loyalty.Entry) (loyalty.Entry, error) {
	a, err := tx.Account(e.ctx, m.ProgramID, m.ID)
	if err != nil {
		return loyalty.Entry{}, err
	}
	a.Balance += en.Points
	a.Version++
	a.UpdatedAt = en.CreatedAt
	en.ProgramID, en.MemberID, en.BalanceAfter, en.Version = m.ProgramID, m.ID, a.Balance, a.Version
	if err := tx.AppendEntry(e.ctx, &en); err != nil {
		return loyalty.Entry{}, err
	}
	if en.Points > 0 {
		l := loyalty.Lot{
			ProgramID: m.ProgramID, MemberID: m.ID, EntryID: en.ID, PurchaseID: en.PurchaseID,
			Points: en.Points, Remaining: en.Points, AvailableAt: en.CreatedAt, CreatedAt: en.CreatedAt,
		}
		if err := tx.CreateLot(e.ctx, &l); err != nil {
			return loyalty.Entry{}, err
		}
	}
	return en, tx.SaveAccount(e.ctx, a)
}

// earnEntry returns the earn entry of purchase p, to pass to postEntry.
func earnEntry(p loyalty.Purchase) loyalty.Entry {
	return loyalty.Entry{
		Kind: loyalty.EntryEarn, Points: p.Points, CreatedAt: p.CreatedAt, PurchaseID: p.ID,
		Detail: loyalty.EntryDetail{AmountMinor: p.AmountMinor, Currency: p.Currency, ReceiptID: p.ReceiptID},
	}
}

func testTxNotFound(t *testing.T, e *env) {
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	ctx := e.ctx
	lookups := []struct {
		name string
		fn   func(tx loyalty.Tx) error
	}{
		{"Program", func(tx loyalty.Tx) error { _, err := tx.Program(ctx, "nope"); return err }},
		{"Reward", func(tx loyalty.Tx) error { _, err := tx.Reward(ctx, p.ID, "nope"); return err }},
		{"TillByKeyHash", func(tx loyalty.Tx) error { _, err := tx.TillByKeyHash(ctx, loyalty.HashAPIKey("nope")); return err }},
		{"MemberByUID", func(tx loyalty.Tx) error { _, err := tx.MemberByUID(ctx, p.ID, "nope"); return err }},
		{"MemberByUID/other program", func(tx loyalty.Tx) error { _, err := tx.MemberByUID(ctx, "cafe-b", m.FirebaseUID); return err }},
		{"MemberByID", func(tx loyalty.Tx) error { _, err := tx.MemberByID(ctx, p.ID, "nope"); return err }},
		{"MemberByID/other program", func(tx loyalty.Tx) error { _, err := tx.MemberByID(ctx, "cafe-b", m.ID); return err }},
		{"MemberByCard", func(tx loyalty.Tx) error { _, err := tx.MemberByCard(ctx, p.ID, testCard(2)); return err }},
		{"MemberByCard/any program", func(tx loyalty.Tx) error { _, err := tx.MemberByCard(ctx, "", testCard(2)); return err }},
		{"MemberByCard/other program", func(tx loyalty.Tx) error { _, err := tx.MemberByCard(ctx, "cafe-b", m.CardNumber); return err }},
		{"Account", func(tx loyalty.Tx) error { _, err := tx.Account(ctx, p.ID, "nope"); return err }},
		{"Purchase", func(tx loyalty.Tx) error { _, err := tx.Purchase(ctx, p.ID, "nope"); return err }},
		{"PurchaseByReceipt", func(tx loyalty.Tx) error { _, err := tx.PurchaseByReceipt(ctx, p.ID, "nope"); return err }},
		{"Voucher", func(tx loyalty.Tx) error { _, err := tx.Voucher(ctx, p.ID, "AAAA-AAAA"); return err }},
		{"IdempotencyRecord", func(tx loyalty.Tx) error { _, err := tx.IdempotencyRecord(ctx, p.ID, "till:x", "nope"); return err }},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			wantErr(t, e.store.View(ctx, l.fn), loyalty.ErrNotFound)
			wantErr(t, e.store.Update(ctx, l.fn), loyalty.ErrNotFound)
		})
	}
	saves := []struct {
		name string
		fn   func(tx loyalty.Tx) error
	}{
		{"SaveAccount", func(tx loyalty.Tx) error {
			return tx.SaveAccount(ctx, loyalty.Account{ProgramID: p.ID, MemberID: "nope", UpdatedAt: e.now()})
		}},
		{"SavePurchaseReturn", func(tx loyalty.Tx) error {
			return tx.SavePurchaseReturn(ctx, loyalty.Purchase{ProgramID: p.ID, ID: "nope"})
		}},
		{"SaveVoucherRedemption", func(tx loyalty.Tx) error {
			return tx.SaveVoucherRedemption(ctx, loyalty.Voucher{ProgramID: p.ID, Code: "AAAA-AAAA", Status: loyalty.VoucherRedeemed, RedeemedAt: e.now()})
		}},
	}
	for _, s := range saves {
		t.Run(s.name, func(t *testing.T) { wantErr(t, e.store.Update(ctx, s.fn), loyalty.ErrNotFound) })
	}
	e.view(func(tx loyalty.Tx) error {
		rs, err := tx.Rewards(ctx, "nope")
		if err != nil || len(rs) != 0 {
			t.Errorf("Rewards of an unknown program = %v, %v; want none, nil", rs, err)
		}
		es, err := tx.Entries(ctx, p.ID, m.ID, 0, 10)
		if err != nil || len(es) != 0 {
			t.Errorf("Entries of a new member = %v, %v; want none, nil", es, err)
		}
		vs, err := tx.Vouchers(ctx, p.ID, m.ID, 10)
		if err != nil || len(vs) != 0 {
			t.Errorf("Vouchers of a new member = %v, %v; want none, nil", vs, err)
		}
		return nil
	})
}

func testTxConflict(t *testing.T, e *env) {
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	m := e.createMember(a.ID, 1)
	ctx := e.ctx

	// The same card number in another program.
	dup := loyalty.Member{ProgramID: b.ID, ID: "m_other", FirebaseUID: "uid-other", CardNumber: m.CardNumber, Locale: loyalty.LocaleDE, CreatedAt: e.now()}
	wantErr(t, e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.CreateMember(ctx, dup) }), loyalty.ErrConflict)
	wantErr(t, e.store.View(ctx, func(tx loyalty.Tx) error { _, err := tx.MemberByUID(ctx, b.ID, "uid-other"); return err }), loyalty.ErrNotFound)

	// The same user twice in one program.
	twice := loyalty.Member{ProgramID: a.ID, ID: "m_twice", FirebaseUID: m.FirebaseUID, CardNumber: testCard(2), Locale: loyalty.LocaleDE, CreatedAt: e.now()}
	if err := e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.CreateMember(ctx, twice) }); err == nil {
		t.Error("CreateMember with a user id taken in the program succeeded")
	}

	// Receipt ids are unique per program; empty ones are not checked.
	purchase := func(programID, id, receipt string, member loyalty.Member) loyalty.Purchase {
		return loyalty.Purchase{ProgramID: programID, ID: id, MemberID: member.ID, TillID: "till", ReceiptID: receipt,
			AmountMinor: 100, Currency: "EUR", Points: 1, CreatedAt: e.now()}
	}
	mb := e.createMember(b.ID, 3)
	e.update(func(tx loyalty.Tx) error {
		for _, p := range []loyalty.Purchase{
			purchase(a.ID, "p1", "R-1", m), purchase(a.ID, "p2", "", m), purchase(a.ID, "p3", "", m), purchase(b.ID, "p1", "R-1", mb),
		} {
			if err := tx.CreatePurchase(ctx, p); err != nil {
				return fmt.Errorf("CreatePurchase(%s/%s): %w", p.ProgramID, p.ID, err)
			}
			member := m
			if p.ProgramID == b.ID {
				member = mb
			}
			if _, err := e.postEntry(tx, member, earnEntry(p)); err != nil {
				return err
			}
		}
		return nil
	})
	wantErr(t, e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.CreatePurchase(ctx, purchase(a.ID, "p4", "R-1", m)) }), loyalty.ErrConflict)
	wantErr(t, e.store.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Purchase(ctx, a.ID, "p4"); return err }), loyalty.ErrNotFound)

	// An idempotency key is recorded once.
	rec := loyalty.IdempotencyRecord{ProgramID: a.ID, Caller: "till:t", Key: "k", Fingerprint: sha256.Sum256([]byte("x")), Result: []byte(`{}`), CreatedAt: e.now()}
	e.update(func(tx loyalty.Tx) error { return tx.PutIdempotencyRecord(ctx, rec) })
	rec2 := rec
	rec2.Result = []byte(`{"other":1}`)
	if err := e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.PutIdempotencyRecord(ctx, rec2) }); err == nil {
		t.Error("PutIdempotencyRecord twice for one key succeeded")
	}
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.IdempotencyRecord(ctx, a.ID, "till:t", "k")
		if diff := cmp.Diff(rec, got); err == nil && diff != "" {
			t.Errorf("idempotency record after a second put (-want +got):\n%s", diff)
		}
		return err
	})

	// A voucher code is unique in its program.
	v := loyalty.Voucher{ProgramID: a.ID, Code: "AAAA-BBBB", MemberID: m.ID, RewardID: "keks", RewardName: loyalty.Text{DE: "Keks"},
		Cost: 10, Status: loyalty.VoucherIssued, IssuedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
	e.update(func(tx loyalty.Tx) error { return tx.CreateVoucher(ctx, v) })
	if err := e.store.Update(ctx, func(tx loyalty.Tx) error { return tx.CreateVoucher(ctx, v) }); err == nil {
		t.Error("CreateVoucher twice with one code succeeded")
	}
}

func testTxUpdateReturnsFnError(t *testing.T, e *env) {
	ctx := e.ctx
	sentinel := errors.New("stop")
	wrapped := fmt.Errorf("%w: balance too low", loyalty.ErrInsufficientPoints)
	for _, want := range []error{sentinel, wrapped} {
		err := e.store.Update(ctx, func(tx loyalty.Tx) error {
			if err := tx.PutProgram(ctx, DemoSeed("cafe-a").Program); err != nil {
				return err
			}
			return want
		})
		if err != want {
			t.Errorf("Update returned %v, want fn's error %v unchanged", err, want)
		}
		// The program written before the error was rolled back.
		wantErr(t, e.store.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Program(ctx, "cafe-a"); return err }), loyalty.ErrNotFound)
	}
	if !errors.Is(e.store.Update(ctx, func(loyalty.Tx) error { return wrapped }), loyalty.ErrInsufficientPoints) {
		t.Error("Update's error does not wrap the loyalty sentinel fn returned")
	}
	// A View's error is fn's too.
	if err := e.store.View(ctx, func(loyalty.Tx) error { return sentinel }); err != sentinel {
		t.Errorf("View returned %v, want fn's error unchanged", err)
	}
	// A cancelled context ends the transaction without running fn to a commit.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := e.store.Update(cctx, func(tx loyalty.Tx) error { return tx.PutProgram(cctx, DemoSeed("cafe-c").Program) })
	if err == nil {
		t.Error("Update with a cancelled context succeeded")
	}
	wantErr(t, e.store.View(ctx, func(tx loyalty.Tx) error { _, err := tx.Program(ctx, "cafe-c"); return err }), loyalty.ErrNotFound)
}

func testTxViewCannotWrite(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	writes := []struct {
		name string
		fn   func(tx loyalty.Tx) error
	}{
		{"PutProgram", func(tx loyalty.Tx) error { return tx.PutProgram(ctx, DemoSeed("cafe-b").Program) }},
		{"PutReward", func(tx loyalty.Tx) error {
			return tx.PutReward(ctx, loyalty.Reward{ProgramID: p.ID, ID: "r", Name: loyalty.Text{DE: "R"}, Cost: 1, Active: true})
		}},
		{"CreateMember", func(tx loyalty.Tx) error {
			return tx.CreateMember(ctx, loyalty.Member{ProgramID: p.ID, ID: "m", FirebaseUID: "u", CardNumber: testCard(9), Locale: loyalty.LocaleDE, CreatedAt: e.now()})
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			if err := e.store.View(ctx, w.fn); err == nil {
				t.Fatal("a write inside View succeeded")
			}
		})
	}
	e.view(func(tx loyalty.Tx) error {
		if _, err := tx.Program(ctx, "cafe-b"); !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("program written in View: Program = %v, want ErrNotFound", err)
		}
		if _, err := tx.Reward(ctx, p.ID, "r"); !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("reward written in View: Reward = %v, want ErrNotFound", err)
		}
		if _, err := tx.MemberByUID(ctx, p.ID, "u"); !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("member written in View: MemberByUID = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testTxRoundTrip writes one of everything and reads it back field for field.
func testTxRoundTrip(t *testing.T, e *env) {
	ctx := e.ctx
	seed := DemoSeed("cafe-a")
	p := seed.Program
	stock := int64(7)
	reward := loyalty.Reward{ProgramID: p.ID, ID: "torte", Name: loyalty.Text{DE: "Torte „Schwarzwald“", EN: "Black Forest cake"},
		Description: loyalty.Text{DE: "Ein Stück"}, Cost: 120, Stock: &stock, Active: true}
	till := loyalty.Till{ID: "till-1", ProgramID: p.ID, Name: "Kasse am Fenster", KeyHash: loyalty.HashAPIKey("key-of-till-1")}
	m := loyalty.Member{ProgramID: p.ID, ID: "m_1", FirebaseUID: "firebase-uid-1", CardNumber: testCard(1), Locale: loyalty.LocaleEN, CreatedAt: e.now()}
	pur := loyalty.Purchase{ProgramID: p.ID, ID: "pur_1", MemberID: m.ID, TillID: till.ID, ReceiptID: "R-1", AmountMinor: 1299,
		Currency: "EUR", Points: 12, CreatedAt: e.now(),
		Lines: []loyalty.LineItem{{SKU: "kaffee-gross", Name: "Kaffee groß", Category: "Getränke", Quantity: 2, AmountMinor: 700}, {SKU: "croissant", Quantity: 1, AmountMinor: 599}}}
	v := loyalty.Voucher{ProgramID: p.ID, Code: "K7QD-M2XH", MemberID: m.ID, RewardID: reward.ID, RewardName: reward.Name, Cost: reward.Cost,
		Status: loyalty.VoucherIssued, IssuedAt: e.now(), ExpiresAt: e.now().Add(p.VoucherValidity.D())}
	rec := loyalty.IdempotencyRecord{ProgramID: p.ID, Caller: "member:m_1", Key: "key-1", Fingerprint: sha256.Sum256([]byte("op")),
		Result: []byte(`{"a":1}`), CreatedAt: e.now()}
	var entry loyalty.Entry
	e.update(func(tx loyalty.Tx) (err error) {
		for _, step := range []func() error{
			func() error { return tx.PutProgram(ctx, p) },
			func() error { return tx.PutReward(ctx, reward) },
			func() error { return tx.PutTill(ctx, till) },
			func() error { return tx.CreateMember(ctx, m) },
			func() error { return tx.CreatePurchase(ctx, pur) },
			func() error { return tx.CreateVoucher(ctx, v) },
			func() error { return tx.PutIdempotencyRecord(ctx, rec) },
			func() error { entry, err = e.postEntry(tx, m, earnEntry(pur)); return err },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if entry.ID <= 0 {
		t.Errorf("AppendEntry set ID %d, want a positive id", entry.ID)
	}
	check := func(what string, want, got any) {
		t.Helper()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", what, diff)
		}
	}
	// Read back both in a write and in a read transaction.
	for name, run := range map[string]func(context.Context, func(loyalty.Tx) error) error{"Update": e.store.Update, "View": e.store.View} {
		t.Run(name, func(t *testing.T) {
			err := run(ctx, func(tx loyalty.Tx) error {
				gotP, err := tx.Program(ctx, p.ID)
				if err != nil {
					return err
				}
				check("Program", p, gotP)
				gotR, err := tx.Reward(ctx, p.ID, reward.ID)
				if err != nil {
					return err
				}
				check("Reward", reward, gotR)
				gotT, err := tx.TillByKeyHash(ctx, till.KeyHash)
				if err != nil {
					return err
				}
				check("Till", till, gotT)
				for _, find := range []func() (loyalty.Member, error){
					func() (loyalty.Member, error) { return tx.MemberByUID(ctx, p.ID, m.FirebaseUID) },
					func() (loyalty.Member, error) { return tx.MemberByID(ctx, p.ID, m.ID) },
					func() (loyalty.Member, error) { return tx.MemberByCard(ctx, p.ID, m.CardNumber) },
					func() (loyalty.Member, error) { return tx.MemberByCard(ctx, "", m.CardNumber) },
				} {
					gotM, err := find()
					if err != nil {
						return err
					}
					check("Member", m, gotM)
				}
				gotA, err := tx.Account(ctx, p.ID, m.ID)
				if err != nil {
					return err
				}
				check("Account", loyalty.Account{ProgramID: p.ID, MemberID: m.ID, Balance: 12, Version: 1, UpdatedAt: e.now()}, gotA)
				for _, find := range []func() (loyalty.Purchase, error){
					func() (loyalty.Purchase, error) { return tx.Purchase(ctx, p.ID, pur.ID) },
					func() (loyalty.Purchase, error) { return tx.PurchaseByReceipt(ctx, p.ID, pur.ReceiptID) },
				} {
					gotPur, err := find()
					if err != nil {
						return err
					}
					check("Purchase", pur, gotPur)
				}
				gotV, err := tx.Voucher(ctx, p.ID, v.Code)
				if err != nil {
					return err
				}
				check("Voucher", v, gotV)
				gotRec, err := tx.IdempotencyRecord(ctx, p.ID, rec.Caller, rec.Key)
				if err != nil {
					return err
				}
				check("IdempotencyRecord", rec, gotRec)
				gotE, err := tx.Entries(ctx, p.ID, m.ID, 0, 10)
				if err != nil {
					return err
				}
				check("Entries", []loyalty.Entry{entry}, gotE)
				gotE, err = tx.EntriesSince(ctx, p.ID, m.ID, 0, 10)
				if err != nil {
					return err
				}
				check("EntriesSince", []loyalty.Entry{entry}, gotE)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	// Returns and redemptions are written back.
	pur.ReturnedMinor, pur.ReversedPoints = 500, 4
	v.Status, v.RedeemedAt, v.RedeemedBy = loyalty.VoucherRedeemed, e.now().Add(time.Minute), till.ID
	e.update(func(tx loyalty.Tx) error {
		if err := tx.SavePurchaseReturn(ctx, pur); err != nil {
			return err
		}
		return tx.SaveVoucherRedemption(ctx, v)
	})
	e.view(func(tx loyalty.Tx) error {
		gotPur, err := tx.Purchase(ctx, p.ID, pur.ID)
		if err != nil {
			return err
		}
		check("Purchase after return", pur, gotPur)
		gotV, err := tx.Voucher(ctx, p.ID, v.Code)
		if err != nil {
			return err
		}
		check("Voucher after redemption", v, gotV)
		return nil
	})
}

// testTxTimeRoundTrip checks that times at microsecond precision come back
// exactly, in UTC, across a wide range.
func testTxTimeRoundTrip(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	times := []time.Time{
		time.Date(2025, 3, 30, 1, 59, 59, 999_999_000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854_775_000, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 1000, time.UTC),
		start.UTC().Truncate(time.Microsecond),
	}
	for i, at := range times {
		m := loyalty.Member{ProgramID: p.ID, ID: fmt.Sprintf("m_%d", i), FirebaseUID: fmt.Sprintf("u%d", i),
			CardNumber: testCard(i), Locale: loyalty.LocaleDE, CreatedAt: at}
		v := loyalty.Voucher{ProgramID: p.ID, Code: fmt.Sprintf("AAAA-000%d", i), MemberID: m.ID, RewardID: "keks", RewardName: loyalty.Text{DE: "Keks"},
			Cost: 10, Status: loyalty.VoucherRedeemed, IssuedAt: at, ExpiresAt: at.Add(time.Microsecond), RedeemedAt: at, RedeemedBy: "till"}
		var entry loyalty.Entry
		e.update(func(tx loyalty.Tx) error {
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
			if err := tx.CreateVoucher(ctx, v); err != nil {
				return err
			}
			var err error
			entry, err = e.post(tx, m, 1, at)
			return err
		})
		e.view(func(tx loyalty.Tx) error {
			gotM, err := tx.MemberByUID(ctx, p.ID, m.FirebaseUID)
			if err != nil {
				return err
			}
			gotA, err := tx.Account(ctx, p.ID, m.ID)
			if err != nil {
				return err
			}
			gotV, err := tx.Voucher(ctx, p.ID, v.Code)
			if err != nil {
				return err
			}
			gotE, err := tx.Entries(ctx, p.ID, m.ID, 0, 1)
			if err != nil {
				return err
			}
			if len(gotE) != 1 {
				return fmt.Errorf("got %d entries, want 1", len(gotE))
			}
			for what, got := range map[string]time.Time{
				"Member.CreatedAt": gotM.CreatedAt, "Account.UpdatedAt": gotA.UpdatedAt, "Entry.CreatedAt": gotE[0].CreatedAt,
				"Voucher.IssuedAt": gotV.IssuedAt, "Voucher.RedeemedAt": gotV.RedeemedAt,
			} {
				if got != at || got.Location() != time.UTC {
					t.Errorf("%s: wrote %v, read %v (location %v); want the same instant in UTC", what, at, got, got.Location())
				}
			}
			if want := at.Add(time.Microsecond); !gotV.ExpiresAt.Equal(want) {
				t.Errorf("Voucher.ExpiresAt: wrote %v, read %v", want, gotV.ExpiresAt)
			}
			if gotE[0].CreatedAt != entry.CreatedAt {
				t.Errorf("entry time %v, want %v", gotE[0].CreatedAt, entry.CreatedAt)
			}
			return nil
		})
	}
	// An unredeemed voucher reads back with a zero RedeemedAt.
	m := e.createMember(p.ID, 100)
	v := loyalty.Voucher{ProgramID: p.ID, Code: "BBBB-0000", MemberID: m.ID, RewardID: "keks", RewardName: loyalty.Text{DE: "Keks"},
		Cost: 10, Status: loyalty.VoucherIssued, IssuedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
	e.update(func(tx loyalty.Tx) error { return tx.CreateVoucher(ctx, v) })
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.Voucher(ctx, p.ID, v.Code)
		if err == nil && !got.RedeemedAt.IsZero() {
			t.Errorf("unredeemed voucher has RedeemedAt %v, want the zero time", got.RedeemedAt)
		}
		return err
	})
}

func testTxEntriesPaging(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	var written []loyalty.Entry
	for i := 1; i <= 7; i++ {
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
		e.clock.Advance(time.Second)
	}
	for i := 1; i < len(written); i++ {
		if written[i].ID <= written[i-1].ID {
			t.Fatalf("entry ids not increasing: %d after %d", written[i].ID, written[i-1].ID)
		}
	}
	newestFirst := func(idx ...int) []loyalty.Entry {
		var es []loyalty.Entry
		for _, i := range idx {
			es = append(es, written[i])
		}
		return es
	}
	cases := []struct {
		before int64
		limit  int
		want   []loyalty.Entry
	}{
		{0, 3, newestFirst(6, 5, 4)},
		{written[4].ID, 3, newestFirst(3, 2, 1)},
		{written[1].ID, 3, newestFirst(0)},
		{written[0].ID, 3, nil},
		{0, 100, newestFirst(6, 5, 4, 3, 2, 1, 0)},
		{written[6].ID + 1000, 1, newestFirst(6)},
	}
	for _, c := range cases {
		e.view(func(tx loyalty.Tx) error {
			got, err := tx.Entries(ctx, p.ID, m.ID, c.before, c.limit)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Entries(before %d, limit %d) (-want +got):\n%s", c.before, c.limit, diff)
			}
			return nil
		})
	}
}

func testTxVouchersNewestFirst(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	voucher := func(code string, member loyalty.Member) loyalty.Voucher {
		return loyalty.Voucher{ProgramID: p.ID, Code: code, MemberID: member.ID, RewardID: "keks", RewardName: loyalty.Text{DE: "Keks"},
			Cost: 10, Status: loyalty.VoucherIssued, IssuedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
	}
	// Codes out of alphabetical order; the first three in the same
	// microsecond, where only the order of writing tells which is newest.
	var want []loyalty.Voucher
	for i, code := range []string{"MMMM-0001", "ZZZZ-0002", "AAAA-0003", "BBBB-0004"} {
		v := voucher(code, m)
		e.update(func(tx loyalty.Tx) error {
			if err := tx.CreateVoucher(ctx, v); err != nil {
				return err
			}
			return tx.CreateVoucher(ctx, voucher(fmt.Sprintf("CCCC-%04d", i), other))
		})
		want = append([]loyalty.Voucher{v}, want...)
		if i == 2 {
			e.clock.Advance(time.Minute)
		}
	}
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.Vouchers(ctx, p.ID, m.ID, 10)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Vouchers newest first (-want +got):\n%s", diff)
		}
		got, err = tx.Vouchers(ctx, p.ID, m.ID, 2)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want[:2], got); diff != "" {
			t.Errorf("Vouchers limit 2 (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testTxPutReplaces(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	p.Name, p.Earn, p.VoucherValidity = "Café Neu", loyalty.EarnRule{Points: 3, PerMinor: 250}, loyalty.Duration(time.Hour)
	e.update(func(tx loyalty.Tx) error { return tx.PutProgram(ctx, p) })

	three := int64(3)
	rewards := []loyalty.Reward{
		{ProgramID: p.ID, ID: "b", Name: loyalty.Text{DE: "B"}, Cost: 20, Active: true},
		{ProgramID: p.ID, ID: "z", Name: loyalty.Text{DE: "Z"}, Cost: 10, Stock: &three, Active: true},
		{ProgramID: p.ID, ID: "a", Name: loyalty.Text{DE: "A"}, Cost: 20, Active: false},
	}
	e.update(func(tx loyalty.Tx) error {
		for _, r := range rewards {
			if err := tx.PutReward(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	// Replace z: unlimited stock, inactive, more expensive.
	z := loyalty.Reward{ProgramID: p.ID, ID: "z", Name: loyalty.Text{DE: "Z2", EN: "Z2"}, Description: loyalty.Text{DE: "neu"}, Cost: 30, Active: false}
	e.update(func(tx loyalty.Tx) error { return tx.PutReward(ctx, z) })

	till := loyalty.Till{ID: "till-1", ProgramID: p.ID, Name: "Kasse", KeyHash: loyalty.HashAPIKey("old-key-old-key")}
	e.update(func(tx loyalty.Tx) error { return tx.PutTill(ctx, till) })
	till.Name, till.KeyHash = "Kasse 2", loyalty.HashAPIKey("new-key-new-key")
	e.update(func(tx loyalty.Tx) error { return tx.PutTill(ctx, till) })

	e.view(func(tx loyalty.Tx) error {
		got, err := tx.Program(ctx, p.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("program after replace (-want +got):\n%s", diff)
		}
		all, err := tx.Rewards(ctx, p.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]loyalty.Reward{rewards[2], rewards[0], z}, all); diff != "" {
			t.Errorf("Rewards, cheapest first then by id (-want +got):\n%s", diff)
		}
		if _, err := tx.TillByKeyHash(ctx, loyalty.HashAPIKey("old-key-old-key")); !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("replaced till's old key: %v, want ErrNotFound", err)
		}
		gotT, err := tx.TillByKeyHash(ctx, till.KeyHash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(till, gotT); diff != "" {
			t.Errorf("till after replace (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testTxMemberByCard(t *testing.T, e *env) {
	ctx := e.ctx
	a, b := e.putProgram("cafe-a"), e.putProgram("cafe-b")
	ma, mb := e.createMember(a.ID, 1), e.createMember(b.ID, 2)
	e.view(func(tx loyalty.Tx) error {
		for _, c := range []struct {
			program string
			m       loyalty.Member
			want    error
		}{
			{a.ID, ma, nil}, {"", ma, nil}, {b.ID, ma, loyalty.ErrNotFound},
			{b.ID, mb, nil}, {"", mb, nil}, {a.ID, mb, loyalty.ErrNotFound},
		} {
			got, err := tx.MemberByCard(ctx, c.program, c.m.CardNumber)
			switch {
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("MemberByCard(%q, card of %s) = %v, want %v", c.program, c.m.ProgramID, err, c.want)
			case c.want == nil && err != nil:
				t.Errorf("MemberByCard(%q, card of %s): %v", c.program, c.m.ProgramID, err)
			case c.want == nil && got.ID != c.m.ID:
				t.Errorf("MemberByCard(%q, card of %s) = member %s, want %s", c.program, c.m.ProgramID, got.ID, c.m.ID)
			}
		}
		return nil
	})
}

func testTxNegativeBalanceRefused(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	err := e.store.Update(ctx, func(tx loyalty.Tx) error {
		return tx.SaveAccount(ctx, loyalty.Account{ProgramID: p.ID, MemberID: m.ID, Balance: -1, Version: 1, UpdatedAt: e.now()})
	})
	if err == nil {
		t.Fatal("SaveAccount with a negative balance succeeded")
	}
	e.view(func(tx loyalty.Tx) error {
		a, err := tx.Account(ctx, p.ID, m.ID)
		if err == nil && (a.Balance != 0 || a.Version != 0) {
			t.Errorf("account after a refused save: %+v, want balance 0 version 0", a)
		}
		return err
	})
}
