package bff

import (
	"context"
	"math"

	"connectrpc.com/connect"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// challengeHandler serves treue.v1.ChallengeService.
type challengeHandler struct{ svc *loyalty.Service }

func (h challengeHandler) ListChallenges(ctx context.Context, req *connect.Request[treuev1.ListChallengesRequest]) (*connect.Response[treuev1.ListChallengesResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	views, m, err := h.svc.Challenges(ctx, c)
	if err != nil {
		return nil, err
	}
	l := localeOf(req.Msg.GetLocale(), m)
	res := &treuev1.ListChallengesResponse{Challenges: make([]*treuev1.Challenge, 0, len(views))}
	for _, v := range views {
		res.Challenges = append(res.Challenges, toProtoChallenge(v, l))
	}
	return connect.NewResponse(res), nil
}

func (h challengeHandler) GetChallenge(ctx context.Context, req *connect.Request[treuev1.GetChallengeRequest]) (*connect.Response[treuev1.GetChallengeResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	v, m, err := h.svc.Challenge(ctx, c, req.Msg.GetChallengeId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.GetChallengeResponse{
		Challenge: toProtoChallenge(v, localeOf(req.Msg.GetLocale(), m)),
	}), nil
}

func (h challengeHandler) ActivateChallenge(ctx context.Context, req *connect.Request[treuev1.ActivateChallengeRequest]) (*connect.Response[treuev1.ActivateChallengeResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	v, m, err := h.svc.ActivateChallenge(ctx, c, req.Msg.GetChallengeId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&treuev1.ActivateChallengeResponse{
		Challenge: toProtoChallenge(v, localeOf(req.Msg.GetLocale(), m)),
	}), nil
}

var challengeKinds = map[gamification.ChallengeKind]treuev1.ChallengeKind{
	gamification.KindVisits:    treuev1.ChallengeKind_CHALLENGE_KIND_VISITS,
	gamification.KindSpend:     treuev1.ChallengeKind_CHALLENGE_KIND_SPEND,
	gamification.KindProduct:   treuev1.ChallengeKind_CHALLENGE_KIND_PRODUCT,
	gamification.KindStreak:    treuev1.ChallengeKind_CHALLENGE_KIND_STREAK,
	gamification.KindTimeOfDay: treuev1.ChallengeKind_CHALLENGE_KIND_TIME_OF_DAY,
	gamification.KindMulti:     treuev1.ChallengeKind_CHALLENGE_KIND_MULTI,
}

var challengeStatuses = map[loyalty.ChallengeStatus]treuev1.ChallengeStatus{
	loyalty.ChallengeAvailable: treuev1.ChallengeStatus_CHALLENGE_STATUS_AVAILABLE,
	loyalty.ChallengeActive:    treuev1.ChallengeStatus_CHALLENGE_STATUS_ACTIVE,
	loyalty.ChallengeCompleted: treuev1.ChallengeStatus_CHALLENGE_STATUS_COMPLETED,
	// The rules also report challenges a member took part in but left the
	// audience of; loyalty passes the status through.
	loyalty.ChallengeStatus(gamification.StatusEnded): treuev1.ChallengeStatus_CHALLENGE_STATUS_ENDED,
}

// toProtoChallenge returns the challenge v as the member sees it, with texts
// in l.
func toProtoChallenge(v loyalty.ChallengeView, l loyalty.Locale) *treuev1.Challenge {
	ch := v.Challenge
	title := gameText(ch.Name).In(l)
	target := v.Progress.Target
	if target == 0 {
		target = ch.Target
	}
	// The progress bar ends with the activation or the challenge.
	end := v.ActiveUntil
	if end.IsZero() {
		end = ch.End
	}
	completed := v.Status == loyalty.ChallengeCompleted
	return &treuev1.Challenge{
		Id:          ch.ID,
		Title:       title,
		Description: gameText(ch.Description).In(l),
		Kind:        challengeKinds[ch.Kind],
		Status:      challengeStatuses[v.Status],
		OptIn:       ch.OptIn,
		Progress: &treuev1.ChallengeProgress{
			ChallengeId:  ch.ID,
			Title:        title,
			Current:      v.Progress.Current,
			Target:       target,
			ProgressText: gameText(v.Progress.Text).In(l),
			BonusPoints:  ch.Reward,
			EndTime:      optTime(end),
			Completed:    completed,
		},
		BonusPoints:    ch.Reward,
		StartTime:      optTime(ch.Start),
		EndTime:        optTime(ch.End),
		ActiveUntil:    optTime(v.ActiveUntil),
		Completions:    clampInt32(v.Completions),
		MaxCompletions: clampInt32(max(v.MaxCompletions, 1)),
	}
}

// gameText returns a text of the rules as the domain's text.
func gameText(t gamification.Text) loyalty.Text { return loyalty.Text(t) }

// clampInt32 returns n as an int32, saturated at the bounds; the domain's
// counts are far below them.
func clampInt32(n int) int32 {
	return int32(min(max(n, math.MinInt32), math.MaxInt32))
}
