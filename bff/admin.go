package bff

import (
	"context"
	"fmt"
	"reflect"

	"connectrpc.com/connect"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// adminHandler serves treue.v1.AdminService.
type adminHandler struct{ svc *loyalty.Service }

func (h adminHandler) GetRules(ctx context.Context, _ *connect.Request[treuev1.GetRulesRequest]) (*connect.Response[treuev1.GetRulesResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, rev, err := h.svc.Rules(ctx, op)
	if err != nil {
		return nil, err
	}
	res := &treuev1.GetRulesResponse{Revision: rev}
	// A program without rules has zero rules, which no valid rules are
	// (stars need a per_minor).
	if !reflect.DeepEqual(r, gamification.Rules{}) {
		res.Rules = toProtoRules(r)
	}
	return connect.NewResponse(res), nil
}

func (h adminHandler) UpdateRules(ctx context.Context, req *connect.Request[treuev1.UpdateRulesRequest]) (*connect.Response[treuev1.UpdateRulesResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetExpectedRevision() < 0 {
		return nil, fmt.Errorf("%w: expected_revision must not be negative: pass the revision from GetRules", loyalty.ErrInvalid)
	}
	r, err := fromProtoRules(req.Msg.GetRules(), "rules")
	if err != nil {
		return nil, err
	}
	rev, err := h.svc.UpdateRules(ctx, op, r, req.Msg.GetExpectedRevision())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.UpdateRulesResponse{Revision: rev}), nil
}

func (h adminHandler) PutChallenge(ctx context.Context, req *connect.Request[treuev1.PutChallengeRequest]) (*connect.Response[treuev1.PutChallengeResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := fromProtoChallengeRule(req.Msg.GetChallenge(), "challenge")
	if err != nil {
		return nil, err
	}
	rev, err := h.svc.PutChallenge(ctx, op, c)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.PutChallengeResponse{Revision: rev}), nil
}

func (h adminHandler) EndChallenge(ctx context.Context, req *connect.Request[treuev1.EndChallengeRequest]) (*connect.Response[treuev1.EndChallengeResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	rev, err := h.svc.EndChallenge(ctx, op, req.Msg.GetChallengeId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.EndChallengeResponse{Revision: rev}), nil
}

func (h adminHandler) PutReward(ctx context.Context, req *connect.Request[treuev1.PutRewardRequest]) (*connect.Response[treuev1.PutRewardResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := fromProtoCatalogReward(req.Msg.GetReward(), "reward")
	if err != nil {
		return nil, err
	}
	if err := h.svc.PutReward(ctx, op, r); err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.PutRewardResponse{Reward: toProtoCatalogReward(r)}), nil
}

func (h adminHandler) Simulate(ctx context.Context, req *connect.Request[treuev1.SimulateRequest]) (*connect.Response[treuev1.SimulateResponse], error) {
	op, err := operatorFrom(ctx)
	if err != nil {
		return nil, err
	}
	lines, err := fromProtoLineItems(req.Msg.GetLineItems())
	if err != nil {
		return nil, err
	}
	in := loyalty.SimulateRequest{
		CardNumber:  req.Msg.GetCardNumber(),
		AmountMinor: req.Msg.GetAmountMinor(),
		Currency:    req.Msg.GetCurrency(),
		Lines:       lines,
	}
	rr := &ruleReader{}
	in.At = rr.time("purchase_time", req.Msg.GetPurchaseTime())
	if rr.err != nil {
		return nil, rr.err
	}
	sim, err := h.svc.Simulate(ctx, op, in)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(toProtoSimulation(sim)), nil
}
