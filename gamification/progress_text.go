package gamification

import (
	"strconv"
	"strings"
)

// challengeProgressText returns the app's line for n of target in c: "2 von 3
// Besuchen" / "2 of 3 visits".
func challengeProgressText(c Challenge, n, target int64) Text {
	de := strconv.FormatInt(n, 10) + " von " + strconv.FormatInt(target, 10)
	en := strconv.FormatInt(n, 10) + " of " + strconv.FormatInt(target, 10)
	// German and English nouns agree with the target: "0 von 1 Besuch".
	one := target == 1
	switch c.Kind {
	case KindVisits:
		return Text{DE: de + challengeNoun(one, " Besuch", " Besuchen"), EN: en + challengeNoun(one, " visit", " visits")}
	case KindSpend:
		return Text{DE: euroTextDE(n) + " von " + euroTextDE(target), EN: euroTextEN(n) + " of " + euroTextEN(target)}
	case KindStreak:
		return Text{DE: de + challengeNoun(one, " Tag", " Tagen") + " in Folge", EN: en + challengeNoun(one, " day", " days") + " in a row"}
	case KindTimeOfDay:
		whenDE, whenEN := clockRangeText(c.From, c.To)
		return Text{DE: de + challengeNoun(one, " Besuch", " Besuchen") + whenDE, EN: en + challengeNoun(one, " visit", " visits") + whenEN}
	case KindMulti:
		return Text{DE: de + challengeNoun(one, " Schritt", " Schritten"), EN: en + challengeNoun(one, " step", " steps")}
	}
	return Text{DE: de, EN: en}
}

func challengeNoun(one bool, singular, plural string) string {
	if one {
		return singular
	}
	return plural
}

// clockRangeText returns " ab 14:00" / " after 14:00", " vor 11:00" /
// " before 11:00" or " von 14:00 bis 17:00" / " from 14:00 to 17:00";
// nothing for the whole day.
func clockRangeText(from, to ClockTime) (de, en string) {
	_, hasFrom := from.Minutes()
	_, hasTo := to.Minutes()
	switch {
	case hasFrom && hasTo:
		return " von " + string(from) + " bis " + string(to), " from " + string(from) + " to " + string(to)
	case hasFrom:
		return " ab " + string(from), " after " + string(from)
	case hasTo:
		return " vor " + string(to), " before " + string(to)
	}
	return "", ""
}

// euroTextDE returns minor units as German euros: "1.234,50 €".
func euroTextDE(minor int64) string {
	return euroDigits(minor, ".", ",") + " €"
}

// euroTextEN returns minor units as English euros: "€1,234.50".
func euroTextEN(minor int64) string {
	return "€" + euroDigits(minor, ",", ".")
}

// euroDigits returns minor units as euros and cents with the given thousands
// and decimal separators.
func euroDigits(minor int64, thousands, decimal string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	whole := strconv.FormatInt(minor/100, 10)
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(d)
	}
	cents := strconv.FormatInt(minor%100, 10)
	if len(cents) == 1 {
		cents = "0" + cents
	}
	return sign + b.String() + decimal + cents
}
