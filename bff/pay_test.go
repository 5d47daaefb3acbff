package bff_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// TestPayWithPoints holds points at checkout, captures part of them and
// releases another hold, over every protocol; the card shows the available
// balance throughout.
func TestPayWithPoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			alice := e.customer("pay-"+p.name, p)
			card := enrol(t, alice)
			till := e.till(tillKeyA, p)
			_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 10000, Currency: "EUR", IdempotencyKey: "e-" + p.name}))
			mustOK(t, err)
			available := func() int64 {
				c, err := alice.card.GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
				mustOK(t, err)
				return c.Msg.GetCard().GetAvailableBalance()
			}

			hold, err := till.Hold(ctx, connect.NewRequest(&treuev1.HoldRequest{CardNumber: card, Points: 60, TtlSeconds: 120, IdempotencyKey: "h-" + p.name}))
			mustOK(t, err)
			h := hold.Msg.GetHold()
			if h.GetStatus() != treuev1.HoldStatus_HOLD_STATUS_ACTIVE || hold.Msg.GetAvailableBalance() != 40 || available() != 40 {
				t.Fatalf("Hold = %v, card available %d", hold.Msg, available())
			}
			if d := h.GetExpireTime().AsTime().Sub(h.GetCreateTime().AsTime()); d != 2*time.Minute {
				t.Fatalf("hold lasts %v, want 2m", d)
			}
			_, err = till.Hold(ctx, connect.NewRequest(&treuev1.HoldRequest{CardNumber: card, Points: 41, IdempotencyKey: "h2-" + p.name}))
			checkCode(t, err, connect.CodeFailedPrecondition)

			capt, err := till.Capture(ctx, connect.NewRequest(&treuev1.CaptureRequest{HoldId: h.GetId(), Points: 45, IdempotencyKey: "c-" + p.name}))
			mustOK(t, err)
			if capt.Msg.GetPointsSpent() != 45 || capt.Msg.GetBalance() != 55 || capt.Msg.GetHold().GetStatus() != treuev1.HoldStatus_HOLD_STATUS_CAPTURED || available() != 55 {
				t.Fatalf("Capture = %v, available %d", capt.Msg, available())
			}
			again, err := till.Capture(ctx, connect.NewRequest(&treuev1.CaptureRequest{HoldId: h.GetId(), Points: 45, IdempotencyKey: "c-" + p.name}))
			mustOK(t, err)
			sameBytes(t, capt.Msg, again.Msg)

			h2, err := till.Hold(ctx, connect.NewRequest(&treuev1.HoldRequest{CardNumber: card, Points: 10, IdempotencyKey: "h3-" + p.name}))
			mustOK(t, err)
			rel, err := till.Release(ctx, connect.NewRequest(&treuev1.ReleaseRequest{HoldId: h2.Msg.GetHold().GetId(), IdempotencyKey: "r-" + p.name}))
			mustOK(t, err)
			if rel.Msg.GetHold().GetStatus() != treuev1.HoldStatus_HOLD_STATUS_RELEASED || available() != 55 {
				t.Fatalf("Release = %v, available %d", rel.Msg, available())
			}
			_, err = till.Capture(ctx, connect.NewRequest(&treuev1.CaptureRequest{HoldId: h2.Msg.GetHold().GetId(), IdempotencyKey: "c2-" + p.name}))
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = till.Hold(ctx, connect.NewRequest(&treuev1.HoldRequest{CardNumber: card, Points: 5, TtlSeconds: 7200, IdempotencyKey: "h4-" + p.name}))
			checkCode(t, err, connect.CodeInvalidArgument)
			_, err = e.till(tillKeyB, p).Capture(ctx, connect.NewRequest(&treuev1.CaptureRequest{HoldId: h.GetId(), IdempotencyKey: "x"}))
			checkCode(t, err, connect.CodeNotFound)

			act, err := alice.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{Locale: treuev1.Locale_LOCALE_EN}))
			mustOK(t, err)
			if a := act.Msg.GetActivities()[0]; a.GetKind() != treuev1.ActivityKind_ACTIVITY_KIND_CAPTURE || a.GetPoints() != -45 || a.GetReason() != "Paid with points" {
				t.Fatalf("newest activity %v", a)
			}
		})
	}
}
