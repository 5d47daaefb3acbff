package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/treue/treue/loyalty"
)

// AppendEntry writes e and sets e.ID to the id the database assigned, which
// is larger than every id before it. It takes e.Uses from their lots and
// records them; a use that takes more than its lot has left fails, and with
// it the transaction.
func (t *tx) AppendEntry(ctx context.Context, e *loyalty.Entry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("sqlite: encode entry detail: %w", err)
	}
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO entries
		(program_id, member_id, kind, points, balance_after, version, created_at, purchase_id, reward_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ProgramID, e.MemberID, string(e.Kind), e.Points, e.BalanceAfter, e.Version, micros(e.CreatedAt),
		e.PurchaseID, e.RewardID, string(detail))
	if err != nil {
		return fmt.Errorf("sqlite: append entry for member %s: %w", e.MemberID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: append entry for member %s: %w", e.MemberID, err)
	}
	e.ID = id
	for _, u := range e.Uses {
		if err := t.useLot(ctx, e, u); err != nil {
			return err
		}
	}
	return nil
}

// useLot takes u's points from its lot for entry e and records the use.
func (t *tx) useLot(ctx context.Context, e *loyalty.Entry, u loyalty.LotUse) error {
	if u.Points <= 0 {
		return fmt.Errorf("sqlite: entry %d takes %d points from lot %d: want a positive number", e.ID, u.Points, u.LotID)
	}
	res, err := t.tx.ExecContext(stmtContext(ctx), `UPDATE lots SET remaining = remaining - ?1
		WHERE program_id = ?2 AND member_id = ?3 AND id = ?4 AND remaining >= ?1`,
		u.Points, e.ProgramID, e.MemberID, u.LotID)
	if err != nil {
		return fmt.Errorf("sqlite: take %d points from lot %d: %w", u.Points, u.LotID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: take %d points from lot %d: %w", u.Points, u.LotID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: entry %d takes %d points from lot %d of member %s, which has fewer left or does not exist",
			e.ID, u.Points, u.LotID, e.MemberID)
	}
	_, err = t.tx.ExecContext(stmtContext(ctx), "INSERT INTO lot_uses (program_id, member_id, entry_id, lot_id, points) VALUES (?, ?, ?, ?, ?)",
		e.ProgramID, e.MemberID, e.ID, u.LotID, u.Points)
	if err != nil {
		return fmt.Errorf("sqlite: record use of lot %d by entry %d: %w", u.LotID, e.ID, err)
	}
	return nil
}

// entryColumns are the columns scanEntries reads.
const entryColumns = "id, kind, points, balance_after, version, created_at, purchase_id, reward_id, detail"

// Entries returns up to limit of the member's entries with ids below
// beforeID (0: from the newest), newest first.
func (t *tx) Entries(ctx context.Context, programID, memberID string, beforeID int64, limit int) ([]loyalty.Entry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+entryColumns+`
		FROM entries WHERE program_id = ? AND member_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, programID, memberID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read entries of member %s: %w", memberID, err)
	}
	return scanEntries(rows, programID, memberID)
}

// EntriesSince returns up to limit of the member's entries that left the
// account at a version above afterVersion, oldest first.
func (t *tx) EntriesSince(ctx context.Context, programID, memberID string, afterVersion int64, limit int) ([]loyalty.Entry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+entryColumns+`
		FROM entries WHERE program_id = ? AND member_id = ? AND version > ?
		ORDER BY id LIMIT ?`, programID, memberID, afterVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read entries of member %s: %w", memberID, err)
	}
	return scanEntries(rows, programID, memberID)
}

// scanEntries reads the member's entries, selected as entryColumns, from
// rows and closes them.
func scanEntries(rows *sql.Rows, programID, memberID string) ([]loyalty.Entry, error) {
	defer rows.Close()
	var es []loyalty.Entry
	for rows.Next() {
		e := loyalty.Entry{ProgramID: programID, MemberID: memberID}
		var (
			created int64
			detail  []byte
		)
		if err := rows.Scan(&e.ID, &e.Kind, &e.Points, &e.BalanceAfter, &e.Version, &created, &e.PurchaseID, &e.RewardID, &detail); err != nil {
			return nil, fmt.Errorf("sqlite: read entries of member %s: %w", memberID, err)
		}
		if err := json.Unmarshal(detail, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: decode entry %d: %w", e.ID, err)
		}
		e.CreatedAt = fromMicros(created)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read entries of member %s: %w", memberID, err)
	}
	return es, nil
}
