package notify

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
)

// welcomeDelay holds the welcome message back: the member enrolls in the
// app before it registers the device the message is for.
const welcomeDelay = time.Minute

// PlannerConfig configures a Planner.
type PlannerConfig struct {
	Logger *slog.Logger
	// TTL is how long a message of a kind is worth sending after its
	// entry; kinds missing take the defaults (points earned 12h; challenge,
	// reward, tier and birthday 72h; reminders 24h).
	TTL map[Kind]time.Duration
	// Timeout bounds the Enqueue calls of one CardsChanged; default 5s.
	Timeout time.Duration
	// Clock is the time messages are created at; default time.Now.
	Clock func() time.Time
	// Poke, when set, is called after CardsChanged queued a new message:
	// Dispatcher.Poke, so that it goes out without waiting for the next
	// interval.
	Poke func()
}

// Planner turns card changes into queued messages.
type Planner struct {
	store   Store
	log     *slog.Logger
	ttl     map[Kind]time.Duration
	timeout time.Duration
	clock   func() time.Time
	poke    func()
}

// NewPlanner returns a Planner queueing in store.
func NewPlanner(store Store, cfg PlannerConfig) *Planner {
	p := &Planner{store: store, log: cfg.Logger, ttl: ttls(cfg.TTL), timeout: cfg.Timeout, clock: cfg.Clock, poke: cfg.Poke}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.timeout <= 0 {
		p.timeout = 5 * time.Second
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	return p
}

// CardsChanged queues the messages the delivered changes call for (see
// Messages), keyed by entry so that a change delivered twice is queued
// once. It is the outbox dispatcher's hook: it returns within the
// configured Timeout and logs what it could not queue.
func (p *Planner) CardsChanged(changes []loyalty.CardChange) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	now := p.clock()
	queued := 0
	for _, c := range changes {
		for _, m := range p.Messages(c, now) {
			created, err := p.store.Enqueue(ctx, &m)
			if err != nil {
				p.log.Warn("notify: queueing a message failed", "program", m.ProgramID, "member", m.MemberID, "key", m.Key, "err", err)
				continue
			}
			if created {
				queued++
			}
		}
	}
	if queued > 0 && p.poke != nil {
		p.poke()
	}
}

// Messages returns the messages change c calls for, created at now:
//   - one KindPointsEarned for the points of the purchase: its earn
//     entries plus the bonuses that come with it (tier multiplier, boost,
//     referral), keyed by its first entry;
//   - one KindChallengeCompleted per challenge bonus, one
//     KindBirthdayReward per birthday bonus, one KindTierChanged per tier
//     entry, one KindRewardReady per voucher entry;
//   - one KindPointsEarned per other bonus without a purchase: the welcome
//     bonus (due after welcomeDelay), the referrer's referral bonus.
//
// Entries taking points (redeem, expire, reverse, capture), adjustments
// and holds call for none.
func (p *Planner) Messages(c loyalty.CardChange, now time.Time) []Message {
	st := c.State
	k := loyalty.MemberKey{ProgramID: st.ProgramID, MemberID: st.MemberID}
	expires := func(kind Kind, e loyalty.Entry) time.Time {
		at := e.CreatedAt
		if at.IsZero() {
			at = now
		}
		return at.Add(p.ttl[kind])
	}
	key := func(e loyalty.Entry) string { return "entry:" + strconv.FormatInt(e.ID, 10) }

	purchase := false
	for _, e := range c.Entries {
		if e.Kind == loyalty.EntryEarn && e.Points > 0 {
			purchase = true
		}
	}
	var (
		out    []Message
		earned int64
		first  *loyalty.Entry // of the points earned
	)
	for i, e := range c.Entries {
		var (
			kind        Kind
			title, body loyalty.Text
			link        string
			wait        time.Duration
		)
		switch {
		case e.Kind == loyalty.EntryEarn && e.Points > 0,
			e.Kind == loyalty.EntryBonus && e.Points > 0 && purchase && withPurchase(e.Detail.Grant):
			earned += e.Points
			if first == nil {
				first = &c.Entries[i]
			}
			continue
		case e.Kind == loyalty.EntryBonus && e.Points > 0:
			switch gamification.ReasonKind(e.Detail.Grant) {
			case gamification.ReasonChallenge:
				kind, link = KindChallengeCompleted, linkChallenges+e.Detail.Rule
				title, body = challengeCompletedText(e.Points, st.PointName, e.Detail.Reason)
			case gamification.ReasonBirthday:
				kind, link = KindBirthdayReward, activityLink(e.ID)
				title, body = birthdayText(e.Points, st.PointName)
			case gamification.ReasonWelcome:
				kind, link, wait = KindPointsEarned, linkCard, welcomeDelay
				title, body = welcomeText(e.Points, st.PointName, st.ProgramName)
			default:
				kind, link = KindPointsEarned, activityLink(e.ID)
				reason := loyalty.Text{DE: "Bonus", EN: "Bonus"}
				if e.Detail.Reason != nil {
					reason = filled(*e.Detail.Reason)
				}
				title, body = bonusText(e.Points, st.Balance, st.PointName, reason)
			}
		case e.Kind == loyalty.EntryTier:
			kind, link = KindTierChanged, linkCard
			title, body = tierChangedText(st.TierName, st.ProgramName, e.Detail.Reason)
			if e.Detail.Rule != st.TierID && e.Detail.Reason != nil {
				// A later entry of the change moved the card on; this
				// entry's reason names its own tier.
				title = filled(*e.Detail.Reason)
			}
		case e.Kind == loyalty.EntryVoucher:
			var reward loyalty.Text
			if e.Detail.RewardName != nil {
				reward = *e.Detail.RewardName
			}
			kind, link = KindRewardReady, linkRewards
			if e.Detail.VoucherCode != "" {
				link = linkVouchers + e.Detail.VoucherCode
			}
			title, body = rewardReadyText(reward)
		default:
			continue
		}
		m := NewMessage(k, kind, key(e), title, body, link, now, expires(kind, e))
		m.NotBefore = now.Add(wait)
		out = append(out, m)
	}
	if first != nil {
		title, body := pointsEarnedText(earned, st.Balance, st.PointName, st.ProgramName)
		m := NewMessage(k, KindPointsEarned, key(*first), title, body, activityLink(first.ID), now, expires(KindPointsEarned, *first))
		out = append([]Message{m}, out...)
	}
	return out
}

// withPurchase reports whether a bonus of grant kind g belongs to the
// purchase it came with and is told as part of its points: the tier's
// multiplier, a boost, the referee's referral bonus, kinds unknown here.
func withPurchase(g string) bool {
	switch gamification.ReasonKind(g) {
	case gamification.ReasonChallenge, gamification.ReasonBirthday, gamification.ReasonWelcome:
		return false
	}
	return true
}
