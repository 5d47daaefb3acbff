package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/internal/programcache"
)

// programs caches decoded programs across stores: an entry is used only
// for the configuration it was decoded from.
var programs programcache.Cache

// Program returns the program with the given id.
func (t *tx) Program(ctx context.Context, id string) (loyalty.Program, error) {
	var config []byte
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&config) }, "SELECT config FROM programs WHERE id = $1", id)
	if err != nil {
		return loyalty.Program{}, lookupErr(err, fmt.Sprintf("program %q", id))
	}
	p, err := programs.Decode(id, config)
	if err != nil {
		return loyalty.Program{}, fmt.Errorf("postgres: decode program %q: %w", id, err)
	}
	return p, nil
}

// PutProgram creates or replaces p.
func (t *tx) PutProgram(ctx context.Context, p loyalty.Program) error {
	config, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("postgres: encode program %q: %w", p.ID, err)
	}
	_, err = t.exec(ctx, `INSERT INTO programs (id, config) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET config = excluded.config`, p.ID, string(config))
	if err != nil {
		return fmt.Errorf("postgres: write program %q: %w", p.ID, err)
	}
	return nil
}

const rewardColumns = "program_id, id, name, description, cost, stock, active"

func scanReward(row pgx.Row) (loyalty.Reward, error) {
	var (
		r           loyalty.Reward
		name, descr []byte
	)
	if err := row.Scan(&r.ProgramID, &r.ID, &name, &descr, &r.Cost, &r.Stock, &r.Active); err != nil {
		return loyalty.Reward{}, err
	}
	if err := json.Unmarshal(name, &r.Name); err != nil {
		return loyalty.Reward{}, fmt.Errorf("decode name of reward %q: %w", r.ID, err)
	}
	if err := json.Unmarshal(descr, &r.Description); err != nil {
		return loyalty.Reward{}, fmt.Errorf("decode description of reward %q: %w", r.ID, err)
	}
	return r, nil
}

// Rewards returns the program's rewards, active or not, cheapest first and
// then by id.
func (t *tx) Rewards(ctx context.Context, programID string) ([]loyalty.Reward, error) {
	rs, err := collect(ctx, t, scanReward, "SELECT "+rewardColumns+" FROM rewards WHERE program_id = $1 ORDER BY cost, id", programID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read rewards of program %q: %w", programID, err)
	}
	return rs, nil
}

// Reward returns one reward of the program. In Update it locks the reward.
func (t *tx) Reward(ctx context.Context, programID, id string) (loyalty.Reward, error) {
	var r loyalty.Reward
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { r, err = scanReward(row); return err },
		"SELECT "+rewardColumns+" FROM rewards WHERE program_id = $1 AND id = $2"+t.forUpdate(), programID, id)
	if err != nil {
		return loyalty.Reward{}, lookupErr(err, fmt.Sprintf("reward %q", id))
	}
	return r, nil
}

// PutReward creates or replaces r.
func (t *tx) PutReward(ctx context.Context, r loyalty.Reward) error {
	name, err := json.Marshal(r.Name)
	if err != nil {
		return err
	}
	descr, err := json.Marshal(r.Description)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO rewards (`+rewardColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (program_id, id) DO UPDATE SET name = excluded.name, description = excluded.description,
			cost = excluded.cost, stock = excluded.stock, active = excluded.active`,
		r.ProgramID, r.ID, string(name), string(descr), r.Cost, r.Stock, r.Active)
	if err != nil {
		return fmt.Errorf("postgres: write reward %q: %w", r.ID, err)
	}
	return nil
}

// TillByKeyHash returns the till whose API key hashes to h.
func (t *tx) TillByKeyHash(ctx context.Context, h []byte) (loyalty.Till, error) {
	var till loyalty.Till
	err := t.scanRow(ctx, func(r pgx.Row) error { return r.Scan(&till.ID, &till.ProgramID, &till.Name, &till.KeyHash) },
		"SELECT id, program_id, name, key_hash FROM tills WHERE key_hash = $1", h)
	if err != nil {
		return loyalty.Till{}, lookupErr(err, "till with this API key")
	}
	return till, nil
}

// PutTill creates or replaces till. It returns ErrConflict when another till
// has the same key hash.
func (t *tx) PutTill(ctx context.Context, till loyalty.Till) error {
	_, err := t.exec(ctx, `INSERT INTO tills (id, program_id, name, key_hash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET program_id = excluded.program_id, name = excluded.name, key_hash = excluded.key_hash`,
		till.ID, till.ProgramID, till.Name, till.KeyHash)
	if isUnique(err) {
		return conflict(err, "another till has the API key of till %q", till.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: write till %q: %w", till.ID, err)
	}
	return nil
}
