package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// MemberData returns every row the store holds about the member, each list
// oldest first. It returns ErrNotFound for an unknown member. In View it
// reads one snapshot; in Update it locks what Account, GameState, Consents
// and Devices lock.
func (t *tx) MemberData(ctx context.Context, programID, memberID string) (loyalty.MemberData, error) {
	m, err := t.MemberByID(ctx, programID, memberID)
	if err != nil {
		return loyalty.MemberData{}, err
	}
	d := loyalty.MemberData{Member: m}
	if d.Account, err = t.Account(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	read := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: read %s of member %s: %w", what, memberID, err)
		}
		return nil
	}
	const member = " WHERE program_id = $1 AND member_id = $2"
	d.Entries, err = collect(ctx, t, entryScanner(programID, memberID), "SELECT "+entryColumns+" FROM entries"+member+" ORDER BY id",
		programID, memberID)
	if err := read("entries", err); err != nil {
		return loyalty.MemberData{}, err
	}
	d.Purchases, err = collect(ctx, t, scanPurchase, "SELECT "+purchaseColumns+" FROM purchases"+member+" ORDER BY created_at, id",
		programID, memberID)
	if err := read("purchases", err); err != nil {
		return loyalty.MemberData{}, err
	}
	d.Lots, err = collect(ctx, t, lotScanner(programID, memberID), "SELECT "+lotColumns+" FROM lots"+member+" ORDER BY id",
		programID, memberID)
	if err := read("lots", err); err != nil {
		return loyalty.MemberData{}, err
	}
	// seq orders vouchers issued in the same microsecond, as in Vouchers.
	d.Vouchers, err = collect(ctx, t, scanVoucher, "SELECT "+voucherColumns+" FROM vouchers"+member+" ORDER BY issued_at, seq",
		programID, memberID)
	if err := read("vouchers", err); err != nil {
		return loyalty.MemberData{}, err
	}
	d.Holds, err = collect(ctx, t, scanHold, "SELECT "+holdColumns+" FROM holds"+member+" ORDER BY created_at, id",
		programID, memberID)
	if err := read("holds", err); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.GameState, err = t.GameState(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	d.Grants, err = collect(ctx, t, func(row pgx.Row) (loyalty.GrantRecord, error) {
		g := loyalty.GrantRecord{ProgramID: programID, MemberID: memberID}
		err := row.Scan(&g.Key, &g.CreatedAt)
		g.CreatedAt = g.CreatedAt.UTC()
		return g, err
	}, "SELECT key, created_at FROM grants"+member+" ORDER BY created_at, key", programID, memberID)
	if err := read("grants", err); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.Consents, err = t.Consents(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.Devices, err = t.Devices(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	// Devices lists the most recently seen first; an export lists in the
	// order the rows were made.
	slices.SortStableFunc(d.Devices, func(a, b loyalty.Device) int {
		return cmp.Or(a.RegisteredAt.Compare(b.RegisteredAt), cmp.Compare(a.Token, b.Token))
	})
	d.Pushes, err = collect(ctx, t, func(row pgx.Row) (loyalty.PushRecord, error) {
		m, err := scanMessage(row)
		if err != nil {
			return loyalty.PushRecord{}, err
		}
		return loyalty.PushRecord{
			Kind: string(m.Kind), Title: m.Title, Body: m.Body, Data: m.Data, CreatedAt: m.CreatedAt,
			State: string(m.State), SentAt: m.SentAt, Reason: m.Reason,
		}, nil
	}, "SELECT "+messageColumns+" FROM push_messages"+member+" ORDER BY id", programID, memberID)
	if err := read("push messages", err); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.WalletPasses, err = t.walletPasses(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	d.CardChanges, err = collect(ctx, t, func(row pgx.Row) (loyalty.CardChangeRecord, error) {
		var c loyalty.CardChangeRecord
		err := row.Scan(&c.Version, &c.Payload, &c.CreatedAt)
		c.CreatedAt = c.CreatedAt.UTC()
		return c, err
	}, "SELECT version, payload, created_at FROM card_changes"+member+" ORDER BY seq", programID, memberID)
	if err := read("card changes", err); err != nil {
		return loyalty.MemberData{}, err
	}
	return d, nil
}

// walletPasses returns the member's Apple passes, with their registrations,
// and Google Wallet object, oldest first.
func (t *tx) walletPasses(ctx context.Context, programID, memberID string) ([]loyalty.WalletPass, error) {
	apple, err := collect(ctx, t, scanPass,
		passQuery+" WHERE p.program_id = $1 AND p.member_id = $2 ORDER BY p.created_at, p.pass_type_id", programID, memberID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read apple passes of member %s: %w", memberID, err)
	}
	var out []loyalty.WalletPass
	for _, r := range apple {
		regs, err := registrations(ctx, t.tx, r.PassTypeID, r.Serial)
		if err != nil {
			return nil, t.note(err)
		}
		p := loyalty.WalletPass{Kind: loyalty.WalletApple, ID: r.PassTypeID + "/" + r.Serial, CreatedAt: r.CreatedAt, AuthToken: r.AuthToken}
		for _, g := range regs {
			p.Registrations = append(p.Registrations, loyalty.WalletRegistration{DeviceID: g.DeviceID, PushToken: g.PushToken, CreatedAt: g.CreatedAt})
		}
		out = append(out, p)
	}
	g, err := t.readGooglePass(ctx, "google pass of member "+memberID, "program_id = $1 AND member_id = $2", programID, memberID)
	switch {
	case err == nil:
		out = append(out, loyalty.WalletPass{Kind: loyalty.WalletGoogle, ID: g.ObjectID, CreatedAt: g.CreatedAt, Saved: g.Saved})
	case !errors.Is(err, loyalty.ErrNotFound):
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b loyalty.WalletPass) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// SaveMemberProfile writes m's Name and Email. It returns ErrNotFound when
// the member does not exist or was erased.
func (t *tx) SaveMemberProfile(ctx context.Context, m loyalty.Member) error {
	tag, err := t.exec(ctx, "UPDATE members SET name = $3, email = $4 WHERE program_id = $1 AND id = $2 AND erased_at IS NULL",
		m.ProgramID, m.ID, m.Name, m.Email)
	if err != nil {
		return fmt.Errorf("postgres: write profile of member %s: %w", m.ID, err)
	}
	return mustAffect(tag, "member "+m.ID+" of program "+m.ProgramID)
}

// EraseMember removes the member's personal data (see
// loyalty.PrivacyStore) and returns what it removed; for an erased member it
// does nothing. It returns ErrNotFound for an unknown member.
//
// It first takes the locks of the member's consents and devices, as
// changes of them do, then locks the member's row: a registration or
// consent change that got its lock first commits before the erasure
// deletes, and one that waits for it finds the member erased (PutDevice
// and AppendConsent store nothing for an erased member), so none slips in
// after the erasure. Concurrent erasures run one after the other, and the
// second does nothing.
func (t *tx) EraseMember(ctx context.Context, programID, memberID string, at time.Time) (loyalty.ErasedData, error) {
	for _, kind := range []string{"consents", "devices"} {
		if err := t.lockMember(ctx, kind, programID, memberID); err != nil {
			return loyalty.ErasedData{}, err
		}
	}
	m, err := t.member(ctx, "member "+memberID+" of program "+programID,
		"SELECT "+memberColumns+" FROM members WHERE program_id = $1 AND id = $2"+t.forUpdate(), programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, err
	}
	if !m.ErasedAt.IsZero() {
		return loyalty.ErasedData{}, nil
	}
	var out loyalty.ErasedData
	erase := func(what, query string, args ...any) (int64, error) {
		tag, err := t.exec(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("postgres: erase %s of member %s: %w", what, memberID, err)
		}
		return tag.RowsAffected(), nil
	}
	text := func(row pgx.Row) (string, error) {
		var s string
		err := row.Scan(&s)
		return s, err
	}
	tokens, err := collect(ctx, t, text,
		"DELETE FROM devices WHERE program_id = $1 AND member_id = $2 RETURNING token", programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, fmt.Errorf("postgres: erase devices of member %s: %w", memberID, err)
	}
	// RETURNING yields the rows in no particular order.
	slices.Sort(tokens)
	out.Devices = tokens
	objects, err := collect(ctx, t, text,
		"DELETE FROM google_passes WHERE program_id = $1 AND member_id = $2 RETURNING object_id", programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, fmt.Errorf("postgres: erase google pass of member %s: %w", memberID, err)
	}
	if len(objects) > 0 {
		out.GoogleObjectID = objects[0]
	}
	// The records of the member's keyed writes and of the tills' writes of
	// the member's entries: their stored results may hold the card number.
	if _, err := erase("idempotency records", `DELETE FROM idempotency WHERE program_id = $1
		AND (caller = $3 OR entry_id IN (SELECT id FROM entries WHERE program_id = $1 AND member_id = $2))`,
		programID, memberID, "member:"+memberID); err != nil {
		return loyalty.ErasedData{}, err
	}
	// google_notifications went with google_passes (ON DELETE CASCADE).
	for _, table := range []string{"consents", "push_messages", "game_states", "grants", "card_changes"} {
		if _, err := erase(table, "DELETE FROM "+table+" WHERE program_id = $1 AND member_id = $2", programID, memberID); err != nil {
			return loyalty.ErasedData{}, err
		}
	}
	// Deleting a pass cascades to its registrations.
	n, err := erase("apple passes", "DELETE FROM apple_passes WHERE program_id = $1 AND member_id = $2", programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, err
	}
	out.ApplePasses = int(n)
	// The pseudonyms: the sign-in id "erased:<id>" is unique in the program,
	// as the id is; card numbers are unique across programs and ids only
	// within one, so the card number is "erased:<program id>:<id>". Neither
	// is anything a till can send (a card number is 16 digits).
	if _, err := erase("member", `UPDATE members SET firebase_uid = 'erased:' || id, card_number = 'erased:' || program_id || ':' || id,
		name = '', email = '', locale = '', erased_at = $3 WHERE program_id = $1 AND id = $2`, programID, memberID, at); err != nil {
		return loyalty.ErasedData{}, err
	}
	return out, nil
}
