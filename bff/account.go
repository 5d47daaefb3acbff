package bff

import (
	"context"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// accountHandler serves treue.v1.AccountService.
type accountHandler struct{ svc *loyalty.Service }

func (h accountHandler) Enroll(ctx context.Context, req *connect.Request[treuev1.EnrollRequest]) (*connect.Response[treuev1.EnrollResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	l, err := parseLocale(req.Msg.GetLocale())
	if err != nil {
		return nil, err
	}
	card, created, err := h.svc.Enroll(ctx, c, l)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.EnrollResponse{
		Profile: toProtoProfile(card, card.Member.Locale),
		Created: created,
	}), nil
}

func (h accountHandler) GetProfile(ctx context.Context, _ *connect.Request[treuev1.GetProfileRequest]) (*connect.Response[treuev1.GetProfileResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	card, err := h.svc.Card(ctx, c)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetProfileResponse{Profile: toProtoProfile(card, card.Member.Locale)}), nil
}
