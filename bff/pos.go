package bff

import (
	"context"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// posHandler serves treue.v1.PosService.
type posHandler struct{ svc *loyalty.Service }

func (h posHandler) LookupMember(ctx context.Context, req *connect.Request[treuev1.LookupMemberRequest]) (*connect.Response[treuev1.LookupMemberResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	card, err := h.svc.LookupMember(ctx, t, req.Msg.GetCardNumber())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.LookupMemberResponse{Member: &treuev1.Member{
		Card:   toProtoCard(card, card.Member.Locale),
		Locale: toProtoLocale(card.Member.Locale),
	}}), nil
}

func (h posHandler) Earn(ctx context.Context, req *connect.Request[treuev1.EarnRequest]) (*connect.Response[treuev1.EarnResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	lines, err := fromProtoLineItems(req.Msg.GetLineItems())
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Earn(ctx, t, loyalty.EarnRequest{
		CardNumber:     req.Msg.GetCardNumber(),
		AmountMinor:    req.Msg.GetAmountMinor(),
		Currency:       req.Msg.GetCurrency(),
		IdempotencyKey: req.Msg.GetIdempotencyKey(),
		ReceiptID:      req.Msg.GetReceiptId(),
		Lines:          lines,
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.EarnResponse{
		PointsEarned: res.Points,
		Balance:      res.Balance,
		PurchaseId:   res.PurchaseID,
		ActivityId:   entryID(res.EntryID),
	}), nil
}

func (h posHandler) Reverse(ctx context.Context, req *connect.Request[treuev1.ReverseRequest]) (*connect.Response[treuev1.ReverseResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Reverse(ctx, t, loyalty.ReverseRequest{
		PurchaseID:     req.Msg.GetPurchaseId(),
		ReceiptID:      req.Msg.GetReceiptId(),
		AmountMinor:    req.Msg.GetAmountMinor(),
		Currency:       req.Msg.GetCurrency(),
		IdempotencyKey: req.Msg.GetIdempotencyKey(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.ReverseResponse{
		PointsReversed:      res.Points,
		PointsUnrecovered:   res.Unrecovered,
		Balance:             res.Balance,
		ReturnedAmountMinor: res.ReturnedMinor,
		ActivityId:          entryID(res.EntryID),
	}), nil
}

func (h posHandler) RedeemVoucher(ctx context.Context, req *connect.Request[treuev1.RedeemVoucherRequest]) (*connect.Response[treuev1.RedeemVoucherResponse], error) {
	t, err := tillFrom(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.RedeemVoucher(ctx, t, req.Msg.GetCode(), req.Msg.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.RedeemVoucherResponse{
		Voucher: toProtoVoucher(v, loyalty.DefaultLocale, v.RedeemedAt),
	}), nil
}
