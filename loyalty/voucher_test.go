package loyalty

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestNormalizeVoucherCode(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "K7QD-M2XH", want: "K7QD-M2XH"},
		{in: "k7qdm2xh", want: "K7QD-M2XH"},
		{in: " k7qd m2xh ", want: "K7QD-M2XH"},
		{in: "K-7-Q-D-M-2-X-H", want: "K7QD-M2XH"},
		{in: "OoIi-Ll01", want: "0011-1101"}, // O reads as 0; I and L as 1
		{in: "K7QD-M2X", wantErr: true},      // 7 characters
		{in: "K7QD-M2XHZ", wantErr: true},    // 9 characters
		{in: "K7QD-M2XU", wantErr: true},     // U is not in the alphabet
		{in: "K7QD_M2XH", wantErr: true},
		{in: "K7QD-M2XÄ", wantErr: true},
		{in: "", wantErr: true},
		{in: strings.Repeat(" ", 30) + "K7QDM2XH", wantErr: true}, // too long as sent
	}
	for _, tt := range tests {
		got, err := NormalizeVoucherCode(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeVoucherCode(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeVoucherCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewVoucherCodeIsNormalized(t *testing.T) {
	r := rand.NewChaCha8([32]byte{9})
	for range 1000 {
		code, err := newVoucherCode(r)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := NormalizeVoucherCode(code); err != nil || got != code {
			t.Fatalf("newVoucherCode() = %q, which normalizes to %q, %v", code, got, err)
		}
	}
}

func TestVoucherStatusAt(t *testing.T) {
	exp := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	issued := Voucher{Status: VoucherIssued, ExpiresAt: exp}
	redeemed := Voucher{Status: VoucherRedeemed, ExpiresAt: exp}
	for _, tt := range []struct {
		v    Voucher
		now  time.Time
		want VoucherStatus
	}{
		{issued, exp.Add(-time.Microsecond), VoucherIssued},
		{issued, exp, VoucherExpired},
		{issued, exp.Add(time.Hour), VoucherExpired},
		{redeemed, exp.Add(time.Hour), VoucherRedeemed},
	} {
		if got := tt.v.StatusAt(tt.now); got != tt.want {
			t.Errorf("%s voucher at %v: %s, want %s", tt.v.Status, tt.now, got, tt.want)
		}
	}
}
