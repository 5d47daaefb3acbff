package bff

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime"
)

// watchLimits bound a WatchCard stream.
type watchLimits struct {
	// heartbeat is the longest a stream stays silent.
	heartbeat time.Duration
	// maxAge ends a stream; the app resumes with since_version.
	maxAge time.Duration
}

// Default stream limits.
const (
	DefaultHeartbeat   = 20 * time.Second
	DefaultMaxWatchAge = time.Hour
)

var causes = map[realtime.Cause]treuev1.CardUpdateCause{
	realtime.CauseInitial: treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_INITIAL,
	realtime.CauseChange:  treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_CHANGE,
	realtime.CauseTime:    treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_TIME,
	realtime.CauseResync:  treuev1.CardUpdateCause_CARD_UPDATE_CAUSE_RESYNC,
}

func (h cardHandler) WatchCard(ctx context.Context, req *connect.Request[treuev1.WatchCardRequest], stream *connect.ServerStream[treuev1.WatchCardResponse]) error {
	c, err := customerFrom(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.watch.maxAge)
	defer cancel()
	w, u, err := h.cards.Watch(ctx, c, req.Msg.GetSinceVersion(), req.Msg.SinceVersion != nil)
	if err != nil {
		return err
	}
	defer w.Close()
	l := stateLocale(req.Msg.GetLocale(), u.State)
	for {
		if err := stream.Send(toWatchResponse(u, l)); err != nil {
			return err
		}
		for {
			var ok bool
			u, ok, err = w.Next(ctx, h.watch.heartbeat)
			if err != nil {
				if ctx.Err() == context.DeadlineExceeded {
					// The stream reached its age: a normal end.
					return nil
				}
				return err
			}
			if ok {
				break
			}
			hb := &treuev1.WatchCardResponse{Event: &treuev1.WatchCardResponse_Heartbeat{
				Heartbeat: &treuev1.Heartbeat{ServerTime: timestamppb.New(h.svc.Now())},
			}}
			if err := stream.Send(hb); err != nil {
				return err
			}
		}
	}
}

func toWatchResponse(u realtime.Update, l loyalty.Locale) *treuev1.WatchCardResponse {
	cu := &treuev1.CardUpdate{
		Cause:               causes[u.Cause],
		Card:                toProtoCardState(u.State, l),
		TierProgress:        toProtoTierProgress(u.State, l),
		ActivitiesTruncated: u.Truncated,
		Challenges:          toProtoChallengeProgresses(u.State.Challenges, l),
		StampCards:          toProtoStampCards(u.State.StampCards, l),
	}
	for _, e := range u.Entries {
		cu.Activities = append(cu.Activities, toProtoActivity(e, l))
	}
	return &treuev1.WatchCardResponse{Event: &treuev1.WatchCardResponse_Update{Update: cu}}
}
