package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// privacyTests check the export and erasure of a member
// (loyalty.PrivacyStore), through the Tx and the Service.
var privacyTests = []test{
	{"MemberData", testPrivacyMemberData},
	{"MemberDataOfNewMember", testPrivacyMemberDataNew},
	{"SaveMemberProfile", testPrivacySaveProfile},
	{"EraseMember", testPrivacyErase},
	{"ErasedMemberTakesNoPersonalData", testPrivacyErasedRefusesWrites},
	{"EraseDuringRegistrations", testPrivacyEraseConcurrent},
	{"ErasedCardStaysSilent", testPrivacyErasedCardStaysSilent},
	{"VoidedVoucherIsRefused", testPrivacyVoidedVoucherIsRefused},
}

// privacyWorld returns the world of the subtest's store, clock and Service;
// the wallet and push stores are the store's when it implements them.
func (e *env) privacyWorld() *privacyWorld {
	e.t.Helper()
	return newPrivacyWorld(e.t, e.store, e.clock, e.svc, nil, nil, nil)
}

// reversed returns a copy of s in reverse order.
func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func testPrivacyMemberData(t *testing.T, e *env) {
	w := e.privacyWorld()
	pm := w.populate("uid-anna", "Anna Schmidt", "anna@example.org")
	other := w.populate("uid-ben", "Ben Weber", "ben@example.org")
	m := pm.Member
	ctx := e.ctx

	var got loyalty.MemberData
	e.view(func(tx loyalty.Tx) (err error) { got, err = tx.MemberData(ctx, m.ProgramID, m.ID); return err })
	e.update(func(tx loyalty.Tx) error {
		d, err := tx.MemberData(ctx, m.ProgramID, m.ID)
		if diff := cmp.Diff(got, d); err == nil && diff != "" {
			t.Errorf("MemberData in Update differs from View's (-View +Update):\n%s", diff)
		}
		return err
	})

	// What the store's other reads return, oldest first.
	var want loyalty.MemberData
	e.view(func(tx loyalty.Tx) error {
		var err error
		want.Member = m
		if want.Account, err = tx.Account(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		es, err := tx.Entries(ctx, m.ProgramID, m.ID, 0, maxRead)
		if err != nil {
			return err
		}
		want.Entries = reversed(es)
		if want.Purchases, err = tx.PurchasesSince(ctx, m.ProgramID, m.ID, time.Time{}, maxRead); err != nil {
			return err
		}
		vs, err := tx.Vouchers(ctx, m.ProgramID, m.ID, maxRead)
		if err != nil {
			return err
		}
		want.Vouchers = reversed(vs)
		for _, h := range got.Holds {
			stored, err := tx.Hold(ctx, m.ProgramID, h.ID)
			if err != nil {
				return err
			}
			want.Holds = append(want.Holds, stored)
		}
		if want.GameState, err = tx.GameState(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		if want.Consents, err = tx.Consents(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		ds, err := tx.Devices(ctx, m.ProgramID, m.ID)
		want.Devices = reversed(ds) // registered one after the other, never seen again
		return err
	})
	for _, c := range []struct {
		what      string
		want, got any
	}{
		{"Member", want.Member, got.Member},
		{"Account", want.Account, got.Account},
		{"Entries", want.Entries, got.Entries},
		{"Purchases", want.Purchases, got.Purchases},
		{"Vouchers", want.Vouchers, got.Vouchers},
		{"Holds", want.Holds, got.Holds},
		{"GameState", want.GameState, got.GameState},
		{"Consents", want.Consents, got.Consents},
		{"Devices", want.Devices, got.Devices},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("MemberData.%s (-want +got):\n%s", c.what, diff)
		}
	}

	// The rows are the member's, of every kind populate wrote.
	if got.Member.Name != "Anna Schmidt" || got.Member.Email != "anna@example.org" || !got.Member.ErasedAt.IsZero() {
		t.Errorf("Member = %+v, want Anna's name and e-mail address, not erased", got.Member)
	}
	if len(got.Entries) < 5 || got.Account.Balance != got.Entries[len(got.Entries)-1].BalanceAfter {
		t.Errorf("entries %+v, want the welcome bonus, 2 purchases, 2 redemptions and a capture, leaving the balance %d",
			got.Entries, got.Account.Balance)
	}
	if len(got.Purchases) != 2 || got.Purchases[0].Lines[0].Name != "Apfelkuchen mit Sahne" || got.Purchases[0].ReceiptID == "" {
		t.Errorf("Purchases = %+v, want the 2 with their receipts and lines", got.Purchases)
	}
	credits := 0
	for _, en := range got.Entries {
		if en.Points > 0 {
			credits++
			if !slices.ContainsFunc(got.Lots, func(l loyalty.Lot) bool { return l.EntryID == en.ID && l.Points == en.Points }) {
				t.Errorf("entry %d credits %d points; no lot of them in %+v", en.ID, en.Points, got.Lots)
			}
		}
	}
	if len(got.Lots) != credits || !slices.IsSortedFunc(got.Lots, func(a, b loyalty.Lot) int { return int(a.ID - b.ID) }) {
		t.Errorf("Lots = %+v, want the %d of the credits, by id", got.Lots, credits)
	}
	var open []loyalty.Lot
	e.view(func(tx loyalty.Tx) (err error) { open, err = tx.OpenLots(ctx, m.ProgramID, m.ID); return err })
	for _, l := range open {
		if !slices.Contains(got.Lots, l) {
			t.Errorf("open lot %+v is not in MemberData.Lots", l)
		}
	}
	if len(got.Vouchers) != 2 || got.Vouchers[0].Code != pm.Redeemed.Code || got.Vouchers[0].Status != loyalty.VoucherRedeemed ||
		got.Vouchers[1].Code != pm.Issued.Code || got.Vouchers[1].Status != loyalty.VoucherIssued {
		t.Errorf("Vouchers = %+v, want the redeemed %s, then the issued %s", got.Vouchers, pm.Redeemed.Code, pm.Issued.Code)
	}
	if len(got.Holds) != 2 || got.Holds[0].Status != loyalty.HoldCaptured || got.Holds[1].ID != pm.Hold.ID || got.Holds[1].Status != loyalty.HoldActive {
		t.Errorf("Holds = %+v, want the captured one, then the active %s", got.Holds, pm.Hold.ID)
	}
	g := got.GameState
	if g.ProgramID != m.ProgramID || g.MemberID != m.ID || g.ReferralCode != pm.ReferralCode || g.ReferralCode == "" ||
		g.Birthday.IsZero() || g.Challenges["three-visits"].ActivatedAt.IsZero() {
		t.Errorf("GameState = %+v, want the referral code %s, a birthday and the activated challenge", g, pm.ReferralCode)
	}
	if len(got.Grants) == 0 || got.Grants[0].Key != "welcome" || got.Grants[0].MemberID != m.ID || got.Grants[0].CreatedAt.IsZero() {
		t.Errorf("Grants = %+v, want the welcome bonus first", got.Grants)
	}
	if len(got.Consents) != 3 || got.Consents[0].Purpose != loyalty.PurposeProfile {
		t.Errorf("Consents = %+v, want the 3 grants, profile first", got.Consents)
	}
	if diff := cmp.Diff(pm.Tokens, tokens(got.Devices)); diff != "" {
		t.Errorf("Devices, oldest first (-want +got):\n%s", diff)
	}
	if w.push != nil {
		if len(got.Pushes) != 1 {
			t.Fatalf("Pushes = %+v, want the one sent", got.Pushes)
		}
		p := got.Pushes[0]
		want := loyalty.PushRecord{
			Kind: "points_earned", Title: loyalty.Text{DE: "Sterne gesammelt", EN: "Stars earned"},
			Body: loyalty.Text{DE: "Danke für den Besuch, Anna Schmidt", EN: "Thanks for visiting, Anna Schmidt"},
			Data: p.Data, CreatedAt: p.CreatedAt, State: "sent", SentAt: p.CreatedAt, Reason: "sent to 2 devices",
		}
		if diff := cmp.Diff(want, p); diff != "" || !strings.HasPrefix(p.Data["link"], "treue://card/") || p.CreatedAt.IsZero() {
			t.Errorf("Pushes[0] (-want +got):\n%s", diff)
		}
	}
	var kinds []loyalty.WalletKind
	for _, p := range got.WalletPasses {
		kinds = append(kinds, p.Kind)
		switch p.Kind {
		case loyalty.WalletApple:
			if !strings.HasPrefix(p.ID, "pass.com.example.treue/") || p.AuthToken == "" || p.Saved || len(p.Registrations) != 1 ||
				p.Registrations[0].DeviceID == "" || p.Registrations[0].PushToken == "" || p.Registrations[0].CreatedAt.Before(p.CreatedAt) {
				t.Errorf("Apple pass = %+v, want <pass type>/<serial>, its token and one registration", p)
			}
		case loyalty.WalletGoogle:
			if !strings.HasSuffix(p.ID, m.ID) || p.AuthToken != "" || !p.Saved || p.Registrations != nil {
				t.Errorf("Google pass = %+v, want the object id, saved", p)
			}
		}
	}
	var wantKinds []loyalty.WalletKind
	if w.apple != nil {
		wantKinds = append(wantKinds, loyalty.WalletApple)
	}
	if w.google != nil {
		wantKinds = append(wantKinds, loyalty.WalletGoogle)
	}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("wallet passes of kinds %v, want %v, oldest first", kinds, wantKinds)
	}
	if len(got.CardChanges) == 0 {
		t.Error("no card changes: the Service's writes put them in the outbox")
	}
	for i, c := range got.CardChanges {
		var change loyalty.CardChange
		if err := json.Unmarshal(c.Payload, &change); err != nil || change.State.MemberID != m.ID || change.State.CardNumber != m.CardNumber {
			t.Errorf("card change %d: payload %s (%v), want the member's card", i, c.Payload, err)
		}
		if c.CreatedAt.IsZero() || i > 0 && c.Version < got.CardChanges[i-1].Version {
			t.Errorf("card change %d: version %d at %v, after version %d", i, c.Version, c.CreatedAt, got.CardChanges[max(i-1, 0)].Version)
		}
	}

	// Every list is oldest first.
	for what, times := range map[string][]time.Time{
		"entries":   mapSlice(got.Entries, func(x loyalty.Entry) time.Time { return x.CreatedAt }),
		"purchases": mapSlice(got.Purchases, func(x loyalty.Purchase) time.Time { return x.CreatedAt }),
		"lots":      mapSlice(got.Lots, func(x loyalty.Lot) time.Time { return x.CreatedAt }),
		"vouchers":  mapSlice(got.Vouchers, func(x loyalty.Voucher) time.Time { return x.IssuedAt }),
		"holds":     mapSlice(got.Holds, func(x loyalty.Hold) time.Time { return x.CreatedAt }),
		"grants":    mapSlice(got.Grants, func(x loyalty.GrantRecord) time.Time { return x.CreatedAt }),
		"consents":  mapSlice(got.Consents, func(x loyalty.Consent) time.Time { return x.At }),
		"devices":   mapSlice(got.Devices, func(x loyalty.Device) time.Time { return x.RegisteredAt }),
		"pushes":    mapSlice(got.Pushes, func(x loyalty.PushRecord) time.Time { return x.CreatedAt }),
		"passes":    mapSlice(got.WalletPasses, func(x loyalty.WalletPass) time.Time { return x.CreatedAt }),
		"changes":   mapSlice(got.CardChanges, func(x loyalty.CardChangeRecord) time.Time { return x.CreatedAt }),
	} {
		if !slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Errorf("%s are not oldest first: %v", what, times)
		}
		for _, at := range times {
			if at.IsZero() || at.Location() != time.UTC {
				t.Errorf("%s: time %v, want one in UTC", what, at)
			}
		}
	}

	// None of it is the other member's.
	dump := fmt.Sprintf("%+v", got)
	for _, pv := range other.Personal {
		if strings.Contains(dump, pv.value) {
			t.Errorf("Anna's MemberData holds Ben's %s %q", pv.what, pv.value)
		}
	}

	for _, c := range []struct{ program, member string }{{m.ProgramID, "nope"}, {"cafe-x", m.ID}} {
		for name, run := range map[string]func(func(loyalty.Tx) error) error{"View": e.storeView, "Update": e.storeUpdate} {
			err := run(func(tx loyalty.Tx) error { _, err := tx.MemberData(ctx, c.program, c.member); return err })
			if !errors.Is(err, loyalty.ErrNotFound) {
				t.Errorf("%s: MemberData(%s, %s) = %v, want ErrNotFound", name, c.program, c.member, err)
			}
		}
	}
}

// storeView and storeUpdate run fn in a transaction and return its error.
func (e *env) storeView(fn func(loyalty.Tx) error) error   { return e.store.View(e.ctx, fn) }
func (e *env) storeUpdate(fn func(loyalty.Tx) error) error { return e.store.Update(e.ctx, fn) }

// mapSlice returns f of every element of s.
func mapSlice[T, U any](s []T, f func(T) U) []U {
	out := make([]U, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	return out
}

func testPrivacyMemberDataNew(t *testing.T, e *env) {
	p := e.putProgram("cafe-a")
	m := e.createMember(p.ID, 1)
	e.view(func(tx loyalty.Tx) error {
		got, err := tx.MemberData(e.ctx, p.ID, m.ID)
		if err != nil {
			return err
		}
		want := loyalty.MemberData{
			Member:    m,
			Account:   loyalty.Account{ProgramID: p.ID, MemberID: m.ID, UpdatedAt: m.CreatedAt},
			GameState: loyalty.GameState{ProgramID: p.ID, MemberID: m.ID},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("MemberData of a member with nothing but an account (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testPrivacySaveProfile(t *testing.T, e *env) {
	ctx := e.ctx
	p := e.putProgram("cafe-a")
	m, other := e.createMember(p.ID, 1), e.createMember(p.ID, 2)
	read := func(mb loyalty.Member) []loyalty.Member {
		var out []loyalty.Member
		e.view(func(tx loyalty.Tx) error {
			for _, lookup := range []func() (loyalty.Member, error){
				func() (loyalty.Member, error) { return tx.MemberByUID(ctx, mb.ProgramID, mb.FirebaseUID) },
				func() (loyalty.Member, error) { return tx.MemberByID(ctx, mb.ProgramID, mb.ID) },
				func() (loyalty.Member, error) { return tx.MemberByCard(ctx, mb.ProgramID, mb.CardNumber) },
				func() (loyalty.Member, error) { return tx.MemberByCard(ctx, "", mb.CardNumber) },
			} {
				got, err := lookup()
				if err != nil {
					return err
				}
				out = append(out, got)
			}
			return nil
		})
		return out
	}
	for _, profile := range []struct{ name, email string }{
		{"Zoë O'Brien-Łukasiewicz", "zoe.obrien+treue@example.org"},
		{"Zoë", ""},
		{"", "zoe@example.org"},
		{"", ""},
	} {
		want := m
		want.Name, want.Email = profile.name, profile.email
		// The profile is all SaveMemberProfile writes.
		written := want
		written.FirebaseUID, written.CardNumber, written.Locale = "other-uid", testCard(99), loyalty.LocaleDE
		e.update(func(tx loyalty.Tx) error { return tx.SaveMemberProfile(ctx, written) })
		for i, got := range read(m) {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lookup %d after SaveMemberProfile(%q, %q) (-want +got):\n%s", i, profile.name, profile.email, diff)
			}
		}
		if diff := cmp.Diff(other, read(other)[0]); diff != "" {
			t.Errorf("the other member after SaveMemberProfile (-want +got):\n%s", diff)
		}
	}
	// Members created with a profile keep it.
	withProfile := loyalty.Member{
		ProgramID: p.ID, ID: "m_with_profile", FirebaseUID: "uid-with-profile", CardNumber: testCard(3),
		Locale: loyalty.LocaleEN, CreatedAt: e.now(), Name: "Mia", Email: "mia@example.org",
	}
	e.update(func(tx loyalty.Tx) error { return tx.CreateMember(ctx, withProfile) })
	if diff := cmp.Diff(withProfile, read(withProfile)[1]); diff != "" {
		t.Errorf("member created with a name and e-mail address (-want +got):\n%s", diff)
	}
	err := e.store.Update(ctx, func(tx loyalty.Tx) error {
		return tx.SaveMemberProfile(ctx, loyalty.Member{ProgramID: p.ID, ID: "nope", Name: "X"})
	})
	wantErr(t, err, loyalty.ErrNotFound)
}

func testPrivacyErase(t *testing.T, e *env) {
	ctx := e.ctx
	w := e.privacyWorld()
	other := w.populate("uid-ben", "Ben Weber", "ben@example.org")
	e.seed("cafe-b")
	elsewhere := e.enroll("cafe-b", "uid-anna")
	e.register(elsewhere, device("fcm:anna-in-cafe-b"))
	pm := w.populate("uid-anna", "Anna Schmidt", "anna@example.org")
	m := pm.Member
	before := w.memberData(m)
	otherBefore := w.memberData(other.Member)

	// The active hold is still active.
	e.clock.Advance(time.Minute)
	at := e.now()
	erased := w.erase(m)
	wantErased := loyalty.ErasedData{Devices: slices.Sorted(slices.Values(pm.Tokens))}
	if w.apple != nil {
		wantErased.ApplePasses = 1
	}
	if w.google != nil {
		wantErased.GoogleObjectID = before.WalletPasses[len(before.WalletPasses)-1].ID
	}
	if diff := cmp.Diff(wantErased, erased); diff != "" {
		t.Errorf("EraseMember (-want +got):\n%s", diff)
	}

	// The old sign-in id and card number find nobody; the member id finds
	// the pseudonymised member.
	e.view(func(tx loyalty.Tx) error {
		for name, err := range map[string]error{
			"MemberByUID":          func() error { _, err := tx.MemberByUID(ctx, m.ProgramID, m.FirebaseUID); return err }(),
			"MemberByCard":         func() error { _, err := tx.MemberByCard(ctx, m.ProgramID, m.CardNumber); return err }(),
			"MemberByCard/any":     func() error { _, err := tx.MemberByCard(ctx, "", m.CardNumber); return err }(),
			"MemberByReferralCode": func() error { _, err := tx.MemberByReferralCode(ctx, m.ProgramID, pm.ReferralCode); return err }(),
		} {
			if !errors.Is(err, loyalty.ErrNotFound) {
				t.Errorf("%s of the erased member: %v, want ErrNotFound", name, err)
			}
		}
		for _, keys := range []struct {
			caller string
			keys   []string
			kept   bool
		}{
			{"member:" + m.ID, pm.MemberKeys, false},
			{"till:" + w.till.ID, pm.EntryKeys, false},
			{"till:" + w.till.ID, pm.TillKeys, true},
			{"member:" + other.Member.ID, other.MemberKeys, true},
			{"till:" + w.till.ID, other.EntryKeys, true},
		} {
			for _, k := range keys.keys {
				_, err := tx.IdempotencyRecord(ctx, m.ProgramID, keys.caller, k)
				if keys.kept && err != nil || !keys.kept && !errors.Is(err, loyalty.ErrNotFound) {
					t.Errorf("idempotency record %s/%s after the erasure: %v, want it kept %v", keys.caller, k, err, keys.kept)
				}
			}
		}
		got, err := tx.MemberByID(ctx, m.ProgramID, m.ID)
		want := loyalty.Member{
			ProgramID: m.ProgramID, ID: m.ID, FirebaseUID: "erased:" + m.ID, CardNumber: "erased:" + m.ProgramID + ":" + m.ID,
			CreatedAt: m.CreatedAt, ErasedAt: at,
		}
		if diff := cmp.Diff(want, got); err == nil && diff != "" {
			t.Errorf("MemberByID of the erased member (-want +got):\n%s", diff)
		}
		return err
	})

	// The account and ledger stay; vouchers are voided, holds released;
	// everything else is gone.
	after := w.memberData(m)
	want := before
	want.Member = after.Member
	for i, v := range want.Vouchers {
		if v.Status == loyalty.VoucherIssued {
			want.Vouchers[i].Status = loyalty.VoucherVoided
		}
	}
	for i, h := range want.Holds {
		if h.Status == loyalty.HoldActive && at.Before(h.ExpiresAt) {
			want.Holds[i].Status, want.Holds[i].ClosedAt = loyalty.HoldReleased, at
		}
	}
	want.GameState = loyalty.GameState{ProgramID: m.ProgramID, MemberID: m.ID}
	want.Grants, want.Consents, want.Devices, want.Pushes, want.WalletPasses, want.CardChanges = nil, nil, nil, nil, nil, nil
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("MemberData after the erasure (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(after.Holds, func(h loyalty.Hold) bool { return h.ID == pm.Hold.ID && h.Status == loyalty.HoldReleased }) {
		t.Errorf("holds after the erasure = %+v, want %s released", after.Holds, pm.Hold.ID)
	}
	if after.Account != before.Account {
		t.Errorf("account after the erasure = %+v, want %+v unchanged", after.Account, before.Account)
	}

	// Erasing again does nothing.
	e.clock.Advance(time.Hour)
	if again := w.erase(m); !cmp.Equal(loyalty.ErasedData{}, again) {
		t.Errorf("second EraseMember = %+v, want nothing erased", again)
	}
	if diff := cmp.Diff(after, w.memberData(m)); diff != "" {
		t.Errorf("MemberData after a second erasure (-first +second):\n%s", diff)
	}

	// Others keep everything.
	if diff := cmp.Diff(otherBefore, w.memberData(other.Member)); diff != "" {
		t.Errorf("the other member's MemberData after the erasure (-before +after):\n%s", diff)
	}
	if got := tokens(e.devices(elsewhere)); !slices.Equal(got, []string{"fcm:anna-in-cafe-b"}) {
		t.Errorf("devices of the same user in another program = %v, want them kept", got)
	}

	// The user can enroll again: a new member with a new card, starting
	// with the welcome bonus.
	card, created, err := e.svc.Enroll(ctx, pm.Customer, loyalty.LocaleDE)
	e.must(err)
	if !created || card.Member.ID == m.ID || card.Member.CardNumber == m.CardNumber || card.Account.Balance != 25 ||
		card.Member.Name != "" || card.Member.Email != "" || !card.Member.ErasedAt.IsZero() {
		t.Errorf("Enroll after the erasure = created %v, %+v, balance %d; want a new member, new card, the welcome bonus of 25",
			created, card.Member, card.Account.Balance)
	}

	err = e.store.Update(ctx, func(tx loyalty.Tx) error {
		_, err := tx.EraseMember(ctx, m.ProgramID, "nope", at)
		return err
	})
	wantErr(t, err, loyalty.ErrNotFound)
}

func testPrivacyErasedRefusesWrites(t *testing.T, e *env) {
	ctx := e.ctx
	w := e.privacyWorld()
	pm := w.populate("uid-anna", "Anna Schmidt", "anna@example.org")
	m := pm.Member
	other := e.enroll(privacyProgram, "uid-other")
	e.register(other, device("fcm:other"))
	w.erase(m)
	now := e.now()
	for name, write := range map[string]func(tx loyalty.Tx) error{
		"PutDevice": func(tx loyalty.Tx) error {
			return tx.PutDevice(ctx, loyalty.Device{ProgramID: m.ProgramID, MemberID: m.ID, Token: "fcm:late", Platform: loyalty.PlatformIOS,
				Locale: loyalty.LocaleEN, RegisteredAt: now, SeenAt: now})
		},
		"PutDevice/moving another member's token": func(tx loyalty.Tx) error {
			return tx.PutDevice(ctx, loyalty.Device{ProgramID: m.ProgramID, MemberID: m.ID, Token: "fcm:other", Platform: loyalty.PlatformIOS,
				Locale: loyalty.LocaleEN, RegisteredAt: now, SeenAt: now})
		},
		"AppendConsent": func(tx loyalty.Tx) error {
			return tx.AppendConsent(ctx, &loyalty.Consent{ProgramID: m.ProgramID, MemberID: m.ID, Purpose: loyalty.PurposeProfile,
				Granted: true, TextVersion: "v1", Source: "app", At: now})
		},
		"SaveMemberProfile": func(tx loyalty.Tx) error {
			late := m
			late.Name, late.Email = "Anna", "anna@example.org"
			return tx.SaveMemberProfile(ctx, late)
		},
	} {
		if err := e.store.Update(ctx, write); !errors.Is(err, loyalty.ErrNotFound) {
			t.Errorf("%s for the erased member: %v, want ErrNotFound", name, err)
		}
	}
	if got := tokens(e.devices(other)); !slices.Equal(got, []string{"fcm:other"}) {
		t.Errorf("the other member's devices = %v, want fcm:other kept", got)
	}
	d := w.memberData(m)
	if len(d.Devices) != 0 || len(d.Consents) != 0 || d.Member.Name != "" || d.Member.Email != "" {
		t.Errorf("after writes for the erased member: devices %v, consents %v, name %q, e-mail %q; want none",
			tokens(d.Devices), d.Consents, d.Member.Name, d.Member.Email)
	}
	// Unknown members are refused alike.
	wantErr(t, e.store.Update(ctx, func(tx loyalty.Tx) error {
		return tx.PutDevice(ctx, loyalty.Device{ProgramID: m.ProgramID, MemberID: "nope", Token: "fcm:x", Platform: loyalty.PlatformIOS,
			Locale: loyalty.LocaleEN, RegisteredAt: now, SeenAt: now})
	}), loyalty.ErrNotFound)
}

func testPrivacyEraseConcurrent(t *testing.T, e *env) {
	w := e.privacyWorld()
	const registrations = 8
	for round := range 3 {
		c := loyalty.Customer{ProgramID: privacyProgram, UID: fmt.Sprint("uid-", round)}
		card, _, err := e.svc.Enroll(e.ctx, c, loyalty.LocaleDE)
		e.must(err)
		var (
			wg         sync.WaitGroup
			mu         sync.Mutex
			registered []string
			erased     loyalty.ErasedData
		)
		for i := range registrations {
			wg.Go(func() {
				tok := fmt.Sprintf("fcm:%d-%d", round, i)
				_, err := e.svc.RegisterDevice(e.ctx, c, device(tok))
				switch {
				case err == nil:
					mu.Lock()
					registered = append(registered, tok)
					mu.Unlock()
				case !errors.Is(err, loyalty.ErrNotEnrolled) && !errors.Is(err, loyalty.ErrNotFound):
					t.Errorf("RegisterDevice beside an erasure: %v", err)
				}
			})
			if i == registrations/2 {
				wg.Go(func() {
					var err error
					if erased, err = w.tryErase(card.Member); err != nil {
						t.Errorf("erasure beside registrations: %v", err)
					}
				})
			}
		}
		wg.Wait()
		slices.Sort(registered)
		if !slices.Equal(registered, erased.Devices) {
			t.Errorf("round %d: registrations that succeeded %v, erasure removed %v: want the same", round, registered, erased.Devices)
		}
		if d := w.memberData(card.Member); len(d.Devices) != 0 {
			t.Errorf("round %d: the erased member has devices %v", round, tokens(d.Devices))
		}
	}
}

// testPrivacyErasedCardStaysSilent: the expiry job takes an erased member's
// points (the ledger stays right) but writes no card change: the card, with
// whatever the change would carry, goes to nobody.
func testPrivacyErasedCardStaysSilent(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u-erased")
	e.earn(till, card, 3000, "june")
	_, err := e.svc.DeleteAccount(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u-erased"}, loyalty.Identity{UID: "u-erased", AuthTime: e.clock.Now()})
	e.must(err)
	before := e.cardChangesOf(card.Member.ID)
	e.clock.Set(time.Date(2025, 8, 1, 0, 0, 0, 0, berlin))
	if run := e.expire(); run.Points != 30 {
		t.Fatalf("expiry of the erased member's points: %+v, want 30 points", run)
	}
	if after := e.cardChangesOf(card.Member.ID); after != before {
		t.Fatalf("card changes of the erased member: %d before the expiry, %d after", before, after)
	}
}

// cardChangesOf counts the outbox's changes of the member.
func (e *env) cardChangesOf(memberID string) int {
	e.t.Helper()
	n := 0
	e.must(e.store.Update(e.ctx, func(tx loyalty.Tx) error {
		far := e.clock.Now().Add(24 * 365 * time.Hour)
		cs, err := tx.CardChanges(e.ctx, far, far, time.Second, 1000)
		for _, c := range cs {
			if c.State.MemberID == memberID {
				n++
			}
		}
		return err
	}))
	return n
}

// testPrivacyVoidedVoucherIsRefused: a voucher voided with its member's
// erasure is refused at the till, and stays voided.
func testPrivacyVoidedVoucherIsRefused(t *testing.T, e *env) {
	till := e.seedExpiring("cafe-a", 0)
	card := e.enroll("cafe-a", "u-voucher")
	e.earn(till, card, 3000, "bon")
	r := e.redeem(card, "keks", "r1")
	_, err := e.svc.DeleteAccount(e.ctx, loyalty.Customer{ProgramID: "cafe-a", UID: "u-voucher"}, loyalty.Identity{UID: "u-voucher", AuthTime: e.clock.Now()})
	e.must(err)
	if _, err := e.svc.RedeemVoucher(e.ctx, till, r.Voucher.Code, "take-it"); !errors.Is(err, loyalty.ErrFailedPrecondition) {
		t.Fatalf("RedeemVoucher of a voided voucher: %v, want ErrFailedPrecondition", err)
	}
	e.must(e.store.View(e.ctx, func(tx loyalty.Tx) error {
		v, err := tx.Voucher(e.ctx, "cafe-a", r.Voucher.Code)
		if err == nil && v.Status != loyalty.VoucherVoided {
			t.Errorf("voucher status %q after the refused redemption, want voided", v.Status)
		}
		return err
	}))
}
