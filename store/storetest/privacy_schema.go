package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
	"github.com/treue/treue/wallet/applepass"
	"github.com/treue/treue/wallet/googlepass"
)

// Exported is the class of a column whose values MemberData returns (and
// the export shows).
const Exported = "exported"

// The prefixes of the other classes of ColumnClasses, each followed by the
// reason.
const (
	// Internal columns are about a member but kept out of MemberData:
	// bookkeeping of the store or of a sender, or repeats of what it
	// returns.
	Internal = "internal: "
	// NotMemberData columns hold no member's data.
	NotMemberData = "not member data: "
)

// ColumnClasses classifies every column of the stores' schemas, as
// "table.column": Exported, or Internal or NotMemberData followed by the
// reason. TestMemberDataCoversEveryColumn fails for a column without an
// entry: a new column must be classified here and, when it holds member
// data, returned by MemberData and shown in the export.
var ColumnClasses = map[string]string{
	// The store's own bookkeeping.
	"schema_migrations.version":    NotMemberData + "the schema's version",
	"schema_migrations.name":       NotMemberData + "the schema's version",
	"schema_migrations.applied_at": NotMemberData + "the schema's version",
	"sqlite_sequence.name":         NotMemberData + "SQLite's AUTOINCREMENT counters",
	"sqlite_sequence.seq":          NotMemberData + "SQLite's AUTOINCREMENT counters",
	"leases.name":                  NotMemberData + "which replica sends pushes",
	"leases.holder":                NotMemberData + "which replica sends pushes",
	"leases.until":                 NotMemberData + "which replica sends pushes",

	// The program's configuration.
	"programs.id":          NotMemberData + "the program",
	"programs.config":      NotMemberData + "the program",
	"rewards.program_id":   NotMemberData + "the program's catalog",
	"rewards.id":           NotMemberData + "the program's catalog",
	"rewards.name":         NotMemberData + "the program's catalog",
	"rewards.description":  NotMemberData + "the program's catalog",
	"rewards.cost":         NotMemberData + "the program's catalog",
	"rewards.stock":        NotMemberData + "the program's catalog",
	"rewards.active":       NotMemberData + "the program's catalog",
	"tills.id":             NotMemberData + "the program's tills",
	"tills.program_id":     NotMemberData + "the program's tills",
	"tills.name":           NotMemberData + "the program's tills",
	"tills.key_hash":       NotMemberData + "the program's tills",
	"operators.id":         NotMemberData + "the program's operators",
	"operators.program_id": NotMemberData + "the program's operators",
	"operators.name":       NotMemberData + "the program's operators",
	"operators.key_hash":   NotMemberData + "the program's operators",

	"members.program_id":   Exported,
	"members.id":           Exported,
	"members.firebase_uid": Exported,
	"members.card_number":  Exported,
	"members.locale":       Exported,
	"members.created_at":   Exported,
	"members.name":         Exported,
	"members.email":        Exported,
	"members.erased_at":    Exported,

	"accounts.program_id": Exported,
	"accounts.member_id":  Exported,
	"accounts.balance":    Exported,
	"accounts.version":    Exported,
	"accounts.updated_at": Exported,

	"entries.id":            Exported,
	"entries.program_id":    Exported,
	"entries.member_id":     Exported,
	"entries.kind":          Exported,
	"entries.points":        Exported,
	"entries.balance_after": Exported,
	"entries.created_at":    Exported,
	"entries.purchase_id":   Exported,
	"entries.reward_id":     Exported,
	"entries.detail":        Exported,
	"entries.version":       Exported,

	"purchases.program_id":      Exported,
	"purchases.id":              Exported,
	"purchases.member_id":       Exported,
	"purchases.till_id":         Exported,
	"purchases.receipt_id":      Exported,
	"purchases.amount_minor":    Exported,
	"purchases.currency":        Exported,
	"purchases.points":          Exported,
	"purchases.returned_minor":  Exported,
	"purchases.reversed_points": Exported,
	"purchases.lines":           Exported,
	"purchases.created_at":      Exported,

	"lots.program_id":   Exported,
	"lots.member_id":    Exported,
	"lots.id":           Exported,
	"lots.entry_id":     Exported,
	"lots.purchase_id":  Exported,
	"lots.points":       Exported,
	"lots.remaining":    Exported,
	"lots.available_at": Exported,
	"lots.expires_at":   Exported,
	"lots.created_at":   Exported,

	"lot_uses.program_id": Internal + "which lots a spend took its points from; the entries and the lots' remaining points say what was spent",
	"lot_uses.member_id":  Internal + "which lots a spend took its points from; the entries and the lots' remaining points say what was spent",
	"lot_uses.entry_id":   Internal + "which lots a spend took its points from; the entries and the lots' remaining points say what was spent",
	"lot_uses.lot_id":     Internal + "which lots a spend took its points from; the entries and the lots' remaining points say what was spent",
	"lot_uses.points":     Internal + "which lots a spend took its points from; the entries and the lots' remaining points say what was spent",

	"vouchers.program_id":  Exported,
	"vouchers.code":        Exported,
	"vouchers.member_id":   Exported,
	"vouchers.reward_id":   Exported,
	"vouchers.reward_name": Exported,
	"vouchers.cost":        Exported,
	"vouchers.status":      Exported,
	"vouchers.issued_at":   Exported,
	"vouchers.expires_at":  Exported,
	"vouchers.redeemed_at": Exported,
	"vouchers.redeemed_by": Exported,
	"vouchers.seq":         Internal + "orders vouchers issued in one microsecond",

	"holds.program_id": Exported,
	"holds.id":         Exported,
	"holds.member_id":  Exported,
	"holds.till_id":    Exported,
	"holds.points":     Exported,
	"holds.status":     Exported,
	"holds.captured":   Exported,
	"holds.created_at": Exported,
	"holds.expires_at": Exported,
	"holds.closed_at":  Exported,

	"idempotency.program_id":  Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.caller":      Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.key":         Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.fingerprint": Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.result":      Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.entry_id":    Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",
	"idempotency.created_at":  Internal + "replays of keyed writes, whose results repeat what MemberData returns; erased with the member",

	"card_changes.seq":           Internal + "the outbox's delivery order",
	"card_changes.program_id":    Exported,
	"card_changes.member_id":     Exported,
	"card_changes.version":       Exported,
	"card_changes.payload":       Exported,
	"card_changes.created_at":    Exported,
	"card_changes.claimed_until": Internal + "a dispatcher's claim on the row",

	"apple_passes.program_id":          Exported,
	"apple_passes.member_id":           Exported,
	"apple_passes.pass_type_id":        Exported,
	"apple_passes.serial":              Exported,
	"apple_passes.auth_token":          Exported,
	"apple_passes.created_at":          Exported,
	"apple_registrations.device_id":    Exported,
	"apple_registrations.pass_type_id": Exported,
	"apple_registrations.serial":       Exported,
	"apple_registrations.push_token":   Exported,
	"apple_registrations.created_at":   Exported,

	"google_passes.program_id":        Exported,
	"google_passes.member_id":         Exported,
	"google_passes.object_id":         Exported,
	"google_passes.created_at":        Exported,
	"google_passes.saved":             Exported,
	"google_passes.saved_as_of":       Internal + "orders Google's callbacks",
	"google_passes.synced_at":         Internal + "when the object was last written; what it showed is the member's account and game state",
	"google_passes.tier":              Internal + "the tier name the object showed; the game state has the member's tier",
	"google_passes.expiry_warned":     Internal + "which expiry the object last warned of; the lots have the expiries",
	"google_notifications.program_id": Internal + "counts notifying updates against Google's limit; erased with the pass",
	"google_notifications.member_id":  Internal + "counts notifying updates against Google's limit; erased with the pass",
	"google_notifications.id":         Internal + "counts notifying updates against Google's limit; erased with the pass",
	"google_notifications.at":         Internal + "counts notifying updates against Google's limit; erased with the pass",

	"game_states.program_id":    Exported,
	"game_states.member_id":     Exported,
	"game_states.state":         Exported,
	"game_states.referral_code": Exported,

	"grants.program_id": Exported,
	"grants.member_id":  Exported,
	"grants.key":        Exported,
	"grants.created_at": Exported,

	"consents.seq":          Exported,
	"consents.program_id":   Exported,
	"consents.member_id":    Exported,
	"consents.purpose":      Exported,
	"consents.granted":      Exported,
	"consents.text_version": Exported,
	"consents.source":       Exported,
	"consents.at":           Exported,

	"devices.program_id":    Exported,
	"devices.token":         Exported,
	"devices.member_id":     Exported,
	"devices.platform":      Exported,
	"devices.locale":        Exported,
	"devices.app_version":   Exported,
	"devices.time_zone":     Exported,
	"devices.registered_at": Exported,
	"devices.seen_at":       Exported,

	"push_messages.id":         Internal + "the queue's order",
	"push_messages.program_id": Exported,
	"push_messages.member_id":  Exported,
	"push_messages.kind":       Exported,
	"push_messages.key":        Internal + "de-duplicates the queue; names what the message is about, which kind, title and body say",
	"push_messages.title":      Exported,
	"push_messages.body":       Exported,
	"push_messages.data":       Exported,
	"push_messages.digest":     Internal + "a hash of kind, title and body for de-duplication",
	"push_messages.created_at": Exported,
	"push_messages.not_before": Internal + "the sender's schedule (quiet hours, caps)",
	"push_messages.expires_at": Internal + "the sender's schedule (quiet hours, caps)",
	"push_messages.state":      Exported,
	"push_messages.attempts":   Internal + "the sender's retries",
	"push_messages.sent_at":    Exported,
	"push_messages.reason":     Exported,
}

// Column is a column of a table of a store's schema.
type Column struct {
	Table, Name string
	// Type is the column's declared type (SQLite) or data type
	// (PostgreSQL), in lower case: "text", "integer", "jsonb", "bytea"…
	Type string
}

// SchemaDB is a store's database as the schema tests read it: every table,
// every column, every row.
type SchemaDB interface {
	// Columns returns every column of every table of the migrated schema.
	Columns(ctx context.Context) ([]Column, error)
	// Select returns the values of the columns of table's rows that the
	// SQL condition where selects ("" selects all). A value is nil (NULL),
	// a string (text; JSON as its text), []byte, int64, bool or time.Time.
	Select(ctx context.Context, table string, columns []string, where string) ([][]any, error)
}

// PrivacyHarness is a store under the privacy schema tests: its
// loyalty.Store and the other stores on the same database, and the
// database itself.
type PrivacyHarness struct {
	Store  loyalty.Store
	Apple  applepass.Store
	Google googlepass.Store
	Push   notify.Store
	DB     SchemaDB
}

// privacyProgram is the program the privacy tests' members are in.
const privacyProgram = "cafe-privacy"

// privacyWorld is a program with game rules and its till, and the stores a
// member gets rows in; those not given are left out.
type privacyWorld struct {
	t      testing.TB
	ctx    context.Context
	clock  *Clock
	svc    *loyalty.Service
	store  loyalty.Store
	apple  applepass.Store
	google googlepass.Store
	push   notify.Store
	till   loyalty.Till
	keys   int
}

// newPrivacyWorld seeds privacyProgram with the game rules and returns the
// world. apple, google and push may be nil; then they are taken from
// store when it implements them.
func newPrivacyWorld(t testing.TB, store loyalty.Store, clock *Clock, svc *loyalty.Service,
	apple applepass.Store, google googlepass.Store, push notify.Store) *privacyWorld {
	t.Helper()
	if apple == nil {
		apple, _ = store.(applepass.Store)
	}
	if google == nil {
		if g, ok := store.(interface{ GooglePasses() googlepass.Store }); ok {
			google = g.GooglePasses()
		}
	}
	if push == nil {
		push, _ = store.(notify.Store)
	}
	w := &privacyWorld{t: t, ctx: t.Context(), clock: clock, svc: svc, store: store, apple: apple, google: google, push: push}
	seed := DemoSeed(privacyProgram)
	r := gameRules()
	seed.Program.Rules = &r
	w.must(svc.ApplySeed(w.ctx, seed))
	var err error
	w.till, err = svc.AuthenticateTill(w.ctx, TillKey(privacyProgram))
	w.must(err)
	return w
}

// newHarnessWorld returns the world of h's stores, on a clock and Service
// of its own.
func newHarnessWorld(t testing.TB, h PrivacyHarness) *privacyWorld {
	t.Helper()
	if h.Store == nil || h.DB == nil {
		t.Fatal("storetest: PrivacyHarness needs a Store and a DB")
	}
	clock := NewClock(start)
	return newPrivacyWorld(t, h.Store, clock, loyalty.NewService(h.Store, loyalty.WithClock(clock.Now)), h.Apple, h.Google, h.Push)
}

func (w *privacyWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// key returns an idempotency key not used before. It names no member: a
// till's keys are its own, and some outlive an erasure.
func (w *privacyWorld) key() string {
	w.keys++
	return fmt.Sprint("privacy-key-", w.keys)
}

// advance moves the clock on, so that rows get times of their own.
func (w *privacyWorld) advance() { w.clock.Advance(time.Minute) }

// now returns the time the Service stamps now.
func (w *privacyWorld) now() time.Time { return w.clock.Now().UTC().Truncate(time.Microsecond) }

// personalValue is a value that identifies a member, and what it is.
type personalValue struct {
	what, value string
}

// privacyMember is a member of privacyProgram with rows in every table
// that holds member data, and the values that identify it.
type privacyMember struct {
	// Member is the member with its name and e-mail address.
	Member   loyalty.Member
	Customer loyalty.Customer
	// Redeemed and Issued are its vouchers; Hold is its active hold.
	Redeemed, Issued loyalty.Voucher
	Hold             loyalty.Hold
	Tokens           []string
	ReferralCode     string
	// MemberKeys are the idempotency keys of the member's writes;
	// EntryKeys those of the till's writes of the member's entries, and
	// TillKeys those of the till's other writes about the member.
	MemberKeys, EntryKeys, TillKeys []string
	// Personal are the values that identify the member; after its erasure
	// none may be left anywhere.
	Personal []personalValue
}

// opaque returns a value derived from uid and what, which contains neither.
func opaque(uid, what string) string {
	h := sha256.Sum256([]byte(uid + "\x00" + what))
	return hex.EncodeToString(h[:16])
}

// populate enrolls uid through the Service and gives the member a row in
// every table that holds member data: a name and e-mail address, consents,
// two devices, purchases, a redeemed and an issued voucher, a captured and
// an active hold, a game state with a referral code, a birthday and a
// challenge, grants, card changes, and, when the world has their stores, a
// push message, an Apple pass with a registration and a Google Wallet
// object with a notification.
func (w *privacyWorld) populate(uid, name, email string) privacyMember {
	w.t.Helper()
	ctx, svc := w.ctx, w.svc
	c := loyalty.Customer{ProgramID: privacyProgram, UID: uid}
	card, created, err := svc.Enroll(ctx, c, loyalty.LocaleEN)
	w.must(err)
	if !created {
		w.t.Fatalf("Enroll(%s): not created", uid)
	}
	pm := privacyMember{Customer: c}
	m := card.Member
	w.advance()
	m.Name, m.Email = name, email
	w.must(w.store.Update(ctx, func(tx loyalty.Tx) error { return tx.SaveMemberProfile(ctx, m) }))
	pm.Member = m

	for _, p := range []loyalty.Purpose{loyalty.PurposeProfile, loyalty.PurposeBirthday, loyalty.PurposeMarketingPush} {
		w.advance()
		_, err := svc.SetConsent(ctx, c, p, true, "privacy-2025-06", "app")
		w.must(err)
	}
	pm.Tokens = []string{"fcm:" + opaque(uid, "phone"), "fcm:" + opaque(uid, "tablet")}
	for i, tok := range pm.Tokens {
		w.advance()
		d := loyalty.Device{Token: tok, Platform: loyalty.PlatformIOS, Locale: loyalty.LocaleEN, AppVersion: "3.1.0", TimeZone: "Europe/Vienna"}
		if i == 1 {
			d.Platform, d.AppVersion, d.TimeZone = loyalty.PlatformAndroid, "3.2.1", ""
		}
		_, err := svc.RegisterDevice(ctx, c, d)
		w.must(err)
	}

	v, _, err := svc.ActivateChallenge(ctx, c, "three-visits")
	w.must(err)
	if v.Status != loyalty.ChallengeActive {
		w.t.Fatalf("challenge after activating: %+v", v)
	}
	for i, amount := range []int64{12_345, 6_000} {
		w.advance()
		pm.EntryKeys = append(pm.EntryKeys, w.key())
		_, err := svc.Earn(ctx, w.till, loyalty.EarnRequest{
			CardNumber: m.CardNumber, AmountMinor: amount, Currency: "EUR", IdempotencyKey: pm.EntryKeys[i],
			ReceiptID: fmt.Sprintf("receipt-%s-%d", opaque(uid, "receipt"), i),
			Lines:     []loyalty.LineItem{{SKU: "apfelkuchen", Name: "Apfelkuchen mit Sahne", Category: "kuchen", Quantity: 1, AmountMinor: amount}},
		})
		w.must(err)
	}

	memberKey := func() string {
		pm.MemberKeys = append(pm.MemberKeys, w.key())
		return pm.MemberKeys[len(pm.MemberKeys)-1]
	}
	entryKey := func() string { pm.EntryKeys = append(pm.EntryKeys, w.key()); return pm.EntryKeys[len(pm.EntryKeys)-1] }
	tillKey := func() string { pm.TillKeys = append(pm.TillKeys, w.key()); return pm.TillKeys[len(pm.TillKeys)-1] }
	w.advance()
	r, err := svc.RedeemReward(ctx, c, "keks", memberKey())
	w.must(err)
	w.advance()
	pm.Redeemed, err = svc.RedeemVoucher(ctx, w.till, r.Voucher.Code, tillKey())
	w.must(err)
	w.advance()
	r, err = svc.RedeemReward(ctx, c, "keks", memberKey())
	w.must(err)
	pm.Issued = r.Voucher

	w.advance()
	captured, err := svc.Hold(ctx, w.till, loyalty.HoldRequest{CardNumber: m.CardNumber, Points: 3, IdempotencyKey: tillKey()})
	w.must(err)
	w.advance()
	_, err = svc.Capture(ctx, w.till, captured.Hold.ID, 0, entryKey())
	w.must(err)
	w.advance()
	active, err := svc.Hold(ctx, w.till, loyalty.HoldRequest{CardNumber: m.CardNumber, Points: 5, TTL: loyalty.MaxHoldTTL, IdempotencyKey: tillKey()})
	w.must(err)
	pm.Hold = active.Hold

	w.advance()
	pm.ReferralCode, err = svc.ReferralCode(ctx, c)
	w.must(err)
	w.must(w.store.Update(ctx, func(tx loyalty.Tx) error {
		st, err := tx.GameState(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		st.Birthday = time.Date(2000, time.June, 3, 0, 0, 0, 0, time.UTC)
		st.Segments = []string{"segment-" + opaque(uid, "segment")}
		return tx.SaveGameState(ctx, st)
	}))

	pm.Personal = []personalValue{
		{"firebase uid", uid}, {"card number", m.CardNumber}, {"name", name}, {"e-mail address", email},
		{"referral code", pm.ReferralCode},
	}
	for _, tok := range pm.Tokens {
		pm.Personal = append(pm.Personal, personalValue{"device token", tok})
	}

	if w.push != nil {
		w.advance()
		now := w.now()
		msg := notify.Message{
			ProgramID: m.ProgramID, MemberID: m.ID, Kind: notify.KindPointsEarned, Key: w.key(),
			Title: loyalty.Text{DE: "Sterne gesammelt", EN: "Stars earned"},
			Body:  loyalty.Text{DE: "Danke für den Besuch, " + name, EN: "Thanks for visiting, " + name},
			Data:  map[string]string{"link": "treue://card/" + opaque(uid, "link")}, Digest: opaque(uid, "digest"),
			CreatedAt: now, NotBefore: now, ExpiresAt: now.Add(24 * time.Hour),
		}
		ok, err := w.push.Enqueue(ctx, &msg)
		w.must(err)
		if !ok {
			w.t.Fatal("Enqueue: not stored")
		}
		msg.State, msg.Attempts, msg.SentAt, msg.Reason = notify.StateSent, 1, now, "sent to 2 devices"
		w.must(w.push.SaveMessage(ctx, msg))
	}
	if w.apple != nil {
		w.advance()
		rec, err := w.apple.CreatePass(ctx, applepass.Record{
			ProgramID: m.ProgramID, MemberID: m.ID, PassTypeID: "pass.com.example.treue",
			Serial: opaque(uid, "serial"), AuthToken: opaque(uid, "auth") + opaque(uid, "token"), CreatedAt: w.now(),
		})
		w.must(err)
		w.advance()
		reg := applepass.Registration{
			DeviceID: opaque(uid, "apple device"), PassTypeID: rec.PassTypeID, Serial: rec.Serial,
			PushToken: opaque(uid, "apns") + opaque(uid, "apns2"), CreatedAt: w.now(),
		}
		_, err = w.apple.Register(ctx, reg)
		w.must(err)
		pm.Personal = append(pm.Personal,
			personalValue{"apple serial", rec.Serial}, personalValue{"apple auth token", rec.AuthToken},
			personalValue{"apple device id", reg.DeviceID}, personalValue{"apple push token", reg.PushToken})
	}
	if w.google != nil {
		w.advance()
		// The object id names the program and the member id, the
		// pseudonym, and nothing else; it still goes with the pass.
		p, err := w.google.CreatePass(ctx, googlepass.Pass{
			ProgramID: m.ProgramID, MemberID: m.ID, ObjectID: googlepass.ObjectID("3388000000022334455", m.ProgramID, m.ID), CreatedAt: w.now(),
		})
		w.must(err)
		w.advance()
		_, _, err = w.google.SetSaved(ctx, p.ObjectID, true, w.now().Add(time.Hour))
		w.must(err)
		w.must(w.google.MarkSynced(ctx, m.ProgramID, m.ID, w.now(), "Silber", w.now().Add(90*24*time.Hour)))
		_, err = w.google.ReserveNotification(ctx, m.ProgramID, m.ID, w.now(), 24*time.Hour, 3)
		w.must(err)
		pm.Personal = append(pm.Personal, personalValue{"google object id", p.ObjectID})
	}
	return pm
}

// erase erases the member as the Service does: in one transaction it voids
// the issued vouchers, releases the active holds and calls EraseMember.
func (w *privacyWorld) erase(m loyalty.Member) loyalty.ErasedData {
	w.t.Helper()
	out, err := w.tryErase(m)
	w.must(err)
	return out
}

// tryErase is erase returning its error; it may run on any goroutine.
func (w *privacyWorld) tryErase(m loyalty.Member) (loyalty.ErasedData, error) {
	var out loyalty.ErasedData
	now := w.now()
	err := w.store.Update(w.ctx, func(tx loyalty.Tx) error {
		if _, err := tx.Account(w.ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		vs, err := tx.Vouchers(w.ctx, m.ProgramID, m.ID, maxRead)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.Status == loyalty.VoucherIssued {
				v.Status = loyalty.VoucherVoided
				if err := tx.SaveVoucherRedemption(w.ctx, v); err != nil {
					return err
				}
			}
		}
		hs, err := tx.ActiveHolds(w.ctx, m.ProgramID, m.ID, now)
		if err != nil {
			return err
		}
		for _, h := range hs {
			h.Status, h.ClosedAt = loyalty.HoldReleased, now
			if err := tx.SaveHold(w.ctx, h); err != nil {
				return err
			}
		}
		out, err = tx.EraseMember(w.ctx, m.ProgramID, m.ID, now)
		return err
	})
	return out, err
}

// memberData reads the member's MemberData in a View.
func (w *privacyWorld) memberData(m loyalty.Member) loyalty.MemberData {
	w.t.Helper()
	var d loyalty.MemberData
	w.must(w.store.View(w.ctx, func(tx loyalty.Tx) (err error) {
		d, err = tx.MemberData(w.ctx, m.ProgramID, m.ID)
		return err
	}))
	return d
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// memberWhere returns the SQL condition that selects the member's rows of
// table, whose columns are cols, and whether the table has rows about
// members.
func memberWhere(table string, cols []string, programID, memberID string) (string, bool) {
	p, m := quote(programID), quote(memberID)
	switch {
	case table == "members":
		return "program_id = " + p + " AND id = " + m, true
	case table == "apple_registrations":
		return "(pass_type_id, serial) IN (SELECT pass_type_id, serial FROM apple_passes WHERE program_id = " + p + " AND member_id = " + m + ")", true
	case table == "idempotency":
		return "program_id = " + p + " AND (caller = " + quote("member:"+memberID) +
			" OR entry_id IN (SELECT id FROM entries WHERE program_id = " + p + " AND member_id = " + m + "))", true
	case slices.Contains(cols, "member_id"):
		return "program_id = " + p + " AND member_id = " + m, true
	}
	return "", false
}

// tables returns db's columns by table, tables in name order.
func tables(ctx context.Context, db SchemaDB) (map[string][]Column, []string, error) {
	cols, err := db.Columns(ctx)
	if err != nil {
		return nil, nil, err
	}
	byTable := map[string][]Column{}
	for _, c := range cols {
		byTable[c.Table] = append(byTable[c.Table], c)
	}
	names := make([]string, 0, len(byTable))
	for name := range byTable {
		names = append(names, name)
	}
	slices.Sort(names)
	return byTable, names, nil
}

// columnNames returns the names of cols.
func columnNames(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// checkClassified returns a problem for every column of the schema that
// ColumnClasses misses or classifies with something else than its
// classes.
func checkClassified(ctx context.Context, db SchemaDB) ([]string, error) {
	byTable, names, err := tables(ctx, db)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, table := range names {
		for _, c := range byTable[table] {
			key := table + "." + c.Name
			class, ok := ColumnClasses[key]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("column %s is not classified: add it to storetest.ColumnClasses as %q "+
					"(and return it from MemberData, so that the export shows it) or as %q/%q with the reason", key, Exported, Internal+"…", NotMemberData+"…"))
			case class != Exported && !(strings.HasPrefix(class, Internal) && len(class) > len(Internal)) &&
				!(strings.HasPrefix(class, NotMemberData) && len(class) > len(NotMemberData)):
				problems = append(problems, fmt.Sprintf("column %s is classified %q: want %q, or %q or %q followed by the reason", key, class, Exported, Internal, NotMemberData))
			}
		}
	}
	return problems, nil
}

// isTimeColumn reports whether a column of SQLite's schema, which keeps
// times as INTEGER microseconds, holds a time.
func isTimeColumn(name string) bool {
	return name == "at" || name == "until" || name == "expiry_warned" || name == "saved_as_of" || name == "claimed_until" ||
		strings.HasSuffix(name, "_at")
}

// dumpOf returns the text MemberData's values are looked up in: d as JSON,
// with its card changes' payloads as JSON documents rather than bytes, and
// as fmt prints it (for fields JSON leaves out, such as the referral code).
func dumpOf(d loyalty.MemberData) (string, error) {
	doc := struct {
		loyalty.MemberData
		Payloads []any
	}{MemberData: d}
	for _, c := range d.CardChanges {
		var v any
		if err := json.Unmarshal(c.Payload, &v); err != nil {
			return "", fmt.Errorf("card change %d: payload: %w", c.Version, err)
		}
		doc.Payloads = append(doc.Payloads, v)
	}
	j, err := encodeJSON(doc)
	return j + fmt.Sprintf("%+v", d), err
}

// encodeJSON returns v as JSON without escaping HTML characters.
func encodeJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// textsOf returns the strings to look up for a stored text: the strings
// of a JSON document, or the text itself.
func textsOf(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var doc any
	if (s[0] == '{' || s[0] == '[' || s[0] == '"') && json.Unmarshal([]byte(s), &doc) == nil {
		var out []string
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if v != "" {
					out = append(out, v)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(doc)
		return out
	}
	return []string{s}
}

// inDump reports whether the string s is in the dump of MemberData.
func inDump(dump, s string) bool {
	enc, err := encodeJSON(s)
	if err != nil {
		return false
	}
	enc = strings.TrimSuffix(enc, "\n")
	return strings.Contains(dump, enc[1:len(enc)-1])
}

// checkCovered returns a problem for every value of an exported column of
// the member's rows that d lacks: a text (each string of a JSON text) must
// be in d's JSON, a time and a number that is not zero too (in JSON's
// form). It also returns a problem for a table with exported columns but
// no rows for the member, so that a populated member covers every table.
func checkCovered(ctx context.Context, db SchemaDB, d loyalty.MemberData) ([]string, error) {
	byTable, names, err := tables(ctx, db)
	if err != nil {
		return nil, err
	}
	dump, err := dumpOf(d)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, table := range names {
		var exported []Column
		for _, c := range byTable[table] {
			if ColumnClasses[table+"."+c.Name] == Exported {
				exported = append(exported, c)
			}
		}
		if len(exported) == 0 {
			continue
		}
		where, ok := memberWhere(table, columnNames(byTable[table]), d.Member.ProgramID, d.Member.ID)
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s has exported columns but no member_id: teach storetest's memberWhere which rows are a member's", table))
			continue
		}
		rows, err := db.Select(ctx, table, columnNames(exported), where)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		if len(rows) == 0 {
			problems = append(problems, fmt.Sprintf("table %s has no rows of the populated member: give the member one in storetest's populate", table))
		}
		for _, row := range rows {
			for i, v := range row {
				c := exported[i]
				if missing := missingValue(dump, c, v); missing != "" {
					problems = append(problems, fmt.Sprintf("%s.%s: the member's value %s is not in MemberData: return it from MemberData "+
						"(and show it in the export), or classify the column as internal in storetest.ColumnClasses", table, c.Name, missing))
				}
			}
		}
	}
	return problems, nil
}

// missingValue returns v, a value of column c, as text when it is not in
// the dump of MemberData, and "" when it is or cannot be looked up.
func missingValue(dump string, c Column, v any) string {
	switch v := v.(type) {
	case string:
		for _, s := range textsOf(v) {
			if !inDump(dump, s) {
				return strconv.Quote(s)
			}
		}
	case []byte:
		return missingValue(dump, c, string(v))
	case int64:
		if v == 0 {
			return ""
		}
		if isTimeColumn(c.Name) {
			return missingValue(dump, c, time.UnixMicro(v))
		}
		if !strings.Contains(dump, strconv.FormatInt(v, 10)) {
			return strconv.FormatInt(v, 10)
		}
	case time.Time:
		if v.IsZero() {
			return ""
		}
		enc, _ := encodeJSON(v.UTC())
		if !strings.Contains(dump, strings.TrimSpace(enc)) {
			return strings.TrimSpace(enc)
		}
	}
	return ""
}

// textColumns returns the columns of cols that hold text or bytes.
func textColumns(cols []Column) []Column {
	var out []Column
	for _, c := range cols {
		switch t := c.Type; {
		case strings.Contains(t, "text"), strings.Contains(t, "char"), strings.Contains(t, "json"),
			strings.Contains(t, "blob"), t == "bytea":
			out = append(out, c)
		}
	}
	return out
}

// findValues returns, for each value, where in db's text and byte columns
// it occurs ("table.column"), in any row.
func findValues(ctx context.Context, db SchemaDB, values []personalValue) (map[string][]string, error) {
	byTable, names, err := tables(ctx, db)
	if err != nil {
		return nil, err
	}
	found := map[string][]string{}
	for _, table := range names {
		cols := textColumns(byTable[table])
		if len(cols) == 0 {
			continue
		}
		rows, err := db.Select(ctx, table, columnNames(cols), "")
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		for _, row := range rows {
			for i, v := range row {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					continue
				}
				for _, pv := range values {
					where := table + "." + cols[i].Name
					if strings.Contains(s, pv.value) && !slices.Contains(found[pv.value], where) {
						found[pv.value] = append(found[pv.value], where)
					}
				}
			}
		}
	}
	return found, nil
}

// balanceSum returns the sum of the balances of the program's accounts.
func balanceSum(ctx context.Context, db SchemaDB, programID string) (int64, error) {
	rows, err := db.Select(ctx, "accounts", []string{"balance"}, "program_id = "+quote(programID))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, r := range rows {
		b, ok := r[0].(int64)
		if !ok {
			return 0, fmt.Errorf("accounts.balance is a %T", r[0])
		}
		sum += b
	}
	return sum, nil
}

// MemberDataCoversEveryColumn checks that ColumnClasses classifies every
// column of h's schema and that MemberData of a member with rows in every
// table returns every value of the exported columns. It then checks that
// the check can fail: MemberData without the devices, the e-mail address
// and the wallet passes misses them.
func MemberDataCoversEveryColumn(t *testing.T, h PrivacyHarness) {
	ctx := t.Context()
	problems, err := checkClassified(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	w := newHarnessWorld(t, h)
	if w.apple == nil || w.google == nil || w.push == nil {
		t.Fatal("storetest: MemberDataCoversEveryColumn needs the Apple, Google and push stores")
	}
	pm := w.populate("uid-"+opaque("coverage", "uid"), "Erika Mustermann-Lüdenscheidt", "erika.m+treue@example.org")
	other := w.populate("uid-"+opaque("coverage", "other"), "Karl Keller", "karl@example.net")
	d := w.memberData(pm.Member)
	problems, err = checkCovered(ctx, h.DB, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}

	// The check fails when MemberData leaves out what it should return, or
	// returns another member's rows instead.
	cut := d
	cut.Devices, cut.WalletPasses = nil, nil
	cut.Member.Email = ""
	problems, err = checkCovered(ctx, h.DB, cut)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"devices.token", "members.email", "apple_passes.auth_token", "apple_registrations.push_token", "google_passes.object_id"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, want+":") }) {
			t.Errorf("MemberData without devices, e-mail address and wallet passes: no problem reported for %s; got %q", want, problems)
		}
	}
	problems, err = checkCovered(ctx, h.DB, w.memberData(other.Member))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the other member's MemberData: %q", problems)
	}
	wrong := w.memberData(other.Member)
	wrong.Member = d.Member
	if problems, err := checkCovered(ctx, h.DB, wrong); err != nil || len(problems) == 0 {
		t.Errorf("the other member's rows under the member: problems %q, %v; want some", problems, err)
	}
}

// EraseLeavesNoPersonalValues populates two members, erases one and checks
// that none of its identifying values is left in any text or byte column
// of any table, while every one of the other member's still is, and that
// the program's points add up as before.
func EraseLeavesNoPersonalValues(t *testing.T, h PrivacyHarness) {
	ctx := t.Context()
	w := newHarnessWorld(t, h)
	if w.apple == nil || w.google == nil || w.push == nil {
		t.Fatal("storetest: EraseLeavesNoPersonalValues needs the Apple, Google and push stores")
	}
	gone := w.populate("uid-"+opaque("erase", "gone"), "Erika Gelöscht", "erika.geloescht@example.org")
	kept := w.populate("uid-"+opaque("erase", "kept"), "Karl Behalten", "karl.behalten@example.net")
	before, err := balanceSum(ctx, h.DB, privacyProgram)
	if err != nil {
		t.Fatal(err)
	}
	found, err := findValues(ctx, h.DB, append(slices.Clone(gone.Personal), kept.Personal...))
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range append(slices.Clone(gone.Personal), kept.Personal...) {
		if len(found[pv.value]) == 0 {
			t.Fatalf("before the erasure: %s %q is in no column; the scan cannot work", pv.what, pv.value)
		}
	}

	w.advance()
	erased := w.erase(gone.Member)
	if len(erased.Devices) != 2 || erased.ApplePasses != 1 || erased.GoogleObjectID == "" {
		t.Errorf("EraseMember = %+v, want 2 devices, 1 Apple pass and the Google object", erased)
	}

	found, err = findValues(ctx, h.DB, append(slices.Clone(gone.Personal), kept.Personal...))
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range gone.Personal {
		if where := found[pv.value]; len(where) > 0 {
			t.Errorf("after the erasure the member's %s %q is still in %v", pv.what, pv.value, where)
		}
	}
	for _, pv := range kept.Personal {
		if len(found[pv.value]) == 0 {
			t.Errorf("after erasing another member, the kept member's %s %q is gone", pv.what, pv.value)
		}
	}
	// Of the member's rows only the membership, the ledger and what it
	// refers to are left.
	byTable, names, err := tables(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	ledger := []string{"members", "accounts", "entries", "lots", "lot_uses", "purchases", "vouchers", "holds"}
	for _, table := range names {
		where, ok := memberWhere(table, columnNames(byTable[table]), gone.Member.ProgramID, gone.Member.ID)
		if !ok {
			continue
		}
		rows, err := h.DB.Select(ctx, table, columnNames(byTable[table][:1]), where)
		if err != nil {
			t.Fatal(err)
		}
		if left := len(rows) > 0; left != slices.Contains(ledger, table) {
			t.Errorf("after the erasure the member has %d rows in %s; want rows only in %v", len(rows), table, ledger)
		}
	}
	after, err := balanceSum(ctx, h.DB, privacyProgram)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("sum of the program's balances: %d after the erasure, %d before", after, before)
	}
}
