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

// baseTierID is the id of the tier every member of a program without
// tiers is in.
const baseTierID = "base"

// toProtoTier returns the member's tier: the rules' tier, or the base tier
// in programs without tiers.
func toProtoTier(st loyalty.CardState, l loyalty.Locale) *treuev1.Tier {
	id := st.TierID
	if id == "" {
		id = baseTierID
	}
	return &treuev1.Tier{Id: id, Name: st.TierName.In(l)}
}

// toProtoChallengeProgresses returns the card's challenge progress, as of
// the member's last purchase.
func toProtoChallengeProgresses(goals []loyalty.GoalProgress, l loyalty.Locale) []*treuev1.ChallengeProgress {
	var out []*treuev1.ChallengeProgress
	for _, g := range goals {
		out = append(out, &treuev1.ChallengeProgress{
			ChallengeId:  g.ID,
			Title:        g.Name.In(l),
			Current:      g.Current,
			Target:       g.Target,
			ProgressText: g.Text.In(l),
			BonusPoints:  g.Reward,
			EndTime:      optTime(g.EndsAt),
			Completed:    g.Target > 0 && g.Current >= g.Target,
		})
	}
	return out
}

// toProtoStampCards returns the card's stamp card progress.
func toProtoStampCards(goals []loyalty.GoalProgress, l loyalty.Locale) []*treuev1.StampCardProgress {
	var out []*treuev1.StampCardProgress
	for _, g := range goals {
		out = append(out, &treuev1.StampCardProgress{
			Id:           g.ID,
			Name:         g.Name.In(l),
			Current:      g.Current,
			Target:       g.Target,
			ProgressText: g.Text.In(l),
		})
	}
	return out
}

// optTime returns t as a timestamp, nil when t is zero (open, unknown).
func optTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// toProtoTierProgress returns the tier part of the home screen: the tier
// and, below the top tier, how far the next one is. In programs without
// tiers every member is in the base tier with no next one.
func toProtoTierProgress(st loyalty.CardState, l loyalty.Locale) *treuev1.TierProgress {
	tp := &treuev1.TierProgress{Tier: toProtoTier(st, l)}
	if st.NextTierID == "" {
		return tp
	}
	tp.NextTier = &treuev1.Tier{Id: st.NextTierID, Name: st.NextTierName.In(l)}
	tp.QualifyingPoints = st.QualifyingPoints
	tp.NextTierPoints = st.NextTierPoints
	missing := max(st.NextTierPoints-st.QualifyingPoints, 0)
	tp.ProgressText = loyalty.Text{
		DE: fmt.Sprintf("Noch %s %s bis %s", loyalty.GroupThousands(missing, "."), st.PointName.DE, st.NextTierName.DE),
		EN: fmt.Sprintf("%s more %s to %s", loyalty.GroupThousands(missing, ","), st.PointName.In(loyalty.LocaleEN), st.NextTierName.In(loyalty.LocaleEN)),
	}.In(l)
	return tp
}

// stateLocale returns the language of texts for the card state st: the
// requested one, or the member's.
func stateLocale(requested treuev1.Locale, st loyalty.CardState) loyalty.Locale {
	return localeOf(requested, loyalty.Member{Locale: st.Locale})
}

func toProtoProfile(p loyalty.Profile) *treuev1.Profile {
	c := p.Card
	pp := &treuev1.Profile{
		MemberId:   c.Member.ID,
		ProgramId:  c.Member.ProgramID,
		Card:       toProtoCard(c, c.Member.Locale),
		Locale:     toProtoLocale(c.Member.Locale),
		EnrollTime: timestamppb.New(c.Member.CreatedAt),
		Name:       c.Member.Name,
		Email:      c.Member.Email,
	}
	if !p.Birthday.IsZero() {
		pp.Birthday = &treuev1.Birthday{Month: int32(p.Birthday.Month), Day: int32(p.Birthday.Day)}
	}
	return pp
}

var activityKinds = map[loyalty.EntryKind]treuev1.ActivityKind{
	loyalty.EntryEarn:    treuev1.ActivityKind_ACTIVITY_KIND_EARN,
	loyalty.EntryRedeem:  treuev1.ActivityKind_ACTIVITY_KIND_REDEEM,
	loyalty.EntryReverse: treuev1.ActivityKind_ACTIVITY_KIND_REVERSE,
	loyalty.EntryBonus:   treuev1.ActivityKind_ACTIVITY_KIND_BONUS,
	loyalty.EntryAdjust:  treuev1.ActivityKind_ACTIVITY_KIND_ADJUST,
	loyalty.EntryExpire:  treuev1.ActivityKind_ACTIVITY_KIND_EXPIRE,
	loyalty.EntryCapture: treuev1.ActivityKind_ACTIVITY_KIND_CAPTURE,
	loyalty.EntryTier:    treuev1.ActivityKind_ACTIVITY_KIND_TIER,
	loyalty.EntryVoucher: treuev1.ActivityKind_ACTIVITY_KIND_VOUCHER,
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

// fromProtoLineItems returns a receipt's lines; the domain validates each.
func fromProtoLineItems(items []*treuev1.LineItem) ([]loyalty.LineItem, error) {
	if len(items) > loyalty.MaxLineItems {
		return nil, fmt.Errorf("%w: at most %d line_items are allowed, got %d", loyalty.ErrInvalid, loyalty.MaxLineItems, len(items))
	}
	var lines []loyalty.LineItem
	for _, li := range items {
		lines = append(lines, loyalty.LineItem{
			SKU: li.GetSku(), Name: li.GetName(), Category: li.GetCategory(),
			Quantity: li.GetQuantity(), AmountMinor: li.GetAmountMinor(),
		})
	}
	return lines, nil
}
