package gamification

import (
	"fmt"
	"time"
)

// WelcomeGrant returns the welcome grant for a new member (Key
// "welcome"), and false when the rules have none or it is 0 points.
func WelcomeGrant(r Rules, m Member) (Grant, bool) {
	if r.Welcome == nil || r.Welcome.Points <= 0 {
		return Grant{}, false
	}
	return Grant{
		MemberID: m.ID, Points: r.Welcome.Points, Kind: ReasonWelcome,
		Reason: Text{DE: "Willkommensbonus", EN: "Welcome bonus"},
		Key:    "welcome",
	}, true
}

// BirthdayGrant returns the birthday grant at now (Key "birthday:<year of
// the birthday's occurrence>"), and false when the rules have none or 0
// points, the member has no birthday (zero), or now's date in
// r.Location() is outside [birthday−DaysBefore, birthday+DaysAfter] of
// every occurrence; of two occurrences whose windows hold it, the nearer
// counts. The birthday's month and day are read in its own location, as a
// date. 29 February is celebrated on 28 February in other years. Windows
// may cross New Year: for 1 January and DaysBefore 3, 29 December counts,
// keyed with the next year.
func BirthdayGrant(r Rules, m Member, now time.Time) (Grant, bool) {
	b := r.Birthday
	if b == nil || b.Points <= 0 || m.Birthday.IsZero() {
		return Grant{}, false
	}
	today := dayOf(now, r.Location())
	_, month, day := m.Birthday.Date()
	year, best, found := 0, 0, false
	for y := today.Year - 1; y <= today.Year+1; y++ {
		d := daysBetween(today, birthdayIn(y, month, day)) // > 0: still to come
		if d > max(b.DaysBefore, 0) || -d > max(b.DaysAfter, 0) {
			continue
		}
		if dist := max(d, -d); !found || dist < best {
			year, best, found = y, dist, true
		}
	}
	if !found {
		return Grant{}, false
	}
	return Grant{
		MemberID: m.ID, Points: b.Points, Kind: ReasonBirthday,
		Reason: Text{DE: "Alles Gute zum Geburtstag!", EN: "Happy birthday!"},
		Key:    fmt.Sprintf("birthday:%d", year),
	}, true
}

// birthdayIn returns the date of a birthday on month and day in year:
// 29 February is 28 February in years without it.
func birthdayIn(year int, month time.Month, day int) Day {
	if month == time.February && day == 29 && time.Date(year, time.March, 0, 0, 0, 0, 0, time.UTC).Day() != 29 {
		day = 28
	}
	return Day{year, month, day}
}

// ReferralGrants returns the grants of purchase p by a referred member
// whose referral is not settled yet (m.Referrer not empty: the caller
// clears it after m's first purchase that paid something):
// ReferrerPoints to m.Referrer (Key "referral:"+m.ID) and RefereePoints
// to m (Key "referral"); a side with 0 points is left out. It returns none
// when the rules have no referral, m.Referrer is empty or m itself, p paid
// nothing (AmountMinor ≤ 0: a fully returned purchase is no first
// purchase), or the referrer has already been rewarded MaxPerReferrer
// times: then the referee gets nothing either, to keep the rule simple to
// state.
func ReferralGrants(r Rules, m Member, p Purchase) []Grant {
	f := r.Referral
	if f == nil || m.Referrer == "" || m.Referrer == m.ID || p.AmountMinor <= 0 ||
		m.ReferrerRewarded >= f.MaxPerReferrer {
		return nil
	}
	var grants []Grant
	if f.ReferrerPoints > 0 {
		grants = append(grants, Grant{
			MemberID: m.Referrer, Points: f.ReferrerPoints, Kind: ReasonReferral,
			Reason: Text{DE: "Danke für deine Empfehlung", EN: "Thanks for your referral"},
			Key:    "referral:" + m.ID,
		})
	}
	if f.RefereePoints > 0 {
		grants = append(grants, Grant{
			MemberID: m.ID, Points: f.RefereePoints, Kind: ReasonReferral,
			Reason: Text{DE: "Empfehlungsbonus für deinen ersten Einkauf", EN: "Referral bonus for your first purchase"},
			Key:    "referral",
		})
	}
	return grants
}
