package bff_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"testing"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestFlow walks every RPC's happy path, once for each protocol: enrol,
// earn at the till, see the card and activity, redeem a reward, use the
// voucher, return part of the purchase.
func TestFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			c := e.customer("flow-"+p.name, p)
			till := e.till(tillKeyA, p)

			enr, err := c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{Locale: treuev1.Locale_LOCALE_EN}))
			mustOK(t, err)
			if !enr.Msg.GetCreated() || enr.Msg.GetProfile().GetProgramId() != programA {
				t.Fatalf("Enroll = %v, want a new membership of %s", enr.Msg, programA)
			}
			again, err := c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
			mustOK(t, err)
			if again.Msg.GetCreated() || again.Msg.GetProfile().GetMemberId() != enr.Msg.GetProfile().GetMemberId() {
				t.Fatalf("second Enroll = %v, want the same membership, not created", again.Msg)
			}
			cardNumber := enr.Msg.GetProfile().GetCard().GetCardNumber()

			prof, err := c.account.GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
			mustOK(t, err)
			if prof.Msg.GetProfile().GetLocale() != treuev1.Locale_LOCALE_EN || prof.Msg.GetProfile().GetCard().GetCardNumber() != cardNumber {
				t.Fatalf("GetProfile = %v", prof.Msg)
			}

			look, err := till.LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: spaced(cardNumber)}))
			mustOK(t, err)
			if look.Msg.GetMember().GetCard().GetCardNumber() != cardNumber {
				t.Fatalf("LookupMember = %v", look.Msg)
			}

			earn, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
				CardNumber: cardNumber, AmountMinor: 4599, Currency: "EUR",
				IdempotencyKey: "earn-" + p.name, ReceiptId: "R-" + p.name,
				LineItems: []*treuev1.LineItem{{Sku: "latte", Name: "Latte Macchiato", Category: "coffee", Quantity: 2, AmountMinor: 900}},
			}))
			mustOK(t, err)
			if earn.Msg.GetPointsEarned() != 45 || earn.Msg.GetBalance() != 45 {
				t.Fatalf("Earn = %v, want 45 points, balance 45", earn.Msg)
			}

			card, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			mustOK(t, err)
			if got := card.Msg.GetCard(); got.GetBalance() != 45 || got.GetPointName() != "stars" || got.GetBarcodePayload() != cardNumber {
				t.Fatalf("GetCard = %v", got)
			}
			de, err := c.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{Locale: treuev1.Locale_LOCALE_DE}))
			mustOK(t, err)
			if de.Msg.GetCard().GetPointName() != "Sterne" || de.Msg.GetCard().GetTier().GetName() != "Grün" {
				t.Fatalf("GetCard(de) = %v", de.Msg.GetCard())
			}

			rewards, err := c.reward.ListRewards(ctx, connect.NewRequest(&treuev1.ListRewardsRequest{}))
			mustOK(t, err)
			if n := len(rewards.Msg.GetRewards()); n != 3 {
				t.Fatalf("ListRewards returned %d rewards, want the 3 active ones", n)
			}
			red, err := c.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "redeem-1"}))
			mustOK(t, err)
			v := red.Msg.GetVoucher()
			if red.Msg.GetBalance() != 35 || v.GetStatus() != treuev1.VoucherStatus_VOUCHER_STATUS_ISSUED || v.GetRewardName() != "Free coffee" {
				t.Fatalf("RedeemReward = %v", red.Msg)
			}
			vs, err := c.reward.ListVouchers(ctx, connect.NewRequest(&treuev1.ListVouchersRequest{}))
			mustOK(t, err)
			if len(vs.Msg.GetVouchers()) != 1 || vs.Msg.GetVouchers()[0].GetCode() != v.GetCode() {
				t.Fatalf("ListVouchers = %v", vs.Msg)
			}

			used, err := till.RedeemVoucher(ctx, connect.NewRequest(&treuev1.RedeemVoucherRequest{Code: v.GetCode(), IdempotencyKey: "use-" + p.name}))
			mustOK(t, err)
			if used.Msg.GetVoucher().GetStatus() != treuev1.VoucherStatus_VOUCHER_STATUS_REDEEMED || used.Msg.GetVoucher().GetRedeemTime() == nil {
				t.Fatalf("RedeemVoucher = %v", used.Msg)
			}

			rev, err := till.Reverse(ctx, connect.NewRequest(&treuev1.ReverseRequest{
				Purchase:    &treuev1.ReverseRequest_ReceiptId{ReceiptId: "R-" + p.name},
				AmountMinor: 2300, IdempotencyKey: "return-" + p.name,
			}))
			mustOK(t, err)
			// 2300 of 4599 returned: floor(45*2300/4599) = 22 points.
			if rev.Msg.GetPointsReversed() != 22 || rev.Msg.GetBalance() != 13 || rev.Msg.GetReturnedAmountMinor() != 2300 {
				t.Fatalf("Reverse = %v, want 22 points back, balance 13", rev.Msg)
			}

			act, err := c.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{Locale: treuev1.Locale_LOCALE_DE}))
			mustOK(t, err)
			var kinds []string
			for _, a := range act.Msg.GetActivities() {
				kinds = append(kinds, fmt.Sprintf("%s %+d %s", a.GetKind(), a.GetPoints(), a.GetReason()))
			}
			want := []string{
				"ACTIVITY_KIND_REVERSE -22 Rückgabe über 23,00 €",
				"ACTIVITY_KIND_REDEEM -10 Prämie eingelöst: Gratis Kaffee",
				"ACTIVITY_KIND_EARN +45 Einkauf über 45,99 €",
			}
			if fmt.Sprint(kinds) != fmt.Sprint(want) {
				t.Fatalf("ListActivity =\n%q\nwant\n%q", kinds, want)
			}

			for _, f := range []struct {
				format treuev1.BarcodeFormat
				width  int32
				height int
			}{
				{treuev1.BarcodeFormat_BARCODE_FORMAT_UNSPECIFIED, 0, 256},
				{treuev1.BarcodeFormat_BARCODE_FORMAT_QR, 300, 300},
				{treuev1.BarcodeFormat_BARCODE_FORMAT_CODE128, 600, 200},
			} {
				bc, err := c.card.GetCardBarcode(ctx, connect.NewRequest(&treuev1.GetCardBarcodeRequest{Format: f.format, WidthPx: f.width}))
				mustOK(t, err)
				img, err := png.Decode(bytes.NewReader(bc.Msg.GetPng()))
				mustOK(t, err)
				if img.Bounds().Dy() != f.height || int(bc.Msg.GetHeightPx()) != f.height || bc.Msg.GetPayload() != cardNumber {
					t.Fatalf("GetCardBarcode(%v, %d): image %v, response %dx%d", f.format, f.width, img.Bounds(), bc.Msg.GetWidthPx(), bc.Msg.GetHeightPx())
				}
			}
		})
	}
}

// spaced returns a card number grouped in fours, as printed on a card.
func spaced(n string) string {
	var b bytes.Buffer
	for i, r := range n {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
