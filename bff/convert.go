package bff

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// localeOf returns the locale a response is written in: the request's, or
// else the member's.
func localeOf(requested treuev1.Locale, m loyalty.Member) loyalty.Locale {
	switch requested {
	case treuev1.Locale_LOCALE_DE:
		return loyalty.LocaleDE
	case treuev1.Locale_LOCALE_EN:
		return loyalty.LocaleEN
	}
	if m.Locale != "" {
		return m.Locale
	}
	return loyalty.DefaultLocale
}

// parseLocale returns the domain locale of a request field; unspecified
// becomes the empty locale.
func parseLocale(l treuev1.Locale) (loyalty.Locale, error) {
	switch l {
	case treuev1.Locale_LOCALE_UNSPECIFIED:
		return "", nil
	case treuev1.Locale_LOCALE_DE:
		return loyalty.LocaleDE, nil
	case treuev1.Locale_LOCALE_EN:
		return loyalty.LocaleEN, nil
	}
	return "", fmt.Errorf("%w: locale %d is unknown: use LOCALE_DE or LOCALE_EN", loyalty.ErrInvalid, l)
}

func toProtoLocale(l loyalty.Locale) treuev1.Locale {
	if l == loyalty.LocaleEN {
		return treuev1.Locale_LOCALE_EN
	}
	return treuev1.Locale_LOCALE_DE
}

func toProtoCard(c loyalty.Card, l loyalty.Locale) *treuev1.Card {
	return toProtoCardState(c.State(time.Time{}), l)
}

// toProtoCardState returns the card of state st with texts in l.
func toProtoCardState(st loyalty.CardState, l loyalty.Locale) *treuev1.Card {
	pc := &treuev1.Card{
		CardNumber:       st.CardNumber,
		Balance:          st.Balance,
		PointName:        st.PointName.In(l),
		Tier:             toProtoTier(st, l),
		BarcodePayload:   st.CardNumber,
		ProgramName:      st.ProgramName,
		Version:          st.Version,
		AvailableBalance: st.Available,
		PendingPoints:    st.Pending,
	}
	if !st.NextExpiry.IsZero() {
		pc.NextExpiry = &treuev1.PointsExpiry{
			Points:     st.NextExpiryPoints,
			ExpireTime: timestamppb.New(st.NextExpiry),
		}
	}
	return pc
}

// baseTierID is the id of the tier every member starts in.
const baseTierID = "base"

func toProtoTier(st loyalty.CardState, l loyalty.Locale) *treuev1.Tier {
	return &treuev1.Tier{Id: baseTierID, Name: st.TierName.In(l)}
}

// toProtoTierProgress returns the tier part of the home screen. Until the
// program has tiers, every member is in the base tier with no next one.
func toProtoTierProgress(st loyalty.CardState, l loyalty.Locale) *treuev1.TierProgress {
	return &treuev1.TierProgress{Tier: toProtoTier(st, l)}
}

// stateLocale returns the language of texts for the card state st: the
// requested one, or the member's.
func stateLocale(requested treuev1.Locale, st loyalty.CardState) loyalty.Locale {
	return localeOf(requested, loyalty.Member{Locale: st.Locale})
}

func toProtoProfile(c loyalty.Card, l loyalty.Locale) *treuev1.Profile {
	return &treuev1.Profile{
		MemberId:   c.Member.ID,
		ProgramId:  c.Member.ProgramID,
		Card:       toProtoCard(c, l),
		Locale:     toProtoLocale(c.Member.Locale),
		EnrollTime: timestamppb.New(c.Member.CreatedAt),
	}
}

var activityKinds = map[loyalty.EntryKind]treuev1.ActivityKind{
	loyalty.EntryEarn:    treuev1.ActivityKind_ACTIVITY_KIND_EARN,
	loyalty.EntryRedeem:  treuev1.ActivityKind_ACTIVITY_KIND_REDEEM,
	loyalty.EntryReverse: treuev1.ActivityKind_ACTIVITY_KIND_REVERSE,
	loyalty.EntryBonus:   treuev1.ActivityKind_ACTIVITY_KIND_BONUS,
	loyalty.EntryAdjust:  treuev1.ActivityKind_ACTIVITY_KIND_ADJUST,
	loyalty.EntryExpire:  treuev1.ActivityKind_ACTIVITY_KIND_EXPIRE,
	loyalty.EntryCapture: treuev1.ActivityKind_ACTIVITY_KIND_CAPTURE,
}

func toProtoActivity(e loyalty.Entry, l loyalty.Locale) *treuev1.Activity {
	return &treuev1.Activity{
		Id:           entryID(e.ID),
		Kind:         activityKinds[e.Kind],
		Points:       e.Points,
		BalanceAfter: e.BalanceAfter,
		Reason:       e.Reason(l),
		CreateTime:   timestamppb.New(e.CreatedAt),
		ReceiptId:    e.Detail.ReceiptID,
	}
}

// entryID returns the public id of a ledger entry.
func entryID(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("e_%d", id)
}

func toProtoReward(r loyalty.Reward, l loyalty.Locale) *treuev1.Reward {
	return &treuev1.Reward{
		Id:             r.ID,
		Name:           r.Name.In(l),
		Description:    r.Description.In(l),
		Cost:           r.Cost,
		RemainingStock: r.Stock,
	}
}

var voucherStatuses = map[loyalty.VoucherStatus]treuev1.VoucherStatus{
	loyalty.VoucherIssued:   treuev1.VoucherStatus_VOUCHER_STATUS_ISSUED,
	loyalty.VoucherRedeemed: treuev1.VoucherStatus_VOUCHER_STATUS_REDEEMED,
	loyalty.VoucherExpired:  treuev1.VoucherStatus_VOUCHER_STATUS_EXPIRED,
}

func toProtoVoucher(v loyalty.Voucher, l loyalty.Locale, now time.Time) *treuev1.Voucher {
	pv := &treuev1.Voucher{
		Code:       v.Code,
		RewardId:   v.RewardID,
		RewardName: v.RewardName.In(l),
		Status:     voucherStatuses[v.StatusAt(now)],
		IssueTime:  timestamppb.New(v.IssuedAt),
		ExpireTime: timestamppb.New(v.ExpiresAt),
		Cost:       v.Cost,
	}
	if !v.RedeemedAt.IsZero() {
		pv.RedeemTime = timestamppb.New(v.RedeemedAt)
	}
	return pv
}

var holdStatuses = map[loyalty.HoldStatus]treuev1.HoldStatus{
	loyalty.HoldActive:   treuev1.HoldStatus_HOLD_STATUS_ACTIVE,
	loyalty.HoldCaptured: treuev1.HoldStatus_HOLD_STATUS_CAPTURED,
	loyalty.HoldReleased: treuev1.HoldStatus_HOLD_STATUS_RELEASED,
}

// toProtoHold returns h as of its last change, so that replays answer alike.
func toProtoHold(h loyalty.Hold) *treuev1.PointsHold {
	return &treuev1.PointsHold{
		Id:             h.ID,
		Points:         h.Points,
		Status:         holdStatuses[h.Status],
		CapturedPoints: h.Captured,
		CreateTime:     timestamppb.New(h.CreatedAt),
		ExpireTime:     timestamppb.New(h.ExpiresAt),
	}
}
