package loyalty

import (
	"errors"
	"strings"
	"testing"
)

// TestEarnRequestLineItemErrors checks that an invalid line item's error
// says what is wrong with it.
func TestEarnRequestLineItemErrors(t *testing.T) {
	base := EarnRequest{CardNumber: "9276123456789013", AmountMinor: 1000, Currency: "EUR", IdempotencyKey: "k"}
	tests := []struct {
		line LineItem
		want string
	}{
		{LineItem{Quantity: 1}, "line_items[1]: sku must be 1 to 64 bytes long"},
		{LineItem{SKU: "x", Quantity: 0}, "line_items[1]: quantity must be 1 to 10000"},
		{LineItem{SKU: "x", Quantity: 1, AmountMinor: -1}, "line_items[1]: amount_minor must be 0"},
		{LineItem{SKU: "x", Quantity: 1, Name: "a\x00b"}, "line_items[1]: name must not contain control characters"},
	}
	for _, tt := range tests {
		req := base
		req.Lines = []LineItem{{SKU: "ok", Quantity: 1}, tt.line}
		err := req.validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("line %+v: %v, want ErrInvalid saying %q", tt.line, err, tt.want)
		}
		if err != nil && strings.Count(err.Error(), ErrInvalid.Error()) != 1 {
			t.Errorf("line %+v: %q names the error kind more than once", tt.line, err)
		}
	}
	req := base
	req.CardNumber = "9276 1234 5678 9013"
	if err := req.validate(); err != nil || req.CardNumber != "9276123456789013" {
		t.Errorf("valid request: %v, card %q; want nil and the normalized card number", err, req.CardNumber)
	}
}
