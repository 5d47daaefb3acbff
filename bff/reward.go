package bff

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// rewardHandler serves treue.v1.RewardService.
type rewardHandler struct {
	svc *loyalty.Service
	now func() time.Time
}

func (h rewardHandler) ListRewards(ctx context.Context, req *connect.Request[treuev1.ListRewardsRequest]) (*connect.Response[treuev1.ListRewardsResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	rewards, m, err := h.svc.Rewards(ctx, c)
	if err != nil {
		return nil, err
	}
	l := localeOf(req.Msg.GetLocale(), m)
	res := &treuev1.ListRewardsResponse{Rewards: make([]*treuev1.Reward, 0, len(rewards))}
	for _, r := range rewards {
		res.Rewards = append(res.Rewards, toProtoReward(r, l))
	}
	return connect.NewResponse(res), nil
}

func (h rewardHandler) RedeemReward(ctx context.Context, req *connect.Request[treuev1.RedeemRewardRequest]) (*connect.Response[treuev1.RedeemRewardResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseLocale(req.Msg.GetLocale()); err != nil {
		return nil, err
	}
	red, err := h.svc.RedeemReward(ctx, c, req.Msg.GetRewardId(), req.Msg.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	l := localeOf(req.Msg.GetLocale(), loyalty.Member{Locale: red.Locale})
	return connect.NewResponse(&treuev1.RedeemRewardResponse{
		// The voucher as issued, so that a replay answers byte for byte alike.
		Voucher: toProtoVoucher(red.Voucher, l, red.Voucher.IssuedAt),
		Balance: red.Balance,
	}), nil
}

func (h rewardHandler) ListVouchers(ctx context.Context, req *connect.Request[treuev1.ListVouchersRequest]) (*connect.Response[treuev1.ListVouchersResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	vs, m, err := h.svc.Vouchers(ctx, c)
	if err != nil {
		return nil, err
	}
	l, now := localeOf(req.Msg.GetLocale(), m), h.now()
	res := &treuev1.ListVouchersResponse{Vouchers: make([]*treuev1.Voucher, 0, len(vs))}
	for _, v := range vs {
		res.Vouchers = append(res.Vouchers, toProtoVoucher(v, l, now))
	}
	return connect.NewResponse(res), nil
}
