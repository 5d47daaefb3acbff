package loyalty

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestNormalizeCardNumber(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "9276123456789013", want: "9276123456789013"},
		{in: "9276 1234 5678 9013", want: "9276123456789013"},
		{in: "9276-1234-5678-9013", want: "9276123456789013"},
		{in: " 9276 0000 0000 0008 ", want: "9276000000000008"},
		{in: "4111111111111111", want: "4111111111111111"}, // any valid Luhn number
		{in: "9276123456789012", wantErr: true},            // wrong check digit
		{in: "9276123456789031", wantErr: true},            // swapped digits
		{in: "9276a23456789013", wantErr: true},
		{in: "9276.1234.5678.9013", wantErr: true},
		{in: "９２７６１２３４５６７８９０１３", wantErr: true}, // full-width digits
		{in: "", wantErr: true},
		{in: "927612345678901", wantErr: true},   // 15 digits
		{in: "92761234567890130", wantErr: true}, // 17 digits
		{in: strings.Repeat(" ", 60) + "9276123456789013", wantErr: true},
		{in: "----------------", wantErr: true},
	}
	for _, tt := range tests {
		got, err := NormalizeCardNumber(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeCardNumber(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeCardNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestCardCheckDigitCatchesTypos checks that every single mistyped digit
// of a card number is refused.
func TestCardCheckDigitCatchesTypos(t *testing.T) {
	const valid = "9276123456789013"
	for i := range valid {
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[i] {
				continue
			}
			typo := valid[:i] + string(d) + valid[i+1:]
			if _, err := NormalizeCardNumber(typo); err == nil {
				t.Errorf("typo %s (digit %d) accepted", typo, i)
			}
		}
	}
}

func TestNewCardNumberIsValid(t *testing.T) {
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	seen := map[string]bool{}
	for range 10_000 {
		n, err := newCardNumber(r)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := NormalizeCardNumber(n); err != nil || got != n {
			t.Fatalf("newCardNumber() = %q, which normalizes to %q, %v", n, got, err)
		}
		if !strings.HasPrefix(n, cardPrefix) {
			t.Fatalf("newCardNumber() = %q, want prefix %s", n, cardPrefix)
		}
		seen[n] = true
	}
	if len(seen) < 9_990 {
		t.Errorf("only %d different numbers in 10000 draws", len(seen))
	}
	for _, fill := range []byte{0x00, 0xff} {
		n, err := newCardNumber(bytes.NewReader(bytes.Repeat([]byte{fill}, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NormalizeCardNumber(n); err != nil {
			t.Errorf("newCardNumber from bytes %#x = %q: %v", fill, n, err)
		}
	}
	if _, err := newCardNumber(bytes.NewReader([]byte{1, 2, 3})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("newCardNumber from a short reader: %v, want io.ErrUnexpectedEOF", err)
	}
}
