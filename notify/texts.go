package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/treue/treue/loyalty"
)

// Every text a member sees in a push is written here, in German and
// English. Counts of points read "1 Stern" / "1 star" and "12 Sterne" /
// "12 stars": a program names its points in the plural, and singularOf
// knows the usual names; an unknown German name stays plural.

// pointNames returns what a program calls its points, English falling
// back to German, and Punkte / points when it names none.
func pointNames(t loyalty.Text) loyalty.Text {
	if t.DE == "" && t.EN == "" {
		return loyalty.Text{DE: "Punkte", EN: "points"}
	}
	return filled(t)
}

// filled returns t with a missing language taken from the other one, as
// a name written only in German reads in English too.
func filled(t loyalty.Text) loyalty.Text {
	if t.DE == "" {
		t.DE = t.EN
	}
	if t.EN == "" {
		t.EN = t.DE
	}
	return t
}

// singularDE are the German singulars of the usual point names.
var singularDE = map[string]string{
	"Sterne": "Stern", "Punkte": "Punkt", "Bohnen": "Bohne", "Herzen": "Herz",
	"Stempel": "Stempel", "Taler": "Taler", "Coins": "Coin", "Treuepunkte": "Treuepunkt",
}

// singularOf returns the singular of the point names: by singularDE in
// German (the plural when unknown) and without the plural "s" in English.
func singularOf(names loyalty.Text) loyalty.Text {
	s := names
	if one, ok := singularDE[names.DE]; ok {
		s.DE = one
	}
	if len(s.EN) > 1 && strings.HasSuffix(s.EN, "s") && !strings.HasSuffix(s.EN, "ss") {
		s.EN = strings.TrimSuffix(s.EN, "s")
	}
	return s
}

// count returns n points, called names: "1.234 Sterne" / "1,234 stars",
// "1 Stern" / "1 star".
func count(n int64, names loyalty.Text) loyalty.Text {
	names = pointNames(names)
	if n == 1 || n == -1 {
		names = singularOf(names)
	}
	return loyalty.Text{
		DE: loyalty.GroupThousands(n, ".") + " " + names.DE,
		EN: loyalty.GroupThousands(n, ",") + " " + names.EN,
	}
}

// plus returns "+12 Sterne" / "+12 stars".
func plus(n int64, names loyalty.Text) loyalty.Text {
	c := count(n, names)
	return loyalty.Text{DE: "+" + c.DE, EN: "+" + c.EN}
}

// sentence returns t ending in a full stop, unless it ends in a
// punctuation mark already.
func sentence(t loyalty.Text) loyalty.Text {
	end := func(s string) string {
		if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
			return s
		}
		return s + "."
	}
	return loyalty.Text{DE: end(t.DE), EN: end(t.EN)}
}

// pointsEarnedText is the push for points earned with a purchase: "+12
// Sterne", "Für deinen Einkauf bei Café Treue. Neuer Stand: 112 Sterne."
func pointsEarnedText(n, balance int64, names loyalty.Text, program string) (title, body loyalty.Text) {
	b := count(balance, names)
	return plus(n, names), loyalty.Text{
		DE: fmt.Sprintf("Für deinen Einkauf bei %s. Neuer Stand: %s.", program, b.DE),
		EN: fmt.Sprintf("For your purchase at %s. New balance: %s.", program, b.EN),
	}
}

// bonusText is the push for bonus points with a reason of their own (a
// referral): "+50 Sterne", "Danke für deine Empfehlung. Neuer Stand: 150
// Sterne."
func bonusText(n, balance int64, names, reason loyalty.Text) (title, body loyalty.Text) {
	b := count(balance, names)
	r := sentence(reason)
	return plus(n, names), loyalty.Text{
		DE: r.DE + " Neuer Stand: " + b.DE + ".",
		EN: r.EN + " New balance: " + b.EN + ".",
	}
}

// welcomeText is the push for the welcome bonus: "Willkommen bei Café
// Treue", "50 Sterne Startguthaben sind schon auf deiner Karte."
func welcomeText(n int64, names loyalty.Text, program string) (title, body loyalty.Text) {
	c := count(n, names)
	verbDE := "sind"
	if n == 1 {
		verbDE = "ist"
	}
	return loyalty.Text{DE: "Willkommen bei " + program, EN: "Welcome to " + program}, loyalty.Text{
		DE: fmt.Sprintf("%s Startguthaben %s schon auf deiner Karte.", c.DE, verbDE),
		EN: fmt.Sprintf("A welcome bonus of %s is already on your card.", c.EN),
	}
}

// challengeCompletedText is the push for a completed challenge:
// "Challenge geschafft", "Challenge „3 Besuche in 7 Tagen“ geschafft: +30
// Sterne". reason is the bonus entry's; nil says only the points.
func challengeCompletedText(n int64, names loyalty.Text, reason *loyalty.Text) (title, body loyalty.Text) {
	title = loyalty.Text{DE: "Challenge geschafft", EN: "Challenge completed"}
	p := plus(n, names)
	if reason == nil {
		return title, loyalty.Text{DE: p.DE + " für deine Challenge", EN: p.EN + " for your challenge"}
	}
	r := filled(*reason)
	return title, loyalty.Text{DE: r.DE + ": " + p.DE, EN: r.EN + ": " + p.EN}
}

// rewardReadyText is the push for a voucher a stamp card gave: "Deine
// Belohnung ist bereit", "Kaffee wartet auf dich: zeig den Gutschein an der
// Kasse."
func rewardReadyText(reward loyalty.Text) (title, body loyalty.Text) {
	title = loyalty.Text{DE: "Deine Belohnung ist bereit", EN: "Your reward is ready"}
	if reward.DE == "" && reward.EN == "" {
		return title, loyalty.Text{DE: "Zeig den Gutschein an der Kasse.", EN: "Show the voucher at the till."}
	}
	r := filled(reward)
	return title, loyalty.Text{
		DE: r.DE + " wartet auf dich: zeig den Gutschein an der Kasse.",
		EN: r.EN + " is waiting for you: show the voucher at the till.",
	}
}

// tierChangedText is the push for a new tier: "Du bist jetzt Gold". reason
// is the tier entry's ("Dein Status Gold wurde verlängert"); it becomes
// the body unless it says what the title says.
func tierChangedText(tier loyalty.Text, program string, reason *loyalty.Text) (title, body loyalty.Text) {
	t := filled(tier)
	title = loyalty.Text{DE: "Du bist jetzt " + t.DE, EN: "You are now " + t.EN}
	if reason != nil && reason.DE != "" && reason.DE != title.DE {
		return title, sentence(filled(*reason))
	}
	return title, loyalty.Text{DE: "Danke für deine Treue bei " + program + ".", EN: "Thank you for your loyalty at " + program + "."}
}

// monthsDE are the German month names.
var monthsDE = [12]string{
	"Januar", "Februar", "März", "April", "Mai", "Juni",
	"Juli", "August", "September", "Oktober", "November", "Dezember",
}

// dayMonth returns the day of t in its zone: "1. Juli" / "1 July".
func dayMonth(t time.Time) loyalty.Text {
	return loyalty.Text{
		DE: fmt.Sprintf("%d. %s", t.Day(), monthsDE[t.Month()-1]),
		EN: fmt.Sprintf("%d %s", t.Day(), t.Month()),
	}
}

// pointsExpiringText is the reminder of points expiring at at (in the
// program's zone): "50 Sterne verfallen am 1. Juli", "Tausche sie bei Café
// Treue gegen eine Prämie ein."
func pointsExpiringText(n int64, names loyalty.Text, at time.Time, program string) (title, body loyalty.Text) {
	c, d := count(n, names), dayMonth(at)
	title = loyalty.Text{DE: c.DE + " verfallen am " + d.DE, EN: c.EN + " expire on " + d.EN}
	body = loyalty.Text{DE: "Tausche sie bei " + program + " gegen eine Prämie ein.", EN: "Swap them for a reward at " + program + "."}
	if n == 1 {
		title = loyalty.Text{DE: c.DE + " verfällt am " + d.DE, EN: c.EN + " expires on " + d.EN}
		body = loyalty.Text{DE: "Tausche ihn bei " + program + " gegen eine Prämie ein.", EN: "Swap it for a reward at " + program + "."}
	}
	return title, body
}

// challengeEndingText is the reminder of a challenge ending soon: "Nur
// noch heute: „3 Besuche in 7 Tagen“" when its last moment is on the day of
// now (both in the program's zone), else "Endet morgen: …"; the body is
// the progress, "Stand: 2 von 3 Besuchen. Schaffst du den Rest?".
func challengeEndingText(name loyalty.Text, endsAt, now time.Time, progress loyalty.Text) (title, body loyalty.Text) {
	n := filled(name)
	last := endsAt.Add(-time.Nanosecond).In(now.Location())
	ly, lm, ld := last.Date()
	ny, nm, nd := now.Date()
	if ly == ny && lm == nm && ld == nd {
		title = loyalty.Text{DE: "Nur noch heute: „" + n.DE + "“", EN: "Last day: “" + n.EN + "”"}
	} else {
		title = loyalty.Text{DE: "Endet morgen: „" + n.DE + "“", EN: "Ends tomorrow: “" + n.EN + "”"}
	}
	p := filled(progress)
	return title, loyalty.Text{DE: "Stand: " + p.DE + ". Schaffst du den Rest?", EN: "So far: " + p.EN + ". Can you make it?"}
}

// birthdayText is the push for the birthday bonus: "Alles Gute zum
// Geburtstag!", "+25 Sterne warten auf dich."
func birthdayText(n int64, names loyalty.Text) (title, body loyalty.Text) {
	p := plus(n, names)
	title = loyalty.Text{DE: "Alles Gute zum Geburtstag!", EN: "Happy birthday!"}
	if n == 1 {
		return title, loyalty.Text{DE: p.DE + " wartet auf dich.", EN: p.EN + " is waiting for you."}
	}
	return title, loyalty.Text{DE: p.DE + " warten auf dich.", EN: p.EN + " are waiting for you."}
}
