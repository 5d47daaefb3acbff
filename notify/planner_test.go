package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
)

// want is what a test expects of one queued message.
type want struct {
	kind            notify.Kind
	key             string
	titleDE, bodyDE string
	titleEN, bodyEN string // checked when set
	link            string
	ttl             time.Duration
}

// check compares msgs with ws, in order.
func check(t *testing.T, msgs []notify.Message, ws ...want) {
	t.Helper()
	if len(msgs) != len(ws) {
		for _, m := range msgs {
			t.Logf("queued %s %s: %q / %q", m.Kind, m.Key, m.Title.DE, m.Body.DE)
		}
		t.Fatalf("%d messages queued, want %d", len(msgs), len(ws))
	}
	for i, w := range ws {
		m := msgs[i]
		if m.Kind != w.kind || m.Key != w.key || m.Title.DE != w.titleDE || m.Body.DE != w.bodyDE {
			t.Errorf("message %d = %s %s %q / %q, want %s %s %q / %q", i, m.Kind, m.Key, m.Title.DE, m.Body.DE, w.kind, w.key, w.titleDE, w.bodyDE)
		}
		if w.titleEN != "" && (m.Title.EN != w.titleEN || m.Body.EN != w.bodyEN) {
			t.Errorf("message %d in English = %q / %q, want %q / %q", i, m.Title.EN, m.Body.EN, w.titleEN, w.bodyEN)
		}
		wantData := map[string]string{"kind": string(w.kind), "link": w.link, "program_id": program}
		if !maps.Equal(m.Data, wantData) {
			t.Errorf("message %d data = %v, want %v", i, m.Data, wantData)
		}
		if m.State != notify.StatePending || m.Digest == "" || !m.NotBefore.Equal(m.CreatedAt) {
			t.Errorf("message %d: state %s, digest %q, not before %v, created %v: want pending, a digest, due when created", i, m.State, m.Digest, m.NotBefore, m.CreatedAt)
		}
		if w.ttl != 0 && m.ExpiresAt.Sub(m.CreatedAt) != w.ttl {
			t.Errorf("message %d expires %v after it was created, want %v", i, m.ExpiresAt.Sub(m.CreatedAt), w.ttl)
		}
	}
}

func entryKey(id int64) string { return fmt.Sprintf("entry:%d", id) }

func TestPlannerEarn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	card := e.member("u1", loyalty.LocaleDE)
	if got := e.messages(card); len(got) != 0 {
		t.Fatalf("enrolling without a welcome bonus queued %d messages", len(got))
	}
	n := e.changeCount()
	res := e.earn(card, 1250)
	check(t, e.messages(card), want{
		kind: notify.KindPointsEarned, key: entryKey(res.EntryID),
		titleDE: "+12 Sterne", bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 12 Sterne.",
		titleEN: "+12 stars", bodyEN: "For your purchase at Café Treue. New balance: 12 stars.",
		link: fmt.Sprintf("treue://activity/%d", res.EntryID), ttl: 12 * time.Hour,
	})

	// The outbox delivers at least once: the same change again queues
	// nothing more.
	again := e.changesSince(n)
	if len(again) == 0 {
		t.Fatal("the earn delivered no change")
	}
	e.planner.CardsChanged(again)
	e.planner.CardsChanged(again)
	if got := e.messages(card); len(got) != 1 {
		t.Errorf("a change delivered three times queued %d messages, want 1", len(got))
	}

	// A second purchase is news again.
	e.clock.Advance(time.Hour)
	res2 := e.earn(card, 100)
	got := e.messages(card)
	check(t, got[1:], want{
		kind: notify.KindPointsEarned, key: entryKey(res2.EntryID),
		titleDE: "+1 Stern", bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 13 Sterne.",
		titleEN: "+1 star", bodyEN: "For your purchase at Café Treue. New balance: 13 stars.",
		link: fmt.Sprintf("treue://activity/%d", res2.EntryID), ttl: 12 * time.Hour,
	})
}

func TestPlannerChallengeTierVoucher(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	card := e.member("u1", loyalty.LocaleEN)
	if _, _, err := e.svc.ActivateChallenge(e.ctx, customer(card), "three-visits"); err != nil {
		t.Fatal(err)
	}
	cake := loyalty.LineItem{SKU: "k1", Category: "kuchen", Quantity: 1, AmountMinor: 400}
	r1 := e.earn(card, 400, cake)
	e.clock.Advance(time.Hour)
	r2 := e.earn(card, 400, cake)
	e.clock.Advance(time.Hour)
	n := e.changeCount()
	r3 := e.earn(card, 400, cake) // the third visit and the third cake
	var bonus, voucher loyalty.Entry
	for _, c := range e.changesSince(n) {
		for _, en := range c.Entries {
			switch {
			case en.Kind == loyalty.EntryBonus && en.Detail.Grant == "challenge":
				bonus = en
			case en.Kind == loyalty.EntryVoucher:
				voucher = en
			}
		}
	}
	if bonus.ID == 0 || voucher.ID == 0 || voucher.Detail.VoucherCode == "" {
		t.Fatalf("the third visit wrote no challenge bonus (%+v) or voucher (%+v)", bonus, voucher)
	}
	msgs := e.messages(card)
	check(t, msgs[:2],
		want{kind: notify.KindPointsEarned, key: entryKey(r1.EntryID), titleDE: "+4 Sterne", bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 4 Sterne.", link: fmt.Sprintf("treue://activity/%d", r1.EntryID)},
		want{kind: notify.KindPointsEarned, key: entryKey(r2.EntryID), titleDE: "+4 Sterne", bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 8 Sterne.", link: fmt.Sprintf("treue://activity/%d", r2.EntryID)},
	)
	check(t, msgs[2:],
		want{kind: notify.KindPointsEarned, key: entryKey(r3.EntryID), titleDE: "+4 Sterne",
			bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 42 Sterne.", link: fmt.Sprintf("treue://activity/%d", r3.EntryID)},
		want{kind: notify.KindChallengeCompleted, key: entryKey(bonus.ID), titleDE: "Challenge geschafft",
			bodyDE: "Challenge „3 Besuche in 7 Tagen“ geschafft: +30 Sterne", titleEN: "Challenge completed",
			bodyEN: `Challenge "3 visits in 7 days" completed: +30 stars`, link: "treue://challenges/three-visits", ttl: 72 * time.Hour},
		want{kind: notify.KindRewardReady, key: entryKey(voucher.ID), titleDE: "Deine Belohnung ist bereit",
			bodyDE: "Keks wartet auf dich: zeig den Gutschein an der Kasse.", titleEN: "Your reward is ready",
			bodyEN: "Cookie is waiting for you: show the voucher at the till.", link: "treue://vouchers/" + voucher.Detail.VoucherCode, ttl: 72 * time.Hour},
	)

	// 100 stars make Gold: the purchase and the tier, and the purchase
	// after it counts the tier's bonus among the stars earned.
	e.clock.Advance(time.Hour)
	r4 := e.earn(card, 10000)
	var tier loyalty.Entry
	for _, c := range e.changesSince(n) {
		for _, en := range c.Entries {
			if en.Kind == loyalty.EntryTier {
				tier = en
			}
		}
	}
	if tier.ID == 0 {
		t.Fatal("100 stars wrote no tier entry")
	}
	msgs = e.messages(card)
	check(t, msgs[5:],
		want{kind: notify.KindPointsEarned, key: entryKey(r4.EntryID), titleDE: fmt.Sprintf("+%d Sterne", r4.Points+r4.BonusPoints),
			bodyDE: fmt.Sprintf("Für deinen Einkauf bei Café Treue. Neuer Stand: %d Sterne.", r4.Balance), link: fmt.Sprintf("treue://activity/%d", r4.EntryID)},
		want{kind: notify.KindTierChanged, key: entryKey(tier.ID), titleDE: "Du bist jetzt Gold", bodyDE: "Danke für deine Treue bei Café Treue.",
			titleEN: "You are now Gold", bodyEN: "Thank you for your loyalty at Café Treue.", link: "treue://card", ttl: 72 * time.Hour},
	)
	e.clock.Advance(time.Hour)
	r5 := e.earn(card, 1000)
	if r5.BonusPoints != 5 {
		t.Fatalf("a Gold purchase of 10 EUR earned a bonus of %d, want 5", r5.BonusPoints)
	}
	msgs = e.messages(card)
	check(t, msgs[7:], want{kind: notify.KindPointsEarned, key: entryKey(r5.EntryID), titleDE: "+15 Sterne",
		bodyDE: fmt.Sprintf("Für deinen Einkauf bei Café Treue. Neuer Stand: %d Sterne.", r5.Balance), link: fmt.Sprintf("treue://activity/%d", r5.EntryID)})

	// Spending queues nothing.
	before := len(msgs)
	if _, err := e.svc.RedeemReward(e.ctx, customer(card), "kaffee", "redeem-1"); err != nil {
		t.Fatal(err)
	}
	if got := e.messages(card); len(got) != before {
		t.Errorf("a redemption queued %d messages", len(got)-before)
	}
}

func TestPlannerWelcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *loyalty.Seed) { s.Program.Rules.Welcome = &gamification.Welcome{Points: 25} })
	card := e.member("u1", loyalty.LocaleDE)
	msgs := e.messages(card)
	if len(msgs) != 1 {
		t.Fatalf("enrolling with a welcome bonus queued %d messages, want 1", len(msgs))
	}
	// It waits a minute for the app to register the device.
	m := msgs[0]
	if !m.NotBefore.Equal(m.CreatedAt.Add(time.Minute)) {
		t.Errorf("welcome due %v after it was queued, want a minute", m.NotBefore.Sub(m.CreatedAt))
	}
	m.NotBefore = m.CreatedAt
	check(t, []notify.Message{m}, want{kind: notify.KindPointsEarned, key: m.Key, titleDE: "Willkommen bei Café Treue",
		bodyDE: "25 Sterne Startguthaben sind schon auf deiner Karte.", link: "treue://card", ttl: 12 * time.Hour})
}

// TestPlannerMessages covers the entries the service's flows above do not
// reach, with changes as the outbox carries them.
func TestPlannerMessages(t *testing.T) {
	t.Parallel()
	p := notify.NewPlanner(nil, notify.PlannerConfig{})
	now := start
	state := loyalty.CardState{
		ProgramID: program, MemberID: "m1", ProgramName: "Café Treue", PointName: loyalty.Text{DE: "Sterne", EN: "stars"},
		TierID: "gold", TierName: loyalty.Text{DE: "Gold", EN: "Gold"}, Balance: 200,
	}
	text := func(de, en string) *loyalty.Text { return &loyalty.Text{DE: de, EN: en} }
	entry := func(id int64, kind loyalty.EntryKind, points int64, d loyalty.EntryDetail) loyalty.Entry {
		return loyalty.Entry{ID: id, ProgramID: program, MemberID: "m1", Kind: kind, Points: points, CreatedAt: now.Add(-time.Hour), Detail: d}
	}
	tests := []struct {
		name    string
		entries []loyalty.Entry
		want    []want
	}{
		{"birthday", []loyalty.Entry{entry(7, loyalty.EntryBonus, 25, loyalty.EntryDetail{Grant: "birthday", Key: "birthday:2026", Reason: text("Alles Gute zum Geburtstag!", "Happy birthday!")})},
			[]want{{kind: notify.KindBirthdayReward, key: "entry:7", titleDE: "Alles Gute zum Geburtstag!", bodyDE: "+25 Sterne warten auf dich.",
				titleEN: "Happy birthday!", bodyEN: "+25 stars are waiting for you.", link: "treue://activity/7", ttl: 71 * time.Hour}}},
		{"referrer's bonus", []loyalty.Entry{entry(8, loyalty.EntryBonus, 50, loyalty.EntryDetail{Grant: "referral", Reason: text("Danke für deine Empfehlung", "Thanks for your referral")})},
			[]want{{kind: notify.KindPointsEarned, key: "entry:8", titleDE: "+50 Sterne", bodyDE: "Danke für deine Empfehlung. Neuer Stand: 200 Sterne.",
				titleEN: "+50 stars", bodyEN: "Thanks for your referral. New balance: 200 stars.", link: "treue://activity/8", ttl: 11 * time.Hour}}},
		{"purchase with boost and referee's bonus", []loyalty.Entry{
			entry(9, loyalty.EntryEarn, 10, loyalty.EntryDetail{AmountMinor: 1000, Currency: "EUR"}),
			entry(10, loyalty.EntryBonus, 10, loyalty.EntryDetail{Grant: "boost", Rule: "double"}),
			entry(11, loyalty.EntryBonus, 25, loyalty.EntryDetail{Grant: "referral", Reason: text("Empfehlungsbonus", "Referral bonus")}),
		}, []want{{kind: notify.KindPointsEarned, key: "entry:9", titleDE: "+45 Sterne", bodyDE: "Für deinen Einkauf bei Café Treue. Neuer Stand: 200 Sterne.", link: "treue://activity/9"}}},
		{"tier renewed by the daily run", []loyalty.Entry{entry(12, loyalty.EntryTier, 0, loyalty.EntryDetail{Grant: "tier", Rule: "gold", Reason: text("Dein Status Gold wurde verlängert", "Your Gold status was renewed")})},
			[]want{{kind: notify.KindTierChanged, key: "entry:12", titleDE: "Du bist jetzt Gold", bodyDE: "Dein Status Gold wurde verlängert.", link: "treue://card"}}},
		{"redeem", []loyalty.Entry{entry(13, loyalty.EntryRedeem, -50, loyalty.EntryDetail{})}, nil},
		{"expire", []loyalty.Entry{entry(14, loyalty.EntryExpire, -50, loyalty.EntryDetail{})}, nil},
		{"reverse", []loyalty.Entry{entry(15, loyalty.EntryReverse, -5, loyalty.EntryDetail{})}, nil},
		{"capture", []loyalty.Entry{entry(16, loyalty.EntryCapture, -5, loyalty.EntryDetail{})}, nil},
		{"adjust", []loyalty.Entry{entry(17, loyalty.EntryAdjust, 5, loyalty.EntryDetail{})}, nil},
		{"hold", nil, nil},
		{"returned purchase earning nothing", []loyalty.Entry{entry(18, loyalty.EntryEarn, 0, loyalty.EntryDetail{})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Messages(loyalty.CardChange{State: state, Entries: tt.entries}, now)
			check(t, got, tt.want...)
		})
	}
}

// stuckStore is a store whose Enqueue hangs until its context ends, as
// a database that stopped answering.
type stuckStore struct{ notify.Store }

func (stuckStore) Enqueue(ctx context.Context, _ *notify.Message) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestPlannerBoundedWhenStoreHangs(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	poked := false
	p := notify.NewPlanner(stuckStore{}, notify.PlannerConfig{
		Timeout: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Poke: func() { poked = true },
	})
	earn := loyalty.Entry{ID: 1, Kind: loyalty.EntryEarn, Points: 5}
	change := loyalty.CardChange{State: loyalty.CardState{ProgramID: program, MemberID: "m1"}, Entries: []loyalty.Entry{earn}}
	t0 := time.Now()
	p.CardsChanged([]loyalty.CardChange{change, change})
	if took := time.Since(t0); took > time.Second {
		t.Errorf("CardsChanged took %v with a hanging store, want about its 50ms timeout", took)
	}
	if !strings.Contains(logs.String(), "queueing a message failed") || !strings.Contains(logs.String(), "key=entry:1") {
		t.Errorf("log %q does not report the failure", logs.String())
	}
	if poked {
		t.Error("the dispatcher was poked though nothing was queued")
	}
}
