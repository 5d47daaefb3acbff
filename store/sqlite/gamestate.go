package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/treue/treue/loyalty"
)

// gameStateDoc is the JSON of a game_states row's state: the GameState but
// for its keys, which are columns (as is its referral code, which is not
// marshalled). The fields shadow the state's keys and stay empty, so that
// they are never written and ignored when read.
type gameStateDoc struct {
	*loyalty.GameState
	ProgramID string `json:"ProgramID,omitempty"`
	MemberID  string `json:"MemberID,omitempty"`
}

// GameState returns the member's gamification state, or the zero state
// when none was saved. The writer's transactions hold the database's write
// lock from their start, so the state cannot change before they end.
func (t *tx) GameState(ctx context.Context, programID, memberID string) (loyalty.GameState, error) {
	s := loyalty.GameState{ProgramID: programID, MemberID: memberID}
	var (
		state []byte
		code  sql.NullString
	)
	err := t.tx.QueryRowContext(stmtContext(ctx), "SELECT state, referral_code FROM game_states WHERE program_id = ? AND member_id = ?",
		programID, memberID).Scan(&state, &code)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return loyalty.GameState{}, lookupErr(err, "game state of member "+memberID)
	}
	if err := json.Unmarshal(state, &gameStateDoc{GameState: &s}); err != nil {
		return loyalty.GameState{}, fmt.Errorf("sqlite: decode game state of member %s: %w", memberID, err)
	}
	s.ProgramID, s.MemberID, s.ReferralCode = programID, memberID, code.String
	return s, nil
}

// SaveGameState creates or replaces s. It returns ErrConflict when
// s.ReferralCode is another member's code in the program.
func (t *tx) SaveGameState(ctx context.Context, s loyalty.GameState) error {
	state, err := json.Marshal(gameStateDoc{GameState: &s})
	if err != nil {
		return fmt.Errorf("sqlite: encode game state of member %s: %w", s.MemberID, err)
	}
	code := sql.NullString{String: s.ReferralCode, Valid: s.ReferralCode != ""}
	_, err = t.tx.ExecContext(stmtContext(ctx), `INSERT INTO game_states (program_id, member_id, state, referral_code) VALUES (?, ?, ?, ?)
		ON CONFLICT (program_id, member_id) DO UPDATE SET state = excluded.state, referral_code = excluded.referral_code`,
		s.ProgramID, s.MemberID, string(state), code)
	if isUnique(err) {
		return conflict("referral code %q is another member's", s.ReferralCode)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write game state of member %s: %w", s.MemberID, err)
	}
	return nil
}

// MemberByReferralCode returns the member whose referral code is code.
func (t *tx) MemberByReferralCode(ctx context.Context, programID, code string) (loyalty.Member, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+memberColumns+` FROM members
		WHERE (program_id, id) IN (SELECT program_id, member_id FROM game_states WHERE program_id = ? AND referral_code = ?)`, programID, code)
	m, err := scanMember(row)
	if err != nil {
		return loyalty.Member{}, lookupErr(err, fmt.Sprintf("member with referral code %q", code))
	}
	return m, nil
}

// CreateGrant records g and returns true, or returns false and writes
// nothing when the member has a grant with g.Key already.
func (t *tx) CreateGrant(ctx context.Context, g loyalty.GrantRecord) (bool, error) {
	res, err := t.tx.ExecContext(stmtContext(ctx), `INSERT INTO grants (program_id, member_id, key, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (program_id, member_id, key) DO NOTHING`, g.ProgramID, g.MemberID, g.Key, micros(g.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: create grant %q of member %s: %w", g.Key, g.MemberID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: create grant %q of member %s: %w", g.Key, g.MemberID, err)
	}
	return n > 0, nil
}

// PurchasesSince returns the member's purchases created at or after since,
// oldest first; when there are more than limit, the newest limit of them.
func (t *tx) PurchasesSince(ctx context.Context, programID, memberID string, since time.Time, limit int) ([]loyalty.Purchase, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+purchaseColumns+` FROM purchases
		WHERE program_id = ? AND member_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		programID, memberID, micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read purchases of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var ps []loyalty.Purchase
	for rows.Next() {
		p, err := scanPurchase(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read purchases of member %s: %w", memberID, err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read purchases of member %s: %w", memberID, err)
	}
	slices.Reverse(ps)
	return ps, nil
}

// Members returns up to limit members of the program whose IDs sort after
// afterID, by ID.
func (t *tx) Members(ctx context.Context, programID, afterID string, limit int) ([]loyalty.Member, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+memberColumns+" FROM members WHERE program_id = ? AND id > ? ORDER BY id LIMIT ?",
		programID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read members of program %q: %w", programID, err)
	}
	defer rows.Close()
	var ms []loyalty.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read members of program %q: %w", programID, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read members of program %q: %w", programID, err)
	}
	return ms, nil
}
