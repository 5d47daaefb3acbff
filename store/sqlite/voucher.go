package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/treue/treue/loyalty"
)

const voucherColumns = `program_id, code, member_id, reward_id, reward_name, cost, status,
	issued_at, expires_at, redeemed_at, redeemed_by`

func scanVoucher(row interface{ Scan(...any) error }) (loyalty.Voucher, error) {
	var (
		v               loyalty.Voucher
		name            []byte
		issued, expires int64
		redeemed        sql.NullInt64
	)
	err := row.Scan(&v.ProgramID, &v.Code, &v.MemberID, &v.RewardID, &name, &v.Cost, &v.Status,
		&issued, &expires, &redeemed, &v.RedeemedBy)
	if err != nil {
		return loyalty.Voucher{}, err
	}
	if err := json.Unmarshal(name, &v.RewardName); err != nil {
		return loyalty.Voucher{}, fmt.Errorf("decode reward name of voucher %s: %w", v.Code, err)
	}
	v.IssuedAt, v.ExpiresAt = fromMicros(issued), fromMicros(expires)
	if redeemed.Valid {
		v.RedeemedAt = fromMicros(redeemed.Int64)
	}
	return v, nil
}

// nullMicros returns t as a stored time, the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// CreateVoucher writes v. It returns ErrConflict when the program has a
// voucher with the same code.
func (t *tx) CreateVoucher(ctx context.Context, v loyalty.Voucher) error {
	name, err := json.Marshal(v.RewardName)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(stmtContext(ctx), "INSERT INTO vouchers ("+voucherColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		v.ProgramID, v.Code, v.MemberID, v.RewardID, string(name), v.Cost, string(v.Status),
		micros(v.IssuedAt), micros(v.ExpiresAt), nullMicros(v.RedeemedAt), v.RedeemedBy)
	if isUnique(err) {
		return conflict("voucher %s exists already", v.Code)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create voucher: %w", err)
	}
	return nil
}

// Voucher returns the program's voucher with the code.
func (t *tx) Voucher(ctx context.Context, programID, code string) (loyalty.Voucher, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+voucherColumns+" FROM vouchers WHERE program_id = ? AND code = ?", programID, code)
	v, err := scanVoucher(row)
	if err != nil {
		return loyalty.Voucher{}, lookupErr(err, "voucher "+code)
	}
	return v, nil
}

// Vouchers returns up to limit of the member's vouchers, newest first.
func (t *tx) Vouchers(ctx context.Context, programID, memberID string, limit int) ([]loyalty.Voucher, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive, got %d", loyalty.ErrInvalid, limit)
	}
	rows, err := t.tx.QueryContext(stmtContext(ctx), "SELECT "+voucherColumns+` FROM vouchers
		WHERE program_id = ? AND member_id = ? ORDER BY issued_at DESC, rowid DESC LIMIT ?`, programID, memberID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read vouchers of member %s: %w", memberID, err)
	}
	defer rows.Close()
	var vs []loyalty.Voucher
	for rows.Next() {
		v, err := scanVoucher(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read vouchers of member %s: %w", memberID, err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read vouchers of member %s: %w", memberID, err)
	}
	return vs, nil
}

// SaveVoucherRedemption writes v's status, redemption time and till.
func (t *tx) SaveVoucherRedemption(ctx context.Context, v loyalty.Voucher) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), "UPDATE vouchers SET status = ?, redeemed_at = ?, redeemed_by = ? WHERE program_id = ? AND code = ?",
		string(v.Status), nullMicros(v.RedeemedAt), v.RedeemedBy, v.ProgramID, v.Code)
	if err != nil {
		return fmt.Errorf("sqlite: write redemption of voucher %s: %w", v.Code, err)
	}
	return mustAffect(res, "voucher "+v.Code)
}
