package bff_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestBadInput sends malformed requests to every RPC that takes input and
// checks that each gets the right code and a message naming the problem.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p := protocols[1]
	alice := e.customer("alice", p)
	card := enrol(t, alice)
	till := e.till(tillKeyA, p)
	_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 10000, Currency: "EUR", IdempotencyKey: "seed", ReceiptId: "R1"}))
	mustOK(t, err)

	earn := func(mod func(*treuev1.EarnRequest)) error {
		req := &treuev1.EarnRequest{CardNumber: card, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: "k-" + t.Name()}
		mod(req)
		_, err := till.Earn(ctx, connect.NewRequest(req))
		return err
	}
	wrongCheckDigit := card[:15] + string('0'+(card[15]-'0'+1)%10)
	cases := []struct {
		name    string
		call    func() error
		code    connect.Code
		message string
	}{
		{"earn negative amount", func() error { return earn(func(r *treuev1.EarnRequest) { r.AmountMinor = -100 }) }, connect.CodeInvalidArgument, "amount_minor must be positive"},
		{"earn zero amount", func() error { return earn(func(r *treuev1.EarnRequest) { r.AmountMinor = 0 }) }, connect.CodeInvalidArgument, "amount_minor must be positive"},
		{"earn absurd amount", func() error { return earn(func(r *treuev1.EarnRequest) { r.AmountMinor = 1 << 62 }) }, connect.CodeInvalidArgument, "beyond any purchase"},
		{"earn above program max", func() error { return earn(func(r *treuev1.EarnRequest) { r.AmountMinor = 10_000_001 }) }, connect.CodeInvalidArgument, "largest purchase"},
		{"earn unknown currency", func() error { return earn(func(r *treuev1.EarnRequest) { r.Currency = "EURO" }) }, connect.CodeInvalidArgument, "ISO 4217"},
		{"earn lower-case currency", func() error { return earn(func(r *treuev1.EarnRequest) { r.Currency = "eur" }) }, connect.CodeInvalidArgument, "ISO 4217"},
		{"earn other currency", func() error { return earn(func(r *treuev1.EarnRequest) { r.Currency = "USD" }) }, connect.CodeInvalidArgument, "in EUR"},
		{"earn no currency", func() error { return earn(func(r *treuev1.EarnRequest) { r.Currency = "" }) }, connect.CodeInvalidArgument, "currency"},
		{"earn card with letters", func() error { return earn(func(r *treuev1.EarnRequest) { r.CardNumber = "9276ABCD00001234" }) }, connect.CodeInvalidArgument, "only digits"},
		{"earn short card", func() error { return earn(func(r *treuev1.EarnRequest) { r.CardNumber = "9276" }) }, connect.CodeInvalidArgument, "16 digits"},
		{"earn wrong check digit", func() error { return earn(func(r *treuev1.EarnRequest) { r.CardNumber = wrongCheckDigit }) }, connect.CodeInvalidArgument, "check digit"},
		{"earn empty card", func() error { return earn(func(r *treuev1.EarnRequest) { r.CardNumber = "" }) }, connect.CodeInvalidArgument, "card_number"},
		{"earn unknown card", func() error { return earn(func(r *treuev1.EarnRequest) { r.CardNumber = "9276000000000008" }) }, connect.CodeNotFound, "no member"},
		{"earn empty key", func() error { return earn(func(r *treuev1.EarnRequest) { r.IdempotencyKey = "" }) }, connect.CodeInvalidArgument, "idempotency_key is required"},
		{"earn 300-char key", func() error {
			return earn(func(r *treuev1.EarnRequest) { r.IdempotencyKey = strings.Repeat("k", 300) })
		}, connect.CodeInvalidArgument, "at most 128"},
		{"earn key with space", func() error { return earn(func(r *treuev1.EarnRequest) { r.IdempotencyKey = "a b" }) }, connect.CodeInvalidArgument, "printable ASCII"},
		{"earn long receipt", func() error { return earn(func(r *treuev1.EarnRequest) { r.ReceiptId = strings.Repeat("r", 65) }) }, connect.CodeInvalidArgument, "receipt_id"},
		{"earn receipt posted before", func() error { return earn(func(r *treuev1.EarnRequest) { r.ReceiptId = "R1" }) }, connect.CodeAlreadyExists, "already posted"},
		{"earn too many lines", func() error {
			return earn(func(r *treuev1.EarnRequest) {
				for range 101 {
					r.LineItems = append(r.LineItems, &treuev1.LineItem{Sku: "x", Quantity: 1})
				}
			})
		}, connect.CodeInvalidArgument, "at most 100 line_items"},
		{"earn line without sku", func() error {
			return earn(func(r *treuev1.EarnRequest) { r.LineItems = []*treuev1.LineItem{{Quantity: 1}} })
		}, connect.CodeInvalidArgument, "line_items[0]: sku"},
		{"earn line zero quantity", func() error {
			return earn(func(r *treuev1.EarnRequest) { r.LineItems = []*treuev1.LineItem{{Sku: "a"}} })
		}, connect.CodeInvalidArgument, "quantity"},
		{"earn oversized message", func() error {
			return earn(func(r *treuev1.EarnRequest) { r.ReceiptId = strings.Repeat("r", 300<<10) })
		}, connect.CodeResourceExhausted, ""},
		{"lookup malformed card", func() error {
			_, err := till.LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: "12"}))
			return err
		}, connect.CodeInvalidArgument, "16 digits"},
		{"reverse no purchase", func() error {
			_, err := till.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{IdempotencyKey: "r"}))
			return err
		}, connect.CodeInvalidArgument, "exactly one of purchase_id and receipt_id"},
		{"reverse negative", func() error {
			_, err := till.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_ReceiptId{ReceiptId: "R1"}, AmountMinor: -1, IdempotencyKey: "r"}))
			return err
		}, connect.CodeInvalidArgument, "amount_minor"},
		{"reverse more than bought", func() error {
			_, err := till.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_ReceiptId{ReceiptId: "R1"}, AmountMinor: 10001, IdempotencyKey: "r"}))
			return err
		}, connect.CodeFailedPrecondition, "exceeds what is left"},
		{"reverse unknown purchase", func() error {
			_, err := till.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{Purchase: &treuev1.ReverseRequest_PurchaseId{PurchaseId: "pur_nope"}, IdempotencyKey: "r"}))
			return err
		}, connect.CodeNotFound, "no such purchase"},
		{"voucher malformed", func() error {
			_, err := till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: "!!", IdempotencyKey: "v"}))
			return err
		}, connect.CodeInvalidArgument, "voucher code"},
		{"voucher unknown", func() error {
			_, err := till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: "AAAA-BBBB", IdempotencyKey: "v"}))
			return err
		}, connect.CodeNotFound, "no voucher"},
		{"redeem unknown reward", func() error {
			_, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "caviar", IdempotencyKey: "x"}))
			return err
		}, connect.CodeNotFound, "no reward"},
		{"redeem inactive reward", func() error {
			_, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "retired", IdempotencyKey: "x"}))
			return err
		}, connect.CodeNotFound, "no reward"},
		{"redeem without key", func() error {
			_, err := alice.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee"}))
			return err
		}, connect.CodeInvalidArgument, "idempotency_key"},
		{"redeem too expensive", func() error {
			poor := e.customer("poor", p)
			enrol(t, poor)
			_, err := poor.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "cake", IdempotencyKey: "y"}))
			return err
		}, connect.CodeFailedPrecondition, `reward "cake" costs 20 points; 0 are available`},
		{"activity page too large", func() error {
			_, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageSize: 101}))
			return err
		}, connect.CodeInvalidArgument, "page_size must be 1 to 100"},
		{"activity negative page", func() error {
			_, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageSize: -1}))
			return err
		}, connect.CodeInvalidArgument, "page_size"},
		{"activity forged token", func() error {
			_, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageToken: "not-a-token"}))
			return err
		}, connect.CodeInvalidArgument, "page_token is malformed"},
		{"barcode too wide", func() error {
			_, err := alice.card.GetCardBarcode(ctx, connect.NewRequest(&treuev1.GetCardBarcodeRequest{WidthPx: 5000}))
			return err
		}, connect.CodeInvalidArgument, "width_px must be 64 to 1024"},
		{"barcode code128 too narrow", func() error {
			_, err := alice.card.GetCardBarcode(ctx, connect.NewRequest(&treuev1.GetCardBarcodeRequest{Format: treuev1.BarcodeFormat_BARCODE_FORMAT_CODE128, WidthPx: 64}))
			return err
		}, connect.CodeInvalidArgument, "too narrow"},
		{"barcode unknown format", func() error {
			_, err := alice.card.GetCardBarcode(ctx, connect.NewRequest(&treuev1.GetCardBarcodeRequest{Format: 99}))
			return err
		}, connect.CodeInvalidArgument, "format"},
		{"enroll unknown locale", func() error {
			_, err := alice.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{Locale: 42}))
			return err
		}, connect.CodeInvalidArgument, "locale"},
		{"not enrolled", func() error {
			_, err := e.customer("nobody", p).card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			return err
		}, connect.CodeFailedPrecondition, "call AccountService.Enroll first"},
		{"unknown program", func() error {
			_, err := e.customer("alice", p, headers("Treue-Program", "no-such-program")).account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
			return err
		}, connect.CodeNotFound, "program"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			checkCode(t, err, c.code)
			var ce *connect.Error
			if !errorsAs(err, &ce) || !strings.Contains(ce.Message(), c.message) {
				t.Fatalf("message %q does not say %q", err, c.message)
			}
		})
	}
}
