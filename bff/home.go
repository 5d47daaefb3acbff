package bff

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime"
)

// appHandler serves treue.v1.AppService.
type appHandler struct {
	svc   *loyalty.Service
	cards *realtime.Hub
	parts partDeadlines
}

// partDeadlines bound the parts of the home screen.
type partDeadlines struct {
	card, other time.Duration
}

// Default part deadlines of GetHome.
const (
	DefaultCardPartDeadline  = 300 * time.Millisecond
	DefaultOtherPartDeadline = 200 * time.Millisecond
)

// Sizes of the home screen's lists.
const (
	homeRewards  = 3
	homeActivity = 5
)

func (h appHandler) GetHome(ctx context.Context, req *connect.Request[treuev1.GetHomeRequest]) (*connect.Response[treuev1.GetHomeResponse], error) {
	c, err := customerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if len(req.Msg.GetIfNoneMatch()) > 64 {
		return nil, fmt.Errorf("%w: if_none_match is longer than any version; pass a version from GetHome", loyalty.ErrInvalid)
	}
	card := startPart(ctx, h.parts.card, func(ctx context.Context) (loyalty.CardState, error) {
		return h.cards.Card(ctx, c, 0)
	})
	rewards := startPart(ctx, h.parts.other, func(ctx context.Context) ([]loyalty.Reward, error) {
		rs, _, err := h.svc.Rewards(ctx, c)
		return rs, err
	})
	activity := startPart(ctx, h.parts.other, func(ctx context.Context) ([]loyalty.Entry, error) {
		es, _, err := h.svc.Activity(ctx, c, 0, homeActivity)
		return es, err
	})

	res := &treuev1.GetHomeResponse{}
	failed := func(part treuev1.HomePart, err error) {
		ce, _ := toConnectError(err)
		res.Errors = append(res.Errors, &treuev1.PartError{Part: part, Code: ce.Code().String(), Message: ce.Message()})
	}
	st, err := card()
	if errors.Is(err, loyalty.ErrNotEnrolled) {
		// Not a member: there is no home screen to show.
		return nil, err
	}
	l := stateLocale(req.Msg.GetLocale(), st)
	if err != nil {
		failed(treuev1.HomePart_HOME_PART_CARD, err)
	} else {
		res.Card = toProtoCardState(st, l)
		res.TierProgress = toProtoTierProgress(st, l)
		res.Challenges = toProtoChallengeProgresses(st.Challenges, l)
	}
	if rs, err := rewards(); err != nil {
		failed(treuev1.HomePart_HOME_PART_REWARDS, err)
	} else {
		for _, r := range featuredRewards(rs, st.Available, homeRewards) {
			res.FeaturedRewards = append(res.FeaturedRewards, toProtoReward(r, l))
		}
	}
	if es, err := activity(); err != nil {
		failed(treuev1.HomePart_HOME_PART_ACTIVITY, err)
	} else {
		for _, e := range es {
			res.RecentActivity = append(res.RecentActivity, toProtoActivity(e, l))
		}
	}
	// The inbox comes with push; until then its part is empty, without
	// error.
	res.Version = homeVersion(res, l)
	if res.Version == req.Msg.GetIfNoneMatch() {
		return connect.NewResponse(&treuev1.GetHomeResponse{Version: res.Version, NotModified: true}), nil
	}
	return connect.NewResponse(res), nil
}

// startPart starts fn with a deadline of d and returns a function that
// waits for its result: fn's, or the deadline's error when fn is late. A
// late fn runs on in the background and its result is dropped; a result
// that came in time is taken even when it is waited for after the
// deadline.
func startPart[T any](ctx context.Context, d time.Duration, fn func(context.Context) (T, error)) func() (T, error) {
	type result struct {
		v   T
		err error
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	ch := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		ch <- result{v, err}
	}()
	return func() (T, error) {
		defer cancel()
		select {
		case r := <-ch:
			return r.v, r.err
		default:
		}
		select {
		case r := <-ch:
			return r.v, r.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// featuredRewards returns up to n rewards: the dearest ones the member can
// afford with available points, then the cheapest they cannot yet.
// rewards are cheapest first.
func featuredRewards(rewards []loyalty.Reward, available int64, n int) []loyalty.Reward {
	split := 0
	for split < len(rewards) && rewards[split].Cost <= available {
		split++
	}
	var out []loyalty.Reward
	for i := split - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, rewards[i])
	}
	for i := split; i < len(rewards) && len(out) < n; i++ {
		out = append(out, rewards[i])
	}
	return out
}

// homeVersion returns the version of the home screen res: a hash of its
// content, so it changes exactly when something shown changes. A response
// with failed parts gets a version too, so the next full one differs.
func homeVersion(res *treuev1.GetHomeResponse, l loyalty.Locale) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append(b, l...))
	return "h1:" + base64.RawURLEncoding.EncodeToString(sum[:16])
}
