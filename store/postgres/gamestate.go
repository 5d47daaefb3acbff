package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
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
// when none was saved. In Update it locks the state's row, if any; the
// member's account, read first, is what serializes writes.
func (t *tx) GameState(ctx context.Context, programID, memberID string) (loyalty.GameState, error) {
	s := loyalty.GameState{ProgramID: programID, MemberID: memberID}
	var (
		state []byte
		code  *string
	)
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&state, &code) },
		"SELECT state, referral_code FROM game_states WHERE program_id = $1 AND member_id = $2"+t.forUpdate(), programID, memberID)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return loyalty.GameState{}, lookupErr(err, "game state of member "+memberID)
	}
	if err := json.Unmarshal(state, &gameStateDoc{GameState: &s}); err != nil {
		return loyalty.GameState{}, fmt.Errorf("postgres: decode game state of member %s: %w", memberID, err)
	}
	s.ProgramID, s.MemberID = programID, memberID
	if code != nil {
		s.ReferralCode = *code
	}
	return s, nil
}

// SaveGameState creates or replaces s. It returns ErrConflict when
// s.ReferralCode is another member's code in the program; the violation
// aborts the transaction.
func (t *tx) SaveGameState(ctx context.Context, s loyalty.GameState) error {
	state, err := json.Marshal(gameStateDoc{GameState: &s})
	if err != nil {
		return fmt.Errorf("postgres: encode game state of member %s: %w", s.MemberID, err)
	}
	var code *string
	if s.ReferralCode != "" {
		code = &s.ReferralCode
	}
	_, err = t.exec(ctx, `INSERT INTO game_states (program_id, member_id, state, referral_code) VALUES ($1, $2, $3, $4)
		ON CONFLICT (program_id, member_id) DO UPDATE SET state = excluded.state, referral_code = excluded.referral_code`,
		s.ProgramID, s.MemberID, string(state), code)
	if isUnique(err) {
		return conflict(err, "referral code %q is another member's", s.ReferralCode)
	}
	if err != nil {
		return fmt.Errorf("postgres: write game state of member %s: %w", s.MemberID, err)
	}
	return nil
}

// MemberByReferralCode returns the member whose referral code is code.
func (t *tx) MemberByReferralCode(ctx context.Context, programID, code string) (loyalty.Member, error) {
	return t.member(ctx, fmt.Sprintf("member with referral code %q", code),
		"SELECT "+memberColumns+` FROM members
		WHERE (program_id, id) IN (SELECT program_id, member_id FROM game_states WHERE program_id = $1 AND referral_code = $2)`, programID, code)
}

// CreateGrant records g and returns true, or returns false and writes
// nothing when the member has a grant with g.Key already. A grant that
// exists does not abort the transaction.
func (t *tx) CreateGrant(ctx context.Context, g loyalty.GrantRecord) (bool, error) {
	tag, err := t.exec(ctx, `INSERT INTO grants (program_id, member_id, key, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (program_id, member_id, key) DO NOTHING`, g.ProgramID, g.MemberID, g.Key, g.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("postgres: create grant %q of member %s: %w", g.Key, g.MemberID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// PurchasesSince returns the member's purchases created at or after since,
// oldest first; when there are more than limit, the newest limit of them.
func (t *tx) PurchasesSince(ctx context.Context, programID, memberID string, since time.Time, limit int) ([]loyalty.Purchase, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	ps, err := collect(ctx, t, scanPurchase, "SELECT "+purchaseColumns+` FROM purchases
		WHERE program_id = $1 AND member_id = $2 AND created_at >= $3 ORDER BY created_at DESC, id DESC LIMIT $4`,
		programID, memberID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read purchases of member %s: %w", memberID, err)
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
	ms, err := collect(ctx, t, scanMember, "SELECT "+memberColumns+" FROM members WHERE program_id = $1 AND id > $2 ORDER BY id LIMIT $3",
		programID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read members of program %q: %w", programID, err)
	}
	return ms, nil
}
