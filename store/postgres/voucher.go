package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

const voucherColumns = `program_id, code, member_id, reward_id, reward_name, cost, status,
	issued_at, expires_at, redeemed_at, redeemed_by`

func scanVoucher(row pgx.Row) (loyalty.Voucher, error) {
	var (
		v               loyalty.Voucher
		name            []byte
		status          string
		issued, expires time.Time
		redeemed        *time.Time
	)
	err := row.Scan(&v.ProgramID, &v.Code, &v.MemberID, &v.RewardID, &name, &v.Cost, &status,
		&issued, &expires, &redeemed, &v.RedeemedBy)
	if err != nil {
		return loyalty.Voucher{}, err
	}
	if err := json.Unmarshal(name, &v.RewardName); err != nil {
		return loyalty.Voucher{}, fmt.Errorf("decode reward name of voucher %s: %w", v.Code, err)
	}
	v.Status = loyalty.VoucherStatus(status)
	v.IssuedAt, v.ExpiresAt, v.RedeemedAt = issued.UTC(), expires.UTC(), fromNull(redeemed)
	return v, nil
}

// CreateVoucher writes v. It returns ErrConflict when the program has a
// voucher with the same code.
func (t *tx) CreateVoucher(ctx context.Context, v loyalty.Voucher) error {
	name, err := json.Marshal(v.RewardName)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "INSERT INTO vouchers ("+voucherColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		v.ProgramID, v.Code, v.MemberID, v.RewardID, string(name), v.Cost, string(v.Status),
		v.IssuedAt, v.ExpiresAt, nullTime(v.RedeemedAt), v.RedeemedBy)
	if isUnique(err) {
		return conflict(err, "voucher %s exists already", v.Code)
	}
	if err != nil {
		return fmt.Errorf("postgres: create voucher: %w", err)
	}
	return nil
}

// Voucher returns the program's voucher with the code. In Update it locks
// the voucher.
func (t *tx) Voucher(ctx context.Context, programID, code string) (loyalty.Voucher, error) {
	var v loyalty.Voucher
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { v, err = scanVoucher(row); return err },
		"SELECT "+voucherColumns+" FROM vouchers WHERE program_id = $1 AND code = $2"+t.forUpdate(), programID, code)
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
	vs, err := collect(ctx, t, scanVoucher, "SELECT "+voucherColumns+` FROM vouchers
		WHERE program_id = $1 AND member_id = $2 ORDER BY issued_at DESC, seq DESC LIMIT $3`, programID, memberID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read vouchers of member %s: %w", memberID, err)
	}
	return vs, nil
}

// SaveVoucherRedemption writes v's status, redemption time and till.
func (t *tx) SaveVoucherRedemption(ctx context.Context, v loyalty.Voucher) error {
	tag, err := t.exec(ctx, `UPDATE vouchers SET status = $1, redeemed_at = $2, redeemed_by = $3
		WHERE program_id = $4 AND member_id = $5 AND code = $6`,
		string(v.Status), nullTime(v.RedeemedAt), v.RedeemedBy, v.ProgramID, v.MemberID, v.Code)
	if err != nil {
		return fmt.Errorf("postgres: write redemption of voucher %s: %w", v.Code, err)
	}
	return mustAffect(tag, "voucher "+v.Code)
}
