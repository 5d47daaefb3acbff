package bff

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// The pay-with-points calls of posHandler.

func (h posHandler) Hold(ctx context.Context, req *connect.Request[treuev1.HoldRequest]) (*connect.Response[treuev1.HoldResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Hold(ctx, t, loyalty.HoldRequest{
		CardNumber:     req.Msg.GetCardNumber(),
		Points:         req.Msg.GetPoints(),
		TTL:            time.Duration(req.Msg.GetTtlSeconds()) * time.Second,
		IdempotencyKey: req.Msg.GetIdempotencyKey(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.HoldResponse{
		Hold:             toProtoHold(res.Hold),
		AvailableBalance: res.Available,
	}), nil
}

func (h posHandler) Capture(ctx context.Context, req *connect.Request[treuev1.CaptureRequest]) (*connect.Response[treuev1.CaptureResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Capture(ctx, t, req.Msg.GetHoldId(), req.Msg.GetPoints(), req.Msg.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.CaptureResponse{
		Hold:        toProtoHold(res.Hold),
		PointsSpent: res.Points,
		Balance:     res.Balance,
		ActivityId:  entryID(res.EntryID),
	}), nil
}

func (h posHandler) Release(ctx context.Context, req *connect.Request[treuev1.ReleaseRequest]) (*connect.Response[treuev1.ReleaseResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	hold, err := h.svc.Release(ctx, t, req.Msg.GetHoldId(), req.Msg.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.ReleaseResponse{Hold: toProtoHold(hold)}), nil
}
