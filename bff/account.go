package bff

import (
	"context"
	"fmt"

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
	var (
		card    loyalty.Card
		created bool
	)
	if code := req.Msg.GetReferralCode(); code != "" {
		card, created, err = h.svc.EnrollReferred(ctx, c, l, code)
	} else {
		card, created, err = h.svc.Enroll(ctx, c, l)
	}
	if err != nil {
		return nil, err
	}
	p := loyalty.Profile{Card: card}
	if !created {
		// An existing member may have given a birthday.
		if p, err = h.svc.Profile(ctx, c); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(&treuev1.EnrollResponse{
		Profile: toProtoProfile(p),
		Created: created,
	}), nil
}

func (h accountHandler) GetProfile(ctx context.Context, _ *connect.Request[treuev1.GetProfileRequest]) (*connect.Response[treuev1.GetProfileResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Profile(ctx, c)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetProfileResponse{Profile: toProtoProfile(p)}), nil
}

func (h accountHandler) GetReferralCode(ctx context.Context, req *connect.Request[treuev1.GetReferralCodeRequest]) (*connect.Response[treuev1.GetReferralCodeResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseLocale(req.Msg.GetLocale()); err != nil {
		return nil, err
	}
	code, err := h.svc.ReferralCode(ctx, c)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Program(ctx, c.ProgramID)
	if err != nil {
		return nil, err
	}
	var m loyalty.Member
	if req.Msg.GetLocale() == treuev1.Locale_LOCALE_UNSPECIFIED {
		card, err := h.svc.Card(ctx, c)
		if err != nil {
			return nil, err
		}
		m = card.Member
	}
	return connect.NewResponse(&treuev1.GetReferralCodeResponse{
		Code:      code,
		ShareText: referralShareText(p, code, localeOf(req.Msg.GetLocale(), m)),
	}), nil
}

// referralShareText returns the sentence a member shares their referral
// code with: "Mit meinem Code K7QD-M2XH bekommst du 25 Sterne bei Café
// Treue."
func referralShareText(p loyalty.Program, code string, l loyalty.Locale) string {
	var points int64
	if p.Rules != nil && p.Rules.Referral != nil {
		points = p.Rules.Referral.RefereePoints
	}
	if points <= 0 {
		return loyalty.Text{
			DE: fmt.Sprintf("Melde dich mit meinem Code %s bei %s an.", code, p.Name),
			EN: fmt.Sprintf("Join %s with my code %s.", p.Name, code),
		}.In(l)
	}
	return loyalty.Text{
		DE: fmt.Sprintf("Mit meinem Code %s bekommst du %s %s bei %s.", code, loyalty.GroupThousands(points, "."), p.PointName.DE, p.Name),
		EN: fmt.Sprintf("Use my code %s to get %s %s at %s.", code, loyalty.GroupThousands(points, ","), p.PointName.In(loyalty.LocaleEN), p.Name),
	}.In(l)
}
