package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

// AppendEntry writes e and sets e.ID to the id the database assigned. It
// takes e.Uses from their lots and records them; a use that takes more than
// its lot has left fails, and with it the transaction.
func (t *tx) AppendEntry(ctx context.Context, e *loyalty.Entry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("postgres: encode entry detail: %w", err)
	}
	err = t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&e.ID) }, `INSERT INTO entries
		(program_id, member_id, kind, points, balance_after, version, created_at, purchase_id, reward_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		e.ProgramID, e.MemberID, string(e.Kind), e.Points, e.BalanceAfter, e.Version, e.CreatedAt,
		e.PurchaseID, e.RewardID, string(detail))
	if err != nil {
		return fmt.Errorf("postgres: append entry for member %s: %w", e.MemberID, err)
	}
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
		return fmt.Errorf("postgres: entry %d takes %d points from lot %d: want a positive number", e.ID, u.Points, u.LotID)
	}
	tag, err := t.exec(ctx, `UPDATE lots SET remaining = remaining - $1
		WHERE program_id = $2 AND member_id = $3 AND id = $4 AND remaining >= $1`,
		u.Points, e.ProgramID, e.MemberID, u.LotID)
	if err != nil {
		return fmt.Errorf("postgres: take %d points from lot %d: %w", u.Points, u.LotID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: entry %d takes %d points from lot %d of member %s, which has fewer left or does not exist",
			e.ID, u.Points, u.LotID, e.MemberID)
	}
	_, err = t.exec(ctx, "INSERT INTO lot_uses (program_id, member_id, entry_id, lot_id, points) VALUES ($1, $2, $3, $4, $5)",
		e.ProgramID, e.MemberID, e.ID, u.LotID, u.Points)
	if err != nil {
		return fmt.Errorf("postgres: record use of lot %d by entry %d: %w", u.LotID, e.ID, err)
	}
	return nil
}

// entryColumns are the columns entryScanner reads.
const entryColumns = "id, kind, points, balance_after, version, created_at, purchase_id, reward_id, detail"

// entryScanner returns a function that scans an entry of the member,
// selected as entryColumns.
func entryScanner(programID, memberID string) func(pgx.Row) (loyalty.Entry, error) {
	return func(row pgx.Row) (loyalty.Entry, error) {
		e := loyalty.Entry{ProgramID: programID, MemberID: memberID}
		var (
			kind    string
			created time.Time
			detail  []byte
		)
		if err := row.Scan(&e.ID, &kind, &e.Points, &e.BalanceAfter, &e.Version, &created, &e.PurchaseID, &e.RewardID, &detail); err != nil {
			return loyalty.Entry{}, err
		}
		if err := json.Unmarshal(detail, &e.Detail); err != nil {
			return loyalty.Entry{}, fmt.Errorf("decode entry %d: %w", e.ID, err)
		}
		e.Kind, e.CreatedAt = loyalty.EntryKind(kind), created.UTC()
		return e, nil
	}
}

// Entries returns up to limit of the member's entries with ids below
// beforeID (0: from the newest), newest first.
func (t *tx) Entries(ctx context.Context, programID, memberID string, beforeID int64, limit int) ([]loyalty.Entry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	es, err := collect(ctx, t, entryScanner(programID, memberID), "SELECT "+entryColumns+`
		FROM entries WHERE program_id = $1 AND member_id = $2 AND id < $3
		ORDER BY id DESC LIMIT $4`, programID, memberID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read entries of member %s: %w", memberID, err)
	}
	return es, nil
}

// EntriesSince returns up to limit of the member's entries that left the
// account at a version above afterVersion, oldest first.
func (t *tx) EntriesSince(ctx context.Context, programID, memberID string, afterVersion int64, limit int) ([]loyalty.Entry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	es, err := collect(ctx, t, entryScanner(programID, memberID), "SELECT "+entryColumns+`
		FROM entries WHERE program_id = $1 AND member_id = $2 AND version > $3
		ORDER BY id LIMIT $4`, programID, memberID, afterVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read entries of member %s: %w", memberID, err)
	}
	return es, nil
}
