package loyalty

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/treue/treue/gamification"
)

// maxHistoryPurchases bounds the purchases the rules read of one member;
// with gamification.MaxHistoryDays it bounds the work of one purchase.
const maxHistoryPurchases = 2000

// gameText converts a rules text to a Text.
func gameText(t gamification.Text) Text { return Text{DE: t.DE, EN: t.EN} }

// gameMember returns what the rules see of member m with state st; the
// referrer counts only until the referral settled.
func gameMember(m Member, st GameState, referrerRewarded int) gamification.Member {
	gm := gamification.Member{
		ID: m.ID, EnrolledAt: m.CreatedAt, Tier: st.Tier, Segments: st.Segments,
		Birthday: st.Birthday, Challenges: st.Challenges, Stamps: st.Stamps,
	}
	if st.ReferredBy != "" && !st.ReferralSettled {
		gm.Referrer, gm.ReferrerRewarded = st.ReferredBy, referrerRewarded
	}
	return gm
}

// gamePurchase returns purchase p as the rules see it: after its returns.
func gamePurchase(p Purchase) gamification.Purchase {
	gp := gamification.Purchase{
		ID: p.ID, At: p.CreatedAt, AmountMinor: p.AmountMinor - p.ReturnedMinor,
		Stars: p.Points - p.ReversedPoints,
	}
	full := p.ReturnedMinor >= p.AmountMinor && p.AmountMinor > 0
	for _, l := range p.Lines {
		q := int64(l.Quantity)
		if full {
			q = 0
		}
		gp.Lines = append(gp.Lines, gamification.Line{SKU: l.SKU, Category: l.Category, Quantity: q})
	}
	return gp
}

// gameHistory returns member m's purchases the rules look at, at now.
func gameHistory(ctx context.Context, tx Tx, r gamification.Rules, m Member, gm gamification.Member, now time.Time) (gamification.History, error) {
	ps, err := tx.PurchasesSince(ctx, m.ProgramID, m.ID, gamification.HistoryFrom(r, gm, now), maxHistoryPurchases)
	if err != nil {
		return nil, err
	}
	h := make(gamification.History, 0, len(ps)+1)
	for _, p := range ps {
		h = append(h, gamePurchase(p))
	}
	return h, nil
}

// game is one member's gamification within a transaction: the state read,
// and what applying effects changed.
type game struct {
	svc     *Service
	rules   gamification.Rules
	program Program
	member  Member
	account *Account
	state   GameState
	now     time.Time
	// referrer is the referring member's state, read when the referral
	// is still open; nil otherwise.
	referrer *GameState
	// bonus is the points granted to the member.
	bonus int64
	// history is the member's purchases the last evaluation saw.
	history gamification.History
}

// loadGame returns member m's gamification state in a read-write tx; a is
// m's account, read (and locked) by the caller. It returns nil when p has
// no rules.
func (s *Service) loadGame(ctx context.Context, tx Tx, p Program, m Member, a *Account, now time.Time) (*game, error) {
	if p.Rules == nil {
		return nil, nil
	}
	st, err := tx.GameState(ctx, m.ProgramID, m.ID)
	if err != nil {
		return nil, err
	}
	g := &game{svc: s, rules: *p.Rules, program: p, member: m, account: a, state: st, now: now}
	if st.ReferredBy != "" && !st.ReferralSettled {
		// The referrer's account guards their state; it is locked after
		// the member's, and a referrer never enrolled with their
		// referee's code, so no two transactions lock them the other way.
		if _, err := tx.Account(ctx, m.ProgramID, st.ReferredBy); err != nil {
			return nil, err
		}
		rst, err := tx.GameState(ctx, m.ProgramID, st.ReferredBy)
		if err != nil {
			return nil, err
		}
		g.referrer = &rst
	}
	return g, nil
}

// member returns what the rules see of the member.
func (g *game) gameMember() gamification.Member {
	n := 0
	if g.referrer != nil {
		n = g.referrer.ReferralsRewarded
	}
	return gameMember(g.member, g.state, n)
}

// apply writes effects e of an event at g.now: grants as bonus entries
// once per key, vouchers, the tier change, challenge completions and
// stamp totals, and saves the states it changed.
func (g *game) apply(ctx context.Context, tx Tx, e gamification.Effects) error {
	for _, gr := range e.Grants {
		if err := g.grant(ctx, tx, gr); err != nil {
			return err
		}
	}
	for _, v := range e.Vouchers {
		if err := g.voucher(ctx, tx, v); err != nil {
			return err
		}
	}
	if t := e.Tier; t != nil {
		g.state.Tier = t.To
		reason := gameText(t.Reason)
		en := Entry{
			ProgramID: g.member.ProgramID, MemberID: g.member.ID, Kind: EntryTier, CreatedAt: g.now,
			Detail: EntryDetail{Reason: &reason, Grant: "tier", Rule: t.To.ID},
		}
		if err := post(ctx, tx, g.account, &en); err != nil {
			return err
		}
	}
	if len(e.Completed) > 0 {
		if g.state.Challenges == nil {
			g.state.Challenges = map[string]gamification.ChallengeState{}
		}
		maps.Copy(g.state.Challenges, e.Completed)
	}
	if len(e.StampTotals) > 0 {
		if g.state.Stamps == nil {
			g.state.Stamps = map[string]int64{}
		}
		maps.Copy(g.state.Stamps, e.StampTotals)
	}
	return nil
}

// grant credits gr once per its key, to the member or to their referrer.
func (g *game) grant(ctx context.Context, tx Tx, gr gamification.Grant) error {
	if gr.Points <= 0 {
		return nil
	}
	a := g.account
	if gr.MemberID != g.member.ID {
		if g.referrer == nil || gr.MemberID != g.referrer.MemberID {
			return fmt.Errorf("grant %s for member %s, neither the member nor the referrer", gr.Key, gr.MemberID)
		}
		ra, err := tx.Account(ctx, g.member.ProgramID, gr.MemberID)
		if err != nil {
			return err
		}
		a = &ra
	}
	created, err := tx.CreateGrant(ctx, GrantRecord{ProgramID: g.member.ProgramID, MemberID: gr.MemberID, Key: gr.Key, CreatedAt: g.now})
	if err != nil || !created {
		return err
	}
	reason := gameText(gr.Reason)
	e := Entry{
		ProgramID: g.member.ProgramID, MemberID: gr.MemberID, Kind: EntryBonus, Points: gr.Points, CreatedAt: g.now,
		Detail: EntryDetail{Reason: &reason, Grant: string(gr.Kind), Rule: gr.RuleID, Key: gr.Key},
	}
	if err := credit(ctx, tx, g.program, a, &e); err != nil {
		return err
	}
	if a == g.account {
		g.bonus += gr.Points
	} else if gr.Kind == gamification.ReasonReferral {
		g.referrer.ReferralsRewarded++
	}
	return nil
}

// voucher issues the stamp card voucher v once per its key. A voucher for
// a reward the catalog no longer has is not issued.
func (g *game) voucher(ctx context.Context, tx Tx, v gamification.VoucherGrant) error {
	r, err := tx.Reward(ctx, g.member.ProgramID, v.RewardID)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	created, err := tx.CreateGrant(ctx, GrantRecord{ProgramID: g.member.ProgramID, MemberID: g.member.ID, Key: v.Key, CreatedAt: g.now})
	if err != nil || !created {
		return err
	}
	code, err := g.svc.freeVoucherCode(ctx, tx, g.member.ProgramID)
	if err != nil {
		return err
	}
	vo := Voucher{
		ProgramID: g.member.ProgramID, Code: code, MemberID: g.member.ID, RewardID: r.ID, RewardName: r.Name,
		Status: VoucherIssued, IssuedAt: g.now, ExpiresAt: g.now.Add(g.program.VoucherValidity.D()),
	}
	if err := tx.CreateVoucher(ctx, vo); err != nil {
		return err
	}
	reason := gameText(v.Reason)
	e := Entry{
		ProgramID: g.member.ProgramID, MemberID: g.member.ID, Kind: EntryVoucher, CreatedAt: g.now, RewardID: r.ID,
		Detail: EntryDetail{Reason: &reason, RewardName: &r.Name, VoucherCode: code, Grant: "stamp_card", Rule: v.CardID, Key: v.Key},
	}
	return post(ctx, tx, g.account, &e)
}

// save writes the member's state, and the referrer's when it changed.
func (g *game) save(ctx context.Context, tx Tx) error {
	if err := tx.SaveGameState(ctx, g.state); err != nil {
		return err
	}
	if g.referrer != nil {
		return tx.SaveGameState(ctx, *g.referrer)
	}
	return nil
}

// earnPurchase evaluates purchase pur, the member's newest, against the
// rules: it returns the base points and the effects. h is the history
// without pur.
func (g *game) earnPurchase(h gamification.History, pur Purchase) (int64, gamification.Effects) {
	gp := gamePurchase(pur)
	h = append(slices.Clip(h), gp)
	base, e := gamification.Earn(g.rules, g.gameMember(), h, gp)
	h[len(h)-1].Stars = base
	g.history = h
	return base, e
}

// settle applies the effects of a purchase of amountMinor: besides apply,
// it records the progress for the card and settles an open referral.
func (g *game) settle(ctx context.Context, tx Tx, e gamification.Effects, amountMinor int64) error {
	if err := g.apply(ctx, tx, e); err != nil {
		return err
	}
	g.state.Progress = e.Challenges
	g.state.StampProgress = e.Stamps
	g.state.Qualifying = gamification.QualifyingStars(g.rules, g.history, g.now)
	if amountMinor > 0 && g.state.ReferredBy != "" && !g.state.ReferralSettled {
		g.state.ReferralSettled = true
	}
	return g.save(ctx, tx)
}
