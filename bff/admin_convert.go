package bff

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// This file converts the operator's rules between their proto messages and
// gamification.Rules, both ways. Reading a request checks only what the
// messages cannot say by their types (required messages, enum values,
// clock times, timestamps) and names the field by its path in the request;
// the domain validates the rules themselves. Every conversion is total:
// missing messages read as empty ones, never as a panic.

// ruleReader reads rules from a request and keeps the first error, so that
// the conversion reads straight through and reports the first bad field.
type ruleReader struct{ err error }

// fail records that the field at path is bad, unless a field before it was.
func (rr *ruleReader) fail(path, format string, args ...any) {
	if rr.err == nil {
		rr.err = fmt.Errorf("%w: %s%s", loyalty.ErrInvalid, path, fmt.Sprintf(format, args...))
	}
}

// text returns the text at path; a required text must be present.
func (rr *ruleReader) text(path string, t *treuev1.LocalizedText, required bool) gamification.Text {
	if t == nil && required {
		rr.fail(path, " is required: want a text with at least its German (de)")
	}
	return gamification.Text{DE: t.GetDe(), EN: t.GetEn()}
}

// clock returns the time of day at path: "HH:MM", or empty for none.
func (rr *ruleReader) clock(path, s string) gamification.ClockTime {
	c := gamification.ClockTime(s)
	if _, ok := c.Minutes(); s != "" && !ok {
		rr.fail(path, ` %q is not a time of day: want "HH:MM" from "00:00" to "24:00", or empty`, s)
	}
	return c
}

// time returns the instant at path; absent is the zero time (open).
func (rr *ruleReader) time(path string, ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		rr.fail(path, " is not a valid timestamp: %v", err)
		return time.Time{}
	}
	return ts.AsTime()
}

// kind returns the challenge kind at path.
func (rr *ruleReader) kind(path string, k treuev1.ChallengeKind) gamification.ChallengeKind {
	for dk, pk := range challengeKinds {
		if pk == k {
			return dk
		}
	}
	if k == treuev1.ChallengeKind_CHALLENGE_KIND_UNSPECIFIED {
		rr.fail(path, " is required")
	} else {
		rr.fail(path, " %d is not a challenge kind", k)
	}
	return ""
}

// weekdays returns the days at path.
func (rr *ruleReader) weekdays(path string, ds []treuev1.Weekday) []time.Weekday {
	var out []time.Weekday
	for i, d := range ds {
		if d < treuev1.Weekday_WEEKDAY_MONDAY || d > treuev1.Weekday_WEEKDAY_SUNDAY {
			rr.fail(fmt.Sprintf("%s[%d]", path, i), " %s is not a weekday: want WEEKDAY_MONDAY to WEEKDAY_SUNDAY", d)
			continue
		}
		// ISO numbers Sunday 7, Go 0.
		out = append(out, time.Weekday(d%7))
	}
	return out
}

// copyStrings returns a copy of a list of ids, nil when empty.
func copyStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// fromProtoRules returns the rules p at path (the request field).
func fromProtoRules(p *treuev1.Rules, path string) (gamification.Rules, error) {
	rr := &ruleReader{}
	if p == nil {
		rr.fail(path, " is required")
		return gamification.Rules{}, rr.err
	}
	if p.GetStars() == nil {
		rr.fail(path+".stars", " is required")
	}
	r := gamification.Rules{
		TimeZone: p.GetTimeZone(),
		Stars: gamification.Stars{
			Points:   p.GetStars().GetPoints(),
			PerMinor: p.GetStars().GetPerMinor(),
		},
		TierPolicy: gamification.TierPolicy{
			WindowMonths: int(p.GetTierPolicy().GetWindowMonths()),
			StatusMonths: int(p.GetTierPolicy().GetStatusMonths()),
		},
	}
	for i, b := range p.GetStars().GetBoosts() {
		where := fmt.Sprintf("%s.stars.boosts[%d]", path, i)
		r.Stars.Boosts = append(r.Stars.Boosts, gamification.Boost{
			ID:         b.GetId(),
			Name:       rr.text(where+".name", b.GetName(), true),
			Multiplier: gamification.Permille(b.GetMultiplierPermille()),
			Weekdays:   rr.weekdays(where+".weekdays", b.GetWeekdays()),
			From:       rr.clock(where+".from_time_of_day", b.GetFromTimeOfDay()),
			To:         rr.clock(where+".to_time_of_day", b.GetToTimeOfDay()),
			Start:      rr.time(where+".start_time", b.GetStartTime()),
			End:        rr.time(where+".end_time", b.GetEndTime()),
		})
	}
	for i, t := range p.GetTiers() {
		where := fmt.Sprintf("%s.tiers[%d]", path, i)
		r.Tiers = append(r.Tiers, gamification.Tier{
			ID:              t.GetId(),
			Name:            rr.text(where+".name", t.GetName(), true),
			Multiplier:      gamification.Permille(t.GetMultiplierPermille()),
			QualifyingStars: t.GetQualifyingStars(),
		})
	}
	for i, c := range p.GetChallenges() {
		r.Challenges = append(r.Challenges, rr.challenge(fmt.Sprintf("%s.challenges[%d]", path, i), c))
	}
	if w := p.GetWelcome(); w != nil {
		r.Welcome = &gamification.Welcome{Points: w.GetPoints()}
	}
	if b := p.GetBirthday(); b != nil {
		r.Birthday = &gamification.Birthday{Points: b.GetPoints(), DaysBefore: int(b.GetDaysBefore()), DaysAfter: int(b.GetDaysAfter())}
	}
	if f := p.GetReferral(); f != nil {
		r.Referral = &gamification.Referral{
			ReferrerPoints: f.GetReferrerPoints(), RefereePoints: f.GetRefereePoints(), MaxPerReferrer: int(f.GetMaxPerReferrer()),
		}
	}
	for i, s := range p.GetStampCards() {
		where := fmt.Sprintf("%s.stamp_cards[%d]", path, i)
		r.StampCards = append(r.StampCards, gamification.StampCard{
			ID:         s.GetId(),
			Name:       rr.text(where+".name", s.GetName(), true),
			Stamps:     s.GetStamps(),
			SKUs:       copyStrings(s.GetSkus()),
			Categories: copyStrings(s.GetCategories()),
			RewardID:   s.GetRewardId(),
		})
	}
	if rr.err != nil {
		return gamification.Rules{}, rr.err
	}
	return r, nil
}

// fromProtoChallengeRule returns the challenge p at path (the request
// field).
func fromProtoChallengeRule(p *treuev1.ChallengeRule, path string) (gamification.Challenge, error) {
	rr := &ruleReader{}
	if p == nil {
		rr.fail(path, " is required")
		return gamification.Challenge{}, rr.err
	}
	c := rr.challenge(path, p)
	if rr.err != nil {
		return gamification.Challenge{}, rr.err
	}
	return c, nil
}

// challenge returns the challenge p at path.
func (rr *ruleReader) challenge(path string, p *treuev1.ChallengeRule) gamification.Challenge {
	c := gamification.Challenge{
		ID:             p.GetId(),
		Name:           rr.text(path+".name", p.GetName(), true),
		Description:    rr.text(path+".description", p.GetDescription(), false),
		Kind:           rr.kind(path+".kind", p.GetKind()),
		Target:         p.GetTarget(),
		SKUs:           copyStrings(p.GetSkus()),
		Categories:     copyStrings(p.GetCategories()),
		From:           rr.clock(path+".from_time_of_day", p.GetFromTimeOfDay()),
		To:             rr.clock(path+".to_time_of_day", p.GetToTimeOfDay()),
		Start:          rr.time(path+".start_time", p.GetStartTime()),
		End:            rr.time(path+".end_time", p.GetEndTime()),
		WindowDays:     int(p.GetWindowDays()),
		OptIn:          p.GetOptIn(),
		Tiers:          copyStrings(p.GetTiers()),
		Segments:       copyStrings(p.GetSegments()),
		MaxCompletions: int(p.GetMaxCompletions()),
		Reward:         p.GetBonusPoints(),
	}
	for i, s := range p.GetSteps() {
		where := fmt.Sprintf("%s.steps[%d]", path, i)
		c.Steps = append(c.Steps, gamification.Challenge{
			ID:          s.GetId(),
			Name:        rr.text(where+".name", s.GetName(), false),
			Description: rr.text(where+".description", s.GetDescription(), false),
			Kind:        rr.kind(where+".kind", s.GetKind()),
			Target:      s.GetTarget(),
			SKUs:        copyStrings(s.GetSkus()),
			Categories:  copyStrings(s.GetCategories()),
			From:        rr.clock(where+".from_time_of_day", s.GetFromTimeOfDay()),
			To:          rr.clock(where+".to_time_of_day", s.GetToTimeOfDay()),
		})
	}
	return c
}

// fromProtoCatalogReward returns the reward p at path (the request field).
func fromProtoCatalogReward(p *treuev1.CatalogReward, path string) (loyalty.Reward, error) {
	rr := &ruleReader{}
	if p == nil {
		rr.fail(path, " is required")
		return loyalty.Reward{}, rr.err
	}
	r := loyalty.Reward{
		ID:          p.GetId(),
		Name:        gameText(rr.text(path+".name", p.GetName(), true)),
		Description: gameText(rr.text(path+".description", p.GetDescription(), false)),
		Cost:        p.GetCost(),
		Active:      p.GetActive(),
	}
	if p.Stock != nil {
		stock := p.GetStock()
		r.Stock = &stock
	}
	if rr.err != nil {
		return loyalty.Reward{}, rr.err
	}
	return r, nil
}

// toProtoRules returns the rules r.
func toProtoRules(r gamification.Rules) *treuev1.Rules {
	p := &treuev1.Rules{
		TimeZone: r.TimeZone,
		Stars:    &treuev1.Stars{Points: r.Stars.Points, PerMinor: r.Stars.PerMinor},
	}
	for _, b := range r.Stars.Boosts {
		pb := &treuev1.Boost{
			Id:                 b.ID,
			Name:               toProtoText(b.Name),
			MultiplierPermille: int64(b.Multiplier),
			FromTimeOfDay:      string(b.From),
			ToTimeOfDay:        string(b.To),
			StartTime:          optTime(b.Start),
			EndTime:            optTime(b.End),
		}
		for _, d := range b.Weekdays {
			pb.Weekdays = append(pb.Weekdays, toProtoWeekday(d))
		}
		p.Stars.Boosts = append(p.Stars.Boosts, pb)
	}
	for _, t := range r.Tiers {
		p.Tiers = append(p.Tiers, &treuev1.TierRule{
			Id:                 t.ID,
			Name:               toProtoText(t.Name),
			MultiplierPermille: int64(t.Multiplier),
			QualifyingStars:    t.QualifyingStars,
		})
	}
	if r.TierPolicy != (gamification.TierPolicy{}) {
		p.TierPolicy = &treuev1.TierPolicy{
			WindowMonths: clampInt32(r.TierPolicy.WindowMonths),
			StatusMonths: clampInt32(r.TierPolicy.StatusMonths),
		}
	}
	for _, c := range r.Challenges {
		p.Challenges = append(p.Challenges, toProtoChallengeRule(c))
	}
	if w := r.Welcome; w != nil {
		p.Welcome = &treuev1.WelcomeBonus{Points: w.Points}
	}
	if b := r.Birthday; b != nil {
		p.Birthday = &treuev1.BirthdayBonus{Points: b.Points, DaysBefore: clampInt32(b.DaysBefore), DaysAfter: clampInt32(b.DaysAfter)}
	}
	if f := r.Referral; f != nil {
		p.Referral = &treuev1.ReferralBonus{
			ReferrerPoints: f.ReferrerPoints, RefereePoints: f.RefereePoints, MaxPerReferrer: clampInt32(f.MaxPerReferrer),
		}
	}
	for _, s := range r.StampCards {
		p.StampCards = append(p.StampCards, &treuev1.StampCardRule{
			Id:         s.ID,
			Name:       toProtoText(s.Name),
			Stamps:     s.Stamps,
			Skus:       copyStrings(s.SKUs),
			Categories: copyStrings(s.Categories),
			RewardId:   s.RewardID,
		})
	}
	return p
}

// toProtoChallengeRule returns the challenge c as the operator configures
// it.
func toProtoChallengeRule(c gamification.Challenge) *treuev1.ChallengeRule {
	p := &treuev1.ChallengeRule{
		Id:             c.ID,
		Name:           toProtoText(c.Name),
		Description:    toProtoOptText(c.Description),
		Kind:           challengeKinds[c.Kind],
		Target:         c.Target,
		Skus:           copyStrings(c.SKUs),
		Categories:     copyStrings(c.Categories),
		FromTimeOfDay:  string(c.From),
		ToTimeOfDay:    string(c.To),
		StartTime:      optTime(c.Start),
		EndTime:        optTime(c.End),
		WindowDays:     clampInt32(c.WindowDays),
		OptIn:          c.OptIn,
		Tiers:          copyStrings(c.Tiers),
		Segments:       copyStrings(c.Segments),
		MaxCompletions: clampInt32(c.MaxCompletions),
		BonusPoints:    c.Reward,
	}
	for _, s := range c.Steps {
		p.Steps = append(p.Steps, &treuev1.ChallengeStep{
			Kind:          challengeKinds[s.Kind],
			Target:        s.Target,
			Skus:          copyStrings(s.SKUs),
			Categories:    copyStrings(s.Categories),
			FromTimeOfDay: string(s.From),
			ToTimeOfDay:   string(s.To),
			Id:            s.ID,
			Name:          toProtoOptText(s.Name),
			Description:   toProtoOptText(s.Description),
		})
	}
	return p
}

// toProtoText returns a required text.
func toProtoText(t gamification.Text) *treuev1.LocalizedText {
	return &treuev1.LocalizedText{De: t.DE, En: t.EN}
}

// toProtoOptText returns an optional text: nil when empty.
func toProtoOptText(t gamification.Text) *treuev1.LocalizedText {
	if t == (gamification.Text{}) {
		return nil
	}
	return toProtoText(t)
}

// toProtoWeekday returns d in ISO numbering; WEEKDAY_UNSPECIFIED for no
// day.
func toProtoWeekday(d time.Weekday) treuev1.Weekday {
	switch {
	case d == time.Sunday:
		return treuev1.Weekday_WEEKDAY_SUNDAY
	case d > time.Sunday && d <= time.Saturday:
		return treuev1.Weekday(d)
	}
	return treuev1.Weekday_WEEKDAY_UNSPECIFIED
}

// toProtoCatalogReward returns the catalog reward r.
func toProtoCatalogReward(r loyalty.Reward) *treuev1.CatalogReward {
	p := &treuev1.CatalogReward{
		Id:          r.ID,
		Name:        &treuev1.LocalizedText{De: r.Name.DE, En: r.Name.EN},
		Description: toProtoOptText(gamification.Text(r.Description)),
		Cost:        r.Cost,
		Active:      r.Active,
	}
	if r.Stock != nil {
		stock := *r.Stock
		p.Stock = &stock
	}
	return p
}

var grantKinds = map[gamification.ReasonKind]treuev1.GrantKind{
	gamification.ReasonTier:      treuev1.GrantKind_GRANT_KIND_TIER,
	gamification.ReasonBoost:     treuev1.GrantKind_GRANT_KIND_BOOST,
	gamification.ReasonChallenge: treuev1.GrantKind_GRANT_KIND_CHALLENGE,
	gamification.ReasonWelcome:   treuev1.GrantKind_GRANT_KIND_WELCOME,
	gamification.ReasonBirthday:  treuev1.GrantKind_GRANT_KIND_BIRTHDAY,
	gamification.ReasonReferral:  treuev1.GrantKind_GRANT_KIND_REFERRAL,
}

// toProtoSimulation returns everything the simulated purchase sim does.
func toProtoSimulation(sim loyalty.Simulation) *treuev1.SimulateResponse {
	e := sim.Effects
	res := &treuev1.SimulateResponse{
		MemberId:    sim.Member.ID,
		BasePoints:  sim.Points,
		TotalPoints: sim.Points,
		Challenges:  toProtoGoals(e.Challenges),
		StampCards:  toProtoGoals(e.Stamps),
	}
	for _, g := range e.Grants {
		res.Grants = append(res.Grants, &treuev1.BonusGrant{
			MemberId: g.MemberID,
			Points:   g.Points,
			Kind:     grantKinds[g.Kind],
			RuleId:   g.RuleID,
			Reason:   toProtoText(g.Reason),
			Key:      g.Key,
		})
		if g.MemberID == sim.Member.ID {
			res.TotalPoints += g.Points
		}
	}
	for _, v := range e.Vouchers {
		res.Vouchers = append(res.Vouchers, &treuev1.VoucherGrant{
			RewardId: v.RewardID, StampCardId: v.CardID, Reason: toProtoText(v.Reason), Key: v.Key,
		})
	}
	if t := e.Tier; t != nil {
		res.TierChange = &treuev1.TierChange{
			From:   toProtoTierStatus(t.From),
			To:     toProtoTierStatus(t.To),
			Reason: toProtoText(t.Reason),
		}
	}
	for _, id := range slices.Sorted(maps.Keys(e.Completed)) {
		st := e.Completed[id]
		res.CompletedChallenges = append(res.CompletedChallenges, &treuev1.ChallengeCompletion{
			ChallengeId:      id,
			Completions:      clampInt32(st.Completions),
			ActivateTime:     optTime(st.ActivatedAt),
			LastCompleteTime: optTime(st.LastCompletedAt),
		})
	}
	if len(e.StampTotals) > 0 {
		res.StampTotals = maps.Clone(e.StampTotals)
	}
	return res
}

func toProtoTierStatus(t gamification.TierState) *treuev1.TierStatus {
	return &treuev1.TierStatus{TierId: t.ID, SinceTime: optTime(t.Since), UntilTime: optTime(t.Until)}
}

// toProtoGoals returns the progress of challenges or stamp cards, by id.
func toProtoGoals(ps []gamification.Progress) []*treuev1.GoalProgress {
	var out []*treuev1.GoalProgress
	for _, p := range ps {
		out = append(out, &treuev1.GoalProgress{Id: p.ID, Current: p.Current, Target: p.Target, Text: toProtoText(p.Text)})
	}
	return out
}
