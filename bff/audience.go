package bff

import "github.com/treue/treue/proto/treue/v1/treuev1connect"

// audiences is the one table of who may call what. The authenticator
// refuses every procedure that is not in it; a test checks that every
// procedure of every service has an entry.
var audiences = map[string]audience{
	treuev1connect.AccountServiceEnrollProcedure:           customerSelf,
	treuev1connect.AccountServiceGetProfileProcedure:       customerSelf,
	treuev1connect.AccountServiceGetReferralCodeProcedure:  customerSelf,
	treuev1connect.AccountServiceRegisterDeviceProcedure:   customerSelf,
	treuev1connect.AccountServiceUnregisterDeviceProcedure: customerSelf,
	treuev1connect.AccountServiceListDevicesProcedure:      customerSelf,
	treuev1connect.AccountServiceGetConsentsProcedure:      customerSelf,
	treuev1connect.AccountServiceSetConsentProcedure:       customerSelf,
	treuev1connect.AccountServiceUpdateProfileProcedure:    customerSelf,

	treuev1connect.PrivacyServiceExportMyDataProcedure:    customerSelf,
	treuev1connect.PrivacyServiceDeleteMyAccountProcedure: customerSensitive,

	treuev1connect.CardServiceGetCardProcedure:        customerSelf,
	treuev1connect.CardServiceListActivityProcedure:   customerSelf,
	treuev1connect.CardServiceGetCardBarcodeProcedure: customerSelf,
	treuev1connect.CardServiceWatchCardProcedure:      customerSelf,

	treuev1connect.AppServiceGetHomeProcedure: customerSelf,

	treuev1connect.WalletServiceGetApplePassProcedure:        customerSelf,
	treuev1connect.WalletServiceGetGoogleWalletLinkProcedure: customerSelf,

	treuev1connect.RewardServiceListRewardsProcedure:  customerSelf,
	treuev1connect.RewardServiceRedeemRewardProcedure: customerSensitive,
	treuev1connect.RewardServiceListVouchersProcedure: customerSelf,

	treuev1connect.ChallengeServiceListChallengesProcedure:    customerSelf,
	treuev1connect.ChallengeServiceGetChallengeProcedure:      customerSelf,
	treuev1connect.ChallengeServiceActivateChallengeProcedure: customerSelf,

	treuev1connect.PosServiceLookupMemberProcedure:  tillOfProgram,
	treuev1connect.PosServiceEarnProcedure:          tillOfProgram,
	treuev1connect.PosServiceReverseProcedure:       tillOfProgram,
	treuev1connect.PosServiceRedeemVoucherProcedure: tillOfProgram,
	treuev1connect.PosServiceHoldProcedure:          tillOfProgram,
	treuev1connect.PosServiceCaptureProcedure:       tillOfProgram,
	treuev1connect.PosServiceReleaseProcedure:       tillOfProgram,

	treuev1connect.AdminServiceGetRulesProcedure:     operatorOfProgram,
	treuev1connect.AdminServiceUpdateRulesProcedure:  operatorOfProgram,
	treuev1connect.AdminServicePutChallengeProcedure: operatorOfProgram,
	treuev1connect.AdminServiceEndChallengeProcedure: operatorOfProgram,
	treuev1connect.AdminServicePutRewardProcedure:    operatorOfProgram,
	treuev1connect.AdminServiceSimulateProcedure:     operatorOfProgram,
	treuev1connect.AdminServiceEraseMemberProcedure:  operatorOfProgram,
}
