package bff_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
)

func TestGetHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := e.customer("home-"+p.name, p)
			_, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{}))
			checkCode(t, err, connect.CodeFailedPrecondition)

			card := enrol(t, c)
			till := e.till(tillKeyA, p)
			_, err = till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "home-1-" + p.name}))
			mustOK(t, err)

			res, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{Locale: treuev1.Locale_LOCALE_EN}))
			mustOK(t, err)
			h := res.Msg
			if h.GetCard().GetBalance() != 12 || h.GetCard().GetAvailableBalance() != 12 || h.GetTierProgress().GetTier().GetName() != "Green" {
				t.Fatalf("home card = %v, tier %v; want balance 12 in Green", h.GetCard(), h.GetTierProgress())
			}
			var ids []string
			for _, r := range h.GetFeaturedRewards() {
				ids = append(ids, r.GetId())
			}
			// Affordable ones first, dearest first; then the next to save for.
			if want := []string{"coffee", "event", "cake"}; !slices.Equal(ids, want) {
				t.Fatalf("featured rewards = %v, want %v", ids, want)
			}
			if acts := h.GetRecentActivity(); len(acts) != 1 || acts[0].GetReason() != "Purchase of €12.50" {
				t.Fatalf("recent activity = %v", acts)
			}
			if len(h.GetErrors()) != 0 || h.GetVersion() == "" || h.GetNotModified() {
				t.Fatalf("home = errors %v, version %q, not_modified %v", h.GetErrors(), h.GetVersion(), h.GetNotModified())
			}

			same, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{Locale: treuev1.Locale_LOCALE_EN, IfNoneMatch: h.GetVersion()}))
			mustOK(t, err)
			if !same.Msg.GetNotModified() || same.Msg.GetCard() != nil || same.Msg.GetVersion() != h.GetVersion() {
				t.Fatalf("unchanged home = %v, want not_modified without parts", same.Msg)
			}
			de, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{Locale: treuev1.Locale_LOCALE_DE, IfNoneMatch: h.GetVersion()}))
			mustOK(t, err)
			if de.Msg.GetNotModified() || de.Msg.GetCard().GetPointName() != "Sterne" {
				t.Fatalf("home in German = %v, want it in full, in German", de.Msg)
			}
			_, err = till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 100, Currency: "EUR", IdempotencyKey: "home-2-" + p.name}))
			mustOK(t, err)
			changed, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{Locale: treuev1.Locale_LOCALE_EN, IfNoneMatch: h.GetVersion()}))
			mustOK(t, err)
			if changed.Msg.GetNotModified() || changed.Msg.GetCard().GetBalance() != 13 || changed.Msg.GetVersion() == h.GetVersion() {
				t.Fatalf("home after an earn = %v, want balance 13 and a new version", changed.Msg)
			}
		})
	}
}

// TestGetHomeLatePart slows the reward catalog down past its deadline: the
// home screen comes without it, saying why, and with everything else.
func TestGetHomeLatePart(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, slowRewards{openSQLite(t), time.Second}, memory.New())
	ctx := context.Background()
	c := e.customer("late", protocols[0])
	enrol(t, c)
	start := time.Now()
	res, err := c.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{}))
	mustOK(t, err)
	if took := time.Since(start); took > 800*time.Millisecond {
		t.Errorf("GetHome took %v; the late part's deadline is 200 ms", took)
	}
	errs := res.Msg.GetErrors()
	if len(errs) != 1 || errs[0].GetPart() != treuev1.HomePart_HOME_PART_REWARDS || errs[0].GetCode() != "deadline_exceeded" {
		t.Fatalf("errors = %v, want the rewards part late", errs)
	}
	if res.Msg.GetCard() == nil || len(res.Msg.GetFeaturedRewards()) != 0 {
		t.Fatalf("home = %v, want the card without rewards", res.Msg)
	}
}

// slowRewards is a store whose reward catalog takes delay to read (or until
// the caller gives up): a slow database, for deadline tests.
type slowRewards struct {
	auditedStore
	delay time.Duration
}

func (s slowRewards) View(ctx context.Context, fn func(loyalty.Tx) error) error {
	return s.auditedStore.View(ctx, func(tx loyalty.Tx) error { return fn(slowRewardsTx{tx, s.delay}) })
}

type slowRewardsTx struct {
	loyalty.Tx
	delay time.Duration
}

func (t slowRewardsTx) Rewards(ctx context.Context, programID string) ([]loyalty.Reward, error) {
	select {
	case <-time.After(t.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return t.Tx.Rewards(ctx, programID)
}
