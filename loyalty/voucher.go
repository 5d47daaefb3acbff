package loyalty

import (
	"io"
	"strings"
	"time"
)

// VoucherStatus is where a voucher is in its life.
type VoucherStatus string

// The statuses of a voucher.
const (
	VoucherIssued   VoucherStatus = "issued"
	VoucherRedeemed VoucherStatus = "redeemed"
	VoucherExpired  VoucherStatus = "expired"
	// VoucherVoided: cancelled when its member was erased.
	VoucherVoided VoucherStatus = "voided"
)

// Voucher is a reward bought with points, redeemed once at a till.
type Voucher struct {
	ProgramID  string        `json:"program_id"`
	Code       string        `json:"code"`
	MemberID   string        `json:"member_id"`
	RewardID   string        `json:"reward_id"`
	RewardName Text          `json:"reward_name"`
	Cost       int64         `json:"cost"`
	Status     VoucherStatus `json:"status"`
	IssuedAt   time.Time     `json:"issued_at"`
	ExpiresAt  time.Time     `json:"expires_at"`
	// RedeemedAt is zero until the voucher is used.
	RedeemedAt time.Time `json:"redeemed_at,omitzero"`
	// RedeemedBy is the till that took the voucher.
	RedeemedBy string `json:"redeemed_by,omitempty"`
}

// StatusAt returns v's status at time now: an issued voucher past its expiry
// is expired.
func (v Voucher) StatusAt(now time.Time) VoucherStatus {
	if v.Status == VoucherIssued && !now.Before(v.ExpiresAt) {
		return VoucherExpired
	}
	return v.Status
}

// codeAlphabet is Crockford's base 32: no I, L, O or U, so codes read aloud
// or typed from a screen are hard to get wrong.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const voucherCodeLen = 8

// newVoucherCode returns a random code such as "K7QD-M2XH" (40 bits).
func newVoucherCode(r io.Reader) (string, error) {
	var buf [voucherCodeLen]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, c := range buf {
		if i == voucherCodeLen/2 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[c%32])
	}
	return b.String(), nil
}

// NormalizeVoucherCode returns the code in s as typed or scanned: case,
// spaces and dashes are ignored, and the letters Crockford's base 32 reads as
// digits (O, I, L) are read so. It returns ErrInvalid for anything that
// cannot be a voucher code.
func NormalizeVoucherCode(s string) (string, error) {
	if len(s) > 32 {
		return "", errorf(ErrInvalid, "voucher code is too long: want 8 characters such as K7QD-M2XH")
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", errorf(ErrInvalid, "voucher code may hold only letters and digits such as K7QD-M2XH")
		}
		b.WriteRune(r)
	}
	c := b.String()
	if len(c) != voucherCodeLen {
		return "", errorf(ErrInvalid, "voucher code must have %d characters, got %d", voucherCodeLen, len(c))
	}
	return c[:4] + "-" + c[4:], nil
}
