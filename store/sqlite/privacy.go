package sqlite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/treue/treue/loyalty"
)

// MemberData returns every row the store holds about the member, each list
// oldest first. It returns ErrNotFound for an unknown member. Write
// transactions hold the database's write lock from their start, and View's
// see one snapshot, so the rows are read at one point in time.
func (t *tx) MemberData(ctx context.Context, programID, memberID string) (loyalty.MemberData, error) {
	m, err := t.MemberByID(ctx, programID, memberID)
	if err != nil {
		return loyalty.MemberData{}, err
	}
	d := loyalty.MemberData{Member: m}
	if d.Account, err = t.Account(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	sctx := stmtContext(ctx)
	what := func(table string) string { return table + " of member " + memberID }
	rows, err := t.tx.QueryContext(sctx, "SELECT "+entryColumns+" FROM entries WHERE program_id = ? AND member_id = ? ORDER BY id",
		programID, memberID)
	if err != nil {
		return loyalty.MemberData{}, fmt.Errorf("sqlite: read %s: %w", what("entries"), err)
	}
	if d.Entries, err = scanEntries(rows, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.Purchases, err = collectRows(sctx, t, what("purchases"), scanPurchase, "SELECT "+purchaseColumns+
		" FROM purchases WHERE program_id = ? AND member_id = ? ORDER BY created_at, id", programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	rows, err = t.tx.QueryContext(sctx, "SELECT "+lotColumns+" FROM lots WHERE program_id = ? AND member_id = ? ORDER BY id",
		programID, memberID)
	if err != nil {
		return loyalty.MemberData{}, fmt.Errorf("sqlite: read %s: %w", what("lots"), err)
	}
	if d.Lots, err = scanLots(rows, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	// rowid orders vouchers issued in the same microsecond, as in Vouchers.
	if d.Vouchers, err = collectRows(sctx, t, what("vouchers"), scanVoucher, "SELECT "+voucherColumns+
		" FROM vouchers WHERE program_id = ? AND member_id = ? ORDER BY issued_at, rowid", programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.Holds, err = collectRows(sctx, t, what("holds"), scanHold, "SELECT "+holdColumns+
		" FROM holds WHERE program_id = ? AND member_id = ? ORDER BY created_at, id", programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.GameState, err = t.GameState(ctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.Grants, err = collectRows(sctx, t, what("grants"), func(row interface{ Scan(...any) error }) (loyalty.GrantRecord, error) {
		g := loyalty.GrantRecord{ProgramID: programID, MemberID: memberID}
		var created int64
		err := row.Scan(&g.Key, &created)
		g.CreatedAt = fromMicros(created)
		return g, err
	}, "SELECT key, created_at FROM grants WHERE program_id = ? AND member_id = ? ORDER BY created_at, key", programID, memberID); err != nil {
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
	if d.Pushes, err = collectRows(sctx, t, what("push messages"), scanPushRecord, "SELECT "+messageColumns+
		" FROM push_messages WHERE program_id = ? AND member_id = ? ORDER BY id", programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.WalletPasses, err = t.walletPasses(sctx, programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	if d.CardChanges, err = collectRows(sctx, t, what("card changes"), func(row interface{ Scan(...any) error }) (loyalty.CardChangeRecord, error) {
		var (
			c       loyalty.CardChangeRecord
			created int64
		)
		err := row.Scan(&c.Version, &c.Payload, &created)
		c.CreatedAt = fromMicros(created)
		return c, err
	}, "SELECT version, payload, created_at FROM card_changes WHERE program_id = ? AND member_id = ? ORDER BY seq", programID, memberID); err != nil {
		return loyalty.MemberData{}, err
	}
	return d, nil
}

// scanPushRecord scans a push_messages row of messageColumns as the
// member's record of it.
func scanPushRecord(row interface{ Scan(...any) error }) (loyalty.PushRecord, error) {
	m, err := scanMessage(row)
	if err != nil {
		return loyalty.PushRecord{}, err
	}
	return loyalty.PushRecord{
		Kind: string(m.Kind), Title: m.Title, Body: m.Body, Data: m.Data, CreatedAt: m.CreatedAt,
		State: string(m.State), SentAt: m.SentAt, Reason: m.Reason,
	}, nil
}

// walletPasses returns the member's Apple passes, with their registrations,
// and Google Wallet object, oldest first.
func (t *tx) walletPasses(ctx context.Context, programID, memberID string) ([]loyalty.WalletPass, error) {
	apple, err := collectRows(ctx, t, "apple passes of member "+memberID, scanPass,
		passQuery+" WHERE p.program_id = ? AND p.member_id = ? ORDER BY p.created_at, p.pass_type_id", programID, memberID)
	if err != nil {
		return nil, err
	}
	var out []loyalty.WalletPass
	for _, r := range apple {
		regs, err := registrations(ctx, t.tx, r.PassTypeID, r.Serial)
		if err != nil {
			return nil, err
		}
		p := loyalty.WalletPass{Kind: loyalty.WalletApple, ID: r.PassTypeID + "/" + r.Serial, CreatedAt: r.CreatedAt, AuthToken: r.AuthToken}
		for _, g := range regs {
			p.Registrations = append(p.Registrations, loyalty.WalletRegistration{DeviceID: g.DeviceID, PushToken: g.PushToken, CreatedAt: g.CreatedAt})
		}
		out = append(out, p)
	}
	g, err := googlePass(ctx, t.tx, "google pass of member "+memberID, "program_id = ? AND member_id = ?", programID, memberID)
	switch {
	case err == nil:
		out = append(out, loyalty.WalletPass{Kind: loyalty.WalletGoogle, ID: g.ObjectID, CreatedAt: g.CreatedAt, Saved: g.Saved})
	case !errors.Is(err, loyalty.ErrNotFound):
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b loyalty.WalletPass) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// collectRows runs query in t and returns its rows, each scanned with scan;
// errors are described by what.
func collectRows[T any](ctx context.Context, t *tx, what string, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	return out, nil
}

// SaveMemberProfile writes m's Name and Email. It returns ErrNotFound when
// the member does not exist or was erased.
func (t *tx) SaveMemberProfile(ctx context.Context, m loyalty.Member) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), "UPDATE members SET name = ?, email = ? WHERE program_id = ? AND id = ? AND erased_at IS NULL",
		m.Name, m.Email, m.ProgramID, m.ID)
	if err != nil {
		return fmt.Errorf("sqlite: write profile of member %s: %w", m.ID, err)
	}
	return mustAffect(res, "member "+m.ID+" of program "+m.ProgramID)
}

// EraseMember removes the member's personal data (see
// loyalty.PrivacyStore) and returns what it removed; for an erased member it
// does nothing. It returns ErrNotFound for an unknown member. The writer's
// transactions run one at a time, so no write for the member can come
// between its statements.
func (t *tx) EraseMember(ctx context.Context, programID, memberID string, at time.Time) (loyalty.ErasedData, error) {
	m, err := t.MemberByID(ctx, programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, err
	}
	if !m.ErasedAt.IsZero() {
		return loyalty.ErasedData{}, nil
	}
	var out loyalty.ErasedData
	sctx := stmtContext(ctx)
	token := func(row interface{ Scan(...any) error }) (string, error) {
		var s string
		err := row.Scan(&s)
		return s, err
	}
	if out.Devices, err = collectRows(sctx, t, "devices of member "+memberID, token,
		"DELETE FROM devices WHERE program_id = ? AND member_id = ? RETURNING token", programID, memberID); err != nil {
		return loyalty.ErasedData{}, err
	}
	// RETURNING yields the rows in no particular order.
	slices.Sort(out.Devices)
	// Deleting the pass cascades to its notifications.
	objects, err := collectRows(sctx, t, "google pass of member "+memberID, token,
		"DELETE FROM google_passes WHERE program_id = ? AND member_id = ? RETURNING object_id", programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, err
	}
	if len(objects) > 0 {
		out.GoogleObjectID = objects[0]
	}
	exec := func(what, query string, args ...any) (int64, error) {
		res, err := t.tx.ExecContext(sctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: erase %s of member %s: %w", what, memberID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sqlite: erase %s of member %s: %w", what, memberID, err)
		}
		return n, nil
	}
	// The records of the member's keyed writes and of the tills' writes of
	// the member's entries: their stored results may hold the card number.
	if _, err := exec("idempotency records", `DELETE FROM idempotency WHERE program_id = ?1
		AND (caller = ?3 OR entry_id IN (SELECT id FROM entries WHERE program_id = ?1 AND member_id = ?2))`,
		programID, memberID, "member:"+memberID); err != nil {
		return loyalty.ErasedData{}, err
	}
	for _, table := range []string{"consents", "push_messages", "game_states", "grants", "card_changes"} {
		if _, err := exec(table, "DELETE FROM "+table+" WHERE program_id = ? AND member_id = ?", programID, memberID); err != nil {
			return loyalty.ErasedData{}, err
		}
	}
	// Deleting a pass cascades to its registrations.
	n, err := exec("apple passes", "DELETE FROM apple_passes WHERE program_id = ? AND member_id = ?", programID, memberID)
	if err != nil {
		return loyalty.ErasedData{}, err
	}
	out.ApplePasses = int(n)
	// The pseudonyms: the sign-in id "erased:<id>" is unique in the program,
	// as the id is; card numbers are unique across programs and ids only
	// within one, so the card number is "erased:<program id>:<id>". Neither
	// is anything a till can send (a card number is 16 digits).
	if _, err := exec("member", `UPDATE members SET firebase_uid = 'erased:' || id, card_number = 'erased:' || program_id || ':' || id,
		name = '', email = '', locale = '', erased_at = ? WHERE program_id = ? AND id = ?`, micros(at), programID, memberID); err != nil {
		return loyalty.ErasedData{}, err
	}
	return out, nil
}
