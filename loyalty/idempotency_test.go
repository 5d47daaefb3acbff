package loyalty

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateIdempotencyKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"5f0c2b7e-4c1d-4e8a-9b6f-1a2b3c4d5e6f", true},
		{"till-7/2025-06-01/receipt:4711", true},
		{"~!#$%&'()*+,-./:;<=>?@[]^_`{|}", true},
		{strings.Repeat("k", 128), true},
		{"", false},
		{strings.Repeat("k", 129), false},
		{strings.Repeat("k", 300), false},
		{"with space", false},
		{" leading", false},
		{"tab\there", false},
		{"new\nline", false},
		{"del\x7f", false},
		{"umlaut-ä", false},
	}
	for _, tt := range tests {
		err := validateIdempotencyKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("validateIdempotencyKey(%q) = %v, want nil", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("validateIdempotencyKey(%q) = %v, want ErrInvalid", tt.key, err)
		}
	}
}

func TestFingerprint(t *testing.T) {
	req := EarnRequest{CardNumber: "9276123456789013", AmountMinor: 100, Currency: "EUR", IdempotencyKey: "a"}
	same := req
	same.IdempotencyKey = "b" // the key is not a parameter
	if fingerprint("Earn", req) != fingerprint("Earn", same) {
		t.Error("the idempotency key changes the fingerprint")
	}
	other := req
	other.AmountMinor = 101
	if fingerprint("Earn", req) == fingerprint("Earn", other) {
		t.Error("another amount has the same fingerprint")
	}
	if fingerprint("RedeemReward", "x") == fingerprint("RedeemVoucher", "x") {
		t.Error("two operations with equal parameters have the same fingerprint")
	}
}
