package bff

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

var purposes = map[treuev1.ConsentPurpose]loyalty.Purpose{
	treuev1.ConsentPurpose_CONSENT_PURPOSE_TRANSACTIONAL_PUSH:  loyalty.PurposeTransactionalPush,
	treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH:      loyalty.PurposeMarketingPush,
	treuev1.ConsentPurpose_CONSENT_PURPOSE_PERSONALISED_OFFERS: loyalty.PurposePersonalisedOffers,
	treuev1.ConsentPurpose_CONSENT_PURPOSE_BIRTHDAY:            loyalty.PurposeBirthday,
	treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE:             loyalty.PurposeProfile,
}

// defaultConsentSource is the source of consents set without one.
const defaultConsentSource = "app"

func (h accountHandler) GetConsents(ctx context.Context, _ *connect.Request[treuev1.GetConsentsRequest]) (*connect.Response[treuev1.GetConsentsResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	states, history, err := h.svc.Consents(ctx, c)
	if err != nil {
		return nil, err
	}
	res := &treuev1.GetConsentsResponse{}
	for _, st := range states {
		res.Consents = append(res.Consents, toProtoConsentState(st))
	}
	for _, r := range history {
		res.History = append(res.History, toProtoConsentRecord(r))
	}
	return connect.NewResponse(res), nil
}

func (h accountHandler) SetConsent(ctx context.Context, req *connect.Request[treuev1.SetConsentRequest]) (*connect.Response[treuev1.SetConsentResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	purpose, ok := purposes[req.Msg.GetPurpose()]
	if !ok {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("purpose must be one of the CONSENT_PURPOSE_ values other than UNSPECIFIED"))
	}
	source := req.Msg.GetSource()
	if source == "" {
		source = defaultConsentSource
	}
	st, err := h.svc.SetConsent(ctx, c, purpose, req.Msg.GetGranted(), req.Msg.GetTextVersion(), source)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.SetConsentResponse{Consent: toProtoConsentState(st)}), nil
}

func toProtoPurpose(p loyalty.Purpose) treuev1.ConsentPurpose {
	for pp, lp := range purposes {
		if lp == p {
			return pp
		}
	}
	return treuev1.ConsentPurpose_CONSENT_PURPOSE_UNSPECIFIED
}

func toProtoConsentState(st loyalty.ConsentState) *treuev1.ConsentState {
	out := &treuev1.ConsentState{Purpose: toProtoPurpose(st.Purpose), Granted: st.Granted}
	if st.Latest.Seq != 0 {
		out.Latest = toProtoConsentRecord(st.Latest)
	}
	return out
}

func toProtoConsentRecord(r loyalty.Consent) *treuev1.ConsentRecord {
	return &treuev1.ConsentRecord{
		Purpose: toProtoPurpose(r.Purpose), Granted: r.Granted, TextVersion: r.TextVersion,
		Source: r.Source, RecordTime: optTime(r.At),
	}
}
