package notify

import (
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
)

var (
	stars  = loyalty.Text{DE: "Sterne", EN: "stars"}
	berlin = mustZone("Europe/Berlin")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func TestTexts(t *testing.T) {
	t.Parallel()
	challenge := loyalty.Text{DE: "Challenge „3 Besuche in 7 Tagen“ geschafft", EN: `Challenge "3 visits in 7 days" completed`}
	renewed := loyalty.Text{DE: "Dein Status Gold wurde verlängert", EN: "Your Gold status was renewed"}
	now := time.Date(2026, 6, 30, 9, 0, 0, 0, berlin)
	pair := func(title, body loyalty.Text) [2]loyalty.Text { return [2]loyalty.Text{title, body} }
	tests := []struct {
		name             string
		got              [2]loyalty.Text
		titleDE, titleEN string
		bodyDE, bodyEN   string
	}{
		{"points earned", pair(pointsEarnedText(12, 112, stars, "Café Treue")),
			"+12 Sterne", "+12 stars",
			"Für deinen Einkauf bei Café Treue. Neuer Stand: 112 Sterne.", "For your purchase at Café Treue. New balance: 112 stars."},
		{"one point earned, thousands", pair(pointsEarnedText(1, 1234, stars, "Café Treue")),
			"+1 Stern", "+1 star",
			"Für deinen Einkauf bei Café Treue. Neuer Stand: 1.234 Sterne.", "For your purchase at Café Treue. New balance: 1,234 stars."},
		{"balance of one", pair(pointsEarnedText(1, 1, stars, "Café Treue")),
			"+1 Stern", "+1 star",
			"Für deinen Einkauf bei Café Treue. Neuer Stand: 1 Stern.", "For your purchase at Café Treue. New balance: 1 star."},
		{"unnamed points", pair(pointsEarnedText(2, 5, loyalty.Text{}, "X")),
			"+2 Punkte", "+2 points",
			"Für deinen Einkauf bei X. Neuer Stand: 5 Punkte.", "For your purchase at X. New balance: 5 points."},
		{"unknown German singular stays plural", pair(pointsEarnedText(1, 1, loyalty.Text{DE: "Kronen", EN: "crowns"}, "X")),
			"+1 Kronen", "+1 crown",
			"Für deinen Einkauf bei X. Neuer Stand: 1 Kronen.", "For your purchase at X. New balance: 1 crown."},
		{"referral bonus", pair(bonusText(50, 150, stars, loyalty.Text{DE: "Danke für deine Empfehlung", EN: "Thanks for your referral"})),
			"+50 Sterne", "+50 stars",
			"Danke für deine Empfehlung. Neuer Stand: 150 Sterne.", "Thanks for your referral. New balance: 150 stars."},
		{"welcome", pair(welcomeText(25, stars, "Café Treue")),
			"Willkommen bei Café Treue", "Welcome to Café Treue",
			"25 Sterne Startguthaben sind schon auf deiner Karte.", "A welcome bonus of 25 stars is already on your card."},
		{"challenge completed", pair(challengeCompletedText(30, stars, &challenge)),
			"Challenge geschafft", "Challenge completed",
			"Challenge „3 Besuche in 7 Tagen“ geschafft: +30 Sterne", `Challenge "3 visits in 7 days" completed: +30 stars`},
		{"challenge completed without reason", pair(challengeCompletedText(30, stars, nil)),
			"Challenge geschafft", "Challenge completed",
			"+30 Sterne für deine Challenge", "+30 stars for your challenge"},
		{"reward ready", pair(rewardReadyText(loyalty.Text{DE: "Keks", EN: "Cookie"})),
			"Deine Belohnung ist bereit", "Your reward is ready",
			"Keks wartet auf dich: zeig den Gutschein an der Kasse.", "Cookie is waiting for you: show the voucher at the till."},
		{"reward ready, German name only", pair(rewardReadyText(loyalty.Text{DE: "Franzbrötchen"})),
			"Deine Belohnung ist bereit", "Your reward is ready",
			"Franzbrötchen wartet auf dich: zeig den Gutschein an der Kasse.", "Franzbrötchen is waiting for you: show the voucher at the till."},
		{"tier changed", pair(tierChangedText(loyalty.Text{DE: "Gold", EN: "Gold"}, "Café Treue", &loyalty.Text{DE: "Du bist jetzt Gold", EN: "You are now Gold"})),
			"Du bist jetzt Gold", "You are now Gold",
			"Danke für deine Treue bei Café Treue.", "Thank you for your loyalty at Café Treue."},
		{"tier renewed", pair(tierChangedText(loyalty.Text{DE: "Gold", EN: "Gold"}, "Café Treue", &renewed)),
			"Du bist jetzt Gold", "You are now Gold",
			"Dein Status Gold wurde verlängert.", "Your Gold status was renewed."},
		{"tier in English", pair(tierChangedText(loyalty.Text{DE: "Platin", EN: "Platinum"}, "C", nil)),
			"Du bist jetzt Platin", "You are now Platinum",
			"Danke für deine Treue bei C.", "Thank you for your loyalty at C."},
		{"points expiring", pair(pointsExpiringText(50, stars, time.Date(2026, 7, 1, 0, 0, 0, 0, berlin), "Café Treue")),
			"50 Sterne verfallen am 1. Juli", "50 stars expire on 1 July",
			"Tausche sie bei Café Treue gegen eine Prämie ein.", "Swap them for a reward at Café Treue."},
		{"one point expiring, March", pair(pointsExpiringText(1, stars, time.Date(2027, 3, 1, 0, 0, 0, 0, berlin), "C")),
			"1 Stern verfällt am 1. März", "1 star expires on 1 March",
			"Tausche ihn bei C gegen eine Prämie ein.", "Swap it for a reward at C."},
		{"challenge ending today", pair(challengeEndingText(loyalty.Text{DE: "3 Besuche in 7 Tagen", EN: "3 visits in 7 days"},
			time.Date(2026, 7, 1, 0, 0, 0, 0, berlin), now, loyalty.Text{DE: "2 von 3 Besuchen", EN: "2 of 3 visits"})),
			"Nur noch heute: „3 Besuche in 7 Tagen“", "Last day: “3 visits in 7 days”",
			"Stand: 2 von 3 Besuchen. Schaffst du den Rest?", "So far: 2 of 3 visits. Can you make it?"},
		{"challenge ending tomorrow", pair(challengeEndingText(loyalty.Text{DE: "5 Tage in Folge"},
			time.Date(2026, 7, 1, 8, 0, 0, 0, berlin), now, loyalty.Text{DE: "4 von 5 Tagen in Folge", EN: "4 of 5 days in a row"})),
			"Endet morgen: „5 Tage in Folge“", "Ends tomorrow: “5 Tage in Folge”",
			"Stand: 4 von 5 Tagen in Folge. Schaffst du den Rest?", "So far: 4 of 5 days in a row. Can you make it?"},
		{"birthday", pair(birthdayText(25, stars)),
			"Alles Gute zum Geburtstag!", "Happy birthday!",
			"+25 Sterne warten auf dich.", "+25 stars are waiting for you."},
		{"birthday, one star", pair(birthdayText(1, stars)),
			"Alles Gute zum Geburtstag!", "Happy birthday!",
			"+1 Stern wartet auf dich.", "+1 star is waiting for you."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, body := tt.got[0], tt.got[1]
			for _, c := range []struct{ got, want string }{
				{title.In(loyalty.LocaleDE), tt.titleDE}, {title.In(loyalty.LocaleEN), tt.titleEN},
				{body.In(loyalty.LocaleDE), tt.bodyDE}, {body.In(loyalty.LocaleEN), tt.bodyEN},
			} {
				if c.got != c.want {
					t.Errorf("got %q, want %q", c.got, c.want)
				}
			}
		})
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	m := Message{Kind: KindPointsEarned, Title: loyalty.Text{DE: "a", EN: "b"}, Body: loyalty.Text{DE: "c", EN: "d"}, Key: "k1", MemberID: "m1"}
	same := m
	same.Key, same.MemberID, same.Data = "k2", "m2", map[string]string{"link": "x"}
	if digest(m) != digest(same) {
		t.Error("digest depends on more than kind, title and body")
	}
	for name, change := range map[string]func(*Message){
		"kind":     func(m *Message) { m.Kind = KindTierChanged },
		"title de": func(m *Message) { m.Title.DE = "x" },
		"title en": func(m *Message) { m.Title.EN = "x" },
		"body de":  func(m *Message) { m.Body.DE = "x" },
		"body en":  func(m *Message) { m.Body.EN = "x" },
		"shifted":  func(m *Message) { m.Title = loyalty.Text{DE: "ab", EN: ""} },
	} {
		o := m
		change(&o)
		if digest(o) == digest(m) {
			t.Errorf("digest ignores the %s", name)
		}
	}
	if d := digest(m); len(d) != 64 {
		t.Errorf("digest %q is not 64 hex digits", d)
	}
}
