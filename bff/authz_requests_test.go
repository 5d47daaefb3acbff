package bff_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// rpcCase is how the authorization matrix calls one procedure.
type rpcCase struct {
	// call calls the procedure as who, with a request aimed at the data of
	// subject (the owner, unless subject says otherwise), sending opts.
	call rpcCaller
	// namesTarget: the request names the subject's or program A's objects
	// (a card number, a voucher code, a hold, a purchase, a challenge), so a
	// till or operator of program B must get not_found or
	// permission_denied. Without it program B's caller acts on its own
	// program, and the matrix checks that nothing of program A moves or
	// shows.
	namesTarget bool
	// showsCard: the owner's answer shows the owner's card number where
	// the leak check looks (in a pass file, a save link, an export); the
	// matrix checks it does, lest the leak check of others' answers be
	// blind.
	showsCard bool
	// subject returns the member the cells aim at; nil means the owner.
	subject func(m *matrix) *matrixMember
	// last runs the procedure after all others: it erases its subject.
	last bool
	// after runs after a successful call, e.g. to restore what the call
	// took away or to check what it did.
	after func(t *testing.T, m *matrix, who matrixPrincipal, s *matrixMember)
}

// rpcCaller makes one call of a procedure and returns its response (the first
// message of a server stream).
type rpcCaller func(t *testing.T, m *matrix, procedure string, who matrixPrincipal, s *matrixMember, opts []connect.ClientOption) (proto.Message, error)

// requestBuilder returns the request who sends, aimed at s.
type requestBuilder[Req any] func(t *testing.T, m *matrix, who matrixPrincipal, s *matrixMember) *Req

// unaryCall returns a caller of a unary procedure whose requests build makes.
func unaryCall[Req, Res any](build requestBuilder[Req]) rpcCaller {
	return func(t *testing.T, m *matrix, procedure string, who matrixPrincipal, s *matrixMember, opts []connect.ClientOption) (proto.Message, error) {
		c := connect.NewClient[Req, Res](m.e.client, m.e.server.URL+procedure, opts...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := c.CallUnary(ctx, connect.NewRequest(build(t, m, who, s)))
		if err != nil {
			return nil, err
		}
		return any(res.Msg).(proto.Message), nil
	}
}

// streamCall returns a caller of a server-streaming procedure: it
// returns the stream's first message and ends the stream.
func streamCall[Req, Res any](build requestBuilder[Req]) rpcCaller {
	return func(t *testing.T, m *matrix, procedure string, who matrixPrincipal, s *matrixMember, opts []connect.ClientOption) (proto.Message, error) {
		c := connect.NewClient[Req, Res](m.e.client, m.e.server.URL+procedure, opts...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := c.CallServerStream(ctx, connect.NewRequest(build(t, m, who, s)))
		if err != nil {
			return nil, err
		}
		// Cancel before closing: a WatchCard stream never ends by itself.
		defer st.Close()
		defer cancel()
		if !st.Receive() {
			if err := st.Err(); err != nil {
				return nil, err
			}
			return nil, connect.NewError(connect.CodeUnknown, errors.New("the stream ended without a message"))
		}
		return any(st.Msg()).(proto.Message), nil
	}
}

// sameRequest returns a builder whose request is the same for every caller.
func sameRequest[Req any](req func(m *matrix, s *matrixMember) *Req) requestBuilder[Req] {
	return func(_ *testing.T, m *matrix, _ matrixPrincipal, s *matrixMember) *Req { return req(m, s) }
}

// key returns a fresh idempotency key (or push token, receipt id) of who.
func (m *matrix) key(who matrixPrincipal, what string) string {
	m.seq++
	return fmt.Sprintf("mx-%s-%s-%d", what, who, m.seq)
}

// rpcCases are the requests of every procedure, keyed by procedure. A
// procedure of serviceNames without an entry fails the matrix.
var rpcCases = map[string]rpcCase{
	// AccountService. Customer procedures name no member: the member is the
	// token's. Where a request can name the owner's data, it does.
	treuev1connect.AccountServiceEnrollProcedure: {showsCard: true, call: unaryCall[treuev1.EnrollRequest, treuev1.EnrollResponse](sameRequest(func(m *matrix, _ *matrixMember) *treuev1.EnrollRequest {
		return &treuev1.EnrollRequest{Locale: treuev1.Locale_LOCALE_EN, ReferralCode: m.referralCode}
	}))},
	treuev1connect.AccountServiceGetProfileProcedure: {showsCard: true, call: unaryCall[treuev1.GetProfileRequest, treuev1.GetProfileResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetProfileRequest {
		return &treuev1.GetProfileRequest{}
	}))},
	treuev1connect.AccountServiceGetReferralCodeProcedure: {call: unaryCall[treuev1.GetReferralCodeRequest, treuev1.GetReferralCodeResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetReferralCodeRequest {
		return &treuev1.GetReferralCodeRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},
	// A push token is the app installation's: registering another's moves
	// it (by design), so each caller registers a token of its own.
	treuev1connect.AccountServiceRegisterDeviceProcedure: {call: unaryCall[treuev1.RegisterDeviceRequest, treuev1.RegisterDeviceResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.RegisterDeviceRequest {
		return &treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
			PushToken: m.key(who, "push"), Platform: treuev1.Platform_PLATFORM_ANDROID, Locale: treuev1.Locale_LOCALE_EN,
			AppVersion: "3.4.1", TimeZone: "Europe/Berlin",
		}}
	})},
	treuev1connect.AccountServiceUnregisterDeviceProcedure: {
		call: unaryCall[treuev1.UnregisterDeviceRequest, treuev1.UnregisterDeviceResponse](sameRequest(func(m *matrix, _ *matrixMember) *treuev1.UnregisterDeviceRequest {
			return &treuev1.UnregisterDeviceRequest{PushToken: m.ownerPushToken}
		})),
		// The owner's own call removes the device; the later cells need it.
		after: func(t *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) {
			if who == asOwner {
				m.registerOwnerDevice(t)
			}
		},
	},
	treuev1connect.AccountServiceListDevicesProcedure: {call: unaryCall[treuev1.ListDevicesRequest, treuev1.ListDevicesResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ListDevicesRequest {
		return &treuev1.ListDevicesRequest{}
	}))},
	treuev1connect.AccountServiceGetConsentsProcedure: {call: unaryCall[treuev1.GetConsentsRequest, treuev1.GetConsentsResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetConsentsRequest {
		return &treuev1.GetConsentsRequest{}
	}))},
	treuev1connect.AccountServiceSetConsentProcedure: {call: unaryCall[treuev1.SetConsentRequest, treuev1.SetConsentResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.SetConsentRequest {
		return &treuev1.SetConsentRequest{Purpose: treuev1.ConsentPurpose_CONSENT_PURPOSE_PERSONALISED_OFFERS, Granted: true, TextVersion: "offers-v1", Source: "app"}
	}))},
	// Each caller sends a name of its own, so that a later export showing
	// the owner's name to another customer is a leak, not an echo.
	treuev1connect.AccountServiceUpdateProfileProcedure: {
		showsCard: true,
		call: unaryCall[treuev1.UpdateProfileRequest, treuev1.UpdateProfileResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.UpdateProfileRequest {
			if who == asOwner {
				return &treuev1.UpdateProfileRequest{Name: m.ownerName, Email: m.ownerEmail, UpdateMask: []string{"name", "email"}}
			}
			return &treuev1.UpdateProfileRequest{Name: "Mallory " + who.String(), Email: "mallory-" + who.String() + "@example.org", UpdateMask: []string{"name", "email"}}
		}),
	},

	// PrivacyService.
	treuev1connect.PrivacyServiceExportMyDataProcedure: {
		showsCard: true,
		call: streamCall[treuev1.ExportMyDataRequest, treuev1.ExportMyDataResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ExportMyDataRequest {
			return &treuev1.ExportMyDataRequest{}
		})),
	},
	treuev1connect.PrivacyServiceDeleteMyAccountProcedure: {
		call: unaryCall[treuev1.DeleteMyAccountRequest, treuev1.DeleteMyAccountResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.DeleteMyAccountRequest {
			return &treuev1.DeleteMyAccountRequest{}
		})),
		subject: func(m *matrix) *matrixMember { return m.deletesSelf },
		last:    true,
		after:   checkErased,
	},

	// CardService.
	treuev1connect.CardServiceGetCardProcedure: {showsCard: true, call: unaryCall[treuev1.GetCardRequest, treuev1.GetCardResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetCardRequest {
		return &treuev1.GetCardRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},
	// The owner's page token: it must give another customer nothing of the
	// owner's.
	treuev1connect.CardServiceListActivityProcedure: {call: unaryCall[treuev1.ListActivityRequest, treuev1.ListActivityResponse](sameRequest(func(m *matrix, _ *matrixMember) *treuev1.ListActivityRequest {
		return &treuev1.ListActivityRequest{PageSize: 5, PageToken: m.ownerPageToken, Locale: treuev1.Locale_LOCALE_EN}
	}))},
	treuev1connect.CardServiceGetCardBarcodeProcedure: {showsCard: true, call: unaryCall[treuev1.GetCardBarcodeRequest, treuev1.GetCardBarcodeResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetCardBarcodeRequest {
		return &treuev1.GetCardBarcodeRequest{Format: treuev1.BarcodeFormat_BARCODE_FORMAT_QR, WidthPx: 200}
	}))},
	treuev1connect.CardServiceWatchCardProcedure: {showsCard: true, call: streamCall[treuev1.WatchCardRequest, treuev1.WatchCardResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.WatchCardRequest {
		return &treuev1.WatchCardRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},

	// AppService: the owner's home version as the ETag.
	treuev1connect.AppServiceGetHomeProcedure: {call: unaryCall[treuev1.GetHomeRequest, treuev1.GetHomeResponse](sameRequest(func(m *matrix, _ *matrixMember) *treuev1.GetHomeRequest {
		return &treuev1.GetHomeRequest{Locale: treuev1.Locale_LOCALE_EN, IfNoneMatch: m.ownerHomeVersion}
	}))},

	// WalletService: the whole pass file, so the leak check reads its
	// pass.json.
	treuev1connect.WalletServiceGetApplePassProcedure: {showsCard: true, call: unaryCall[treuev1.GetApplePassRequest, treuev1.GetApplePassResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetApplePassRequest {
		return &treuev1.GetApplePassRequest{Delivery: treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_FILE}
	}))},
	treuev1connect.WalletServiceGetGoogleWalletLinkProcedure: {showsCard: true, call: unaryCall[treuev1.GetGoogleWalletLinkRequest, treuev1.GetGoogleWalletLinkResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetGoogleWalletLinkRequest {
		return &treuev1.GetGoogleWalletLinkRequest{}
	}))},

	// RewardService.
	treuev1connect.RewardServiceListRewardsProcedure: {call: unaryCall[treuev1.ListRewardsRequest, treuev1.ListRewardsResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ListRewardsRequest {
		return &treuev1.ListRewardsRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},
	treuev1connect.RewardServiceRedeemRewardProcedure: {call: unaryCall[treuev1.RedeemRewardRequest, treuev1.RedeemRewardResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.RedeemRewardRequest {
		return &treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: m.key(who, "redeem"), Locale: treuev1.Locale_LOCALE_EN}
	})},
	treuev1connect.RewardServiceListVouchersProcedure: {call: unaryCall[treuev1.ListVouchersRequest, treuev1.ListVouchersResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ListVouchersRequest {
		return &treuev1.ListVouchersRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},

	// ChallengeService: the challenge the owner activated.
	treuev1connect.ChallengeServiceListChallengesProcedure: {call: unaryCall[treuev1.ListChallengesRequest, treuev1.ListChallengesResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ListChallengesRequest {
		return &treuev1.ListChallengesRequest{Locale: treuev1.Locale_LOCALE_EN}
	}))},
	treuev1connect.ChallengeServiceGetChallengeProcedure: {call: unaryCall[treuev1.GetChallengeRequest, treuev1.GetChallengeResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetChallengeRequest {
		return &treuev1.GetChallengeRequest{ChallengeId: ownerChallenge, Locale: treuev1.Locale_LOCALE_EN}
	}))},
	treuev1connect.ChallengeServiceActivateChallengeProcedure: {call: unaryCall[treuev1.ActivateChallengeRequest, treuev1.ActivateChallengeResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.ActivateChallengeRequest {
		return &treuev1.ActivateChallengeRequest{ChallengeId: ownerChallenge, Locale: treuev1.Locale_LOCALE_EN}
	}))},

	// PosService: every request names the owner's card or one of the
	// owner's objects.
	treuev1connect.PosServiceLookupMemberProcedure: {namesTarget: true, call: unaryCall[treuev1.LookupMemberRequest, treuev1.LookupMemberResponse](sameRequest(func(_ *matrix, s *matrixMember) *treuev1.LookupMemberRequest {
		return &treuev1.LookupMemberRequest{CardNumber: s.card}
	}))},
	treuev1connect.PosServiceEarnProcedure: {namesTarget: true, call: unaryCall[treuev1.EarnRequest, treuev1.EarnResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, s *matrixMember) *treuev1.EarnRequest {
		return &treuev1.EarnRequest{
			CardNumber: s.card, AmountMinor: 1250, Currency: "EUR",
			IdempotencyKey: m.key(who, "earn"), ReceiptId: m.key(who, "receipt"),
			LineItems: []*treuev1.LineItem{{Sku: "latte", Name: "Latte", Category: "coffee", Quantity: 1, AmountMinor: 450}},
		}
	})},
	treuev1connect.PosServiceReverseProcedure: {namesTarget: true, call: unaryCall[treuev1.ReverseRequest, treuev1.ReverseResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.ReverseRequest {
		return &treuev1.ReverseRequest{
			Purchase:    &treuev1.ReverseRequest_PurchaseId{PurchaseId: m.ownerPurchaseID},
			AmountMinor: 500, Currency: "EUR", IdempotencyKey: m.key(who, "reverse"),
		}
	})},
	treuev1connect.PosServiceRedeemVoucherProcedure: {namesTarget: true, call: unaryCall[treuev1.RedeemVoucherRequest, treuev1.RedeemVoucherResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.RedeemVoucherRequest {
		return &treuev1.RedeemVoucherRequest{Code: m.ownerVoucher, IdempotencyKey: m.key(who, "voucher")}
	})},
	treuev1connect.PosServiceHoldProcedure: {namesTarget: true, call: unaryCall[treuev1.HoldRequest, treuev1.HoldResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, s *matrixMember) *treuev1.HoldRequest {
		return &treuev1.HoldRequest{CardNumber: s.card, Points: 5, TtlSeconds: 120, IdempotencyKey: m.key(who, "hold")}
	})},
	treuev1connect.PosServiceCaptureProcedure: {namesTarget: true, call: unaryCall[treuev1.CaptureRequest, treuev1.CaptureResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.CaptureRequest {
		return &treuev1.CaptureRequest{HoldId: m.ownerHoldToCapture, Points: 5, IdempotencyKey: m.key(who, "capture")}
	})},
	treuev1connect.PosServiceReleaseProcedure: {namesTarget: true, call: unaryCall[treuev1.ReleaseRequest, treuev1.ReleaseResponse](func(_ *testing.T, m *matrix, who matrixPrincipal, _ *matrixMember) *treuev1.ReleaseRequest {
		return &treuev1.ReleaseRequest{HoldId: m.ownerHoldToRelease, IdempotencyKey: m.key(who, "release")}
	})},

	// AdminService. GetRules, UpdateRules, PutChallenge and PutReward name
	// no object of program A: program B's operator acts on program B.
	treuev1connect.AdminServiceGetRulesProcedure: {call: unaryCall[treuev1.GetRulesRequest, treuev1.GetRulesResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.GetRulesRequest {
		return &treuev1.GetRulesRequest{}
	}))},
	// Program A's rules at program A's revision, as its operator would send
	// them back.
	treuev1connect.AdminServiceUpdateRulesProcedure: {call: unaryCall[treuev1.UpdateRulesRequest, treuev1.UpdateRulesResponse](func(t *testing.T, m *matrix, _ matrixPrincipal, _ *matrixMember) *treuev1.UpdateRulesRequest {
		got, err := m.e.admin(operatorKeyA, protocols[0]).GetRules(context.Background(), connect.NewRequest(&treuev1.GetRulesRequest{}))
		mustOK(t, err)
		return &treuev1.UpdateRulesRequest{Rules: got.Msg.GetRules(), ExpectedRevision: got.Msg.GetRevision()}
	})},
	treuev1connect.AdminServicePutChallengeProcedure: {call: unaryCall[treuev1.PutChallengeRequest, treuev1.PutChallengeResponse](sameRequest(func(m *matrix, _ *matrixMember) *treuev1.PutChallengeRequest {
		return &treuev1.PutChallengeRequest{Challenge: m.challengeRule("matrix-put")}
	}))},
	treuev1connect.AdminServiceEndChallengeProcedure: {namesTarget: true, call: unaryCall[treuev1.EndChallengeRequest, treuev1.EndChallengeResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.EndChallengeRequest {
		return &treuev1.EndChallengeRequest{ChallengeId: challengeToEnd}
	}))},
	treuev1connect.AdminServicePutRewardProcedure: {call: unaryCall[treuev1.PutRewardRequest, treuev1.PutRewardResponse](sameRequest(func(*matrix, *matrixMember) *treuev1.PutRewardRequest {
		stock := int64(3)
		return &treuev1.PutRewardRequest{Reward: &treuev1.CatalogReward{
			Id: "matrix-pastry", Name: &treuev1.LocalizedText{De: "Gebäck", En: "Pastry"}, Cost: 15, Stock: &stock, Active: true,
		}}
	}))},
	treuev1connect.AdminServiceSimulateProcedure: {namesTarget: true, call: unaryCall[treuev1.SimulateRequest, treuev1.SimulateResponse](sameRequest(func(_ *matrix, s *matrixMember) *treuev1.SimulateRequest {
		return &treuev1.SimulateRequest{
			CardNumber: s.card, AmountMinor: 1000, Currency: "EUR",
			LineItems: []*treuev1.LineItem{{Sku: "latte", Category: "coffee", Quantity: 1, AmountMinor: 450}},
		}
	}))},
	treuev1connect.AdminServiceEraseMemberProcedure: {
		namesTarget: true,
		call: unaryCall[treuev1.EraseMemberRequest, treuev1.EraseMemberResponse](sameRequest(func(_ *matrix, s *matrixMember) *treuev1.EraseMemberRequest {
			return &treuev1.EraseMemberRequest{CardNumber: s.card, Reason: "asked in writing to be forgotten"}
		})),
		subject: func(m *matrix) *matrixMember { return m.erasedByOperator },
		last:    true,
		after:   checkErased,
	},
}
