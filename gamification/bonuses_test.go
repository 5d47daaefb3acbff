package gamification

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWelcomeGrant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		w    *Welcome
		want Grant
		ok   bool
	}{
		{"none", nil, Grant{}, false},
		{"zero points", &Welcome{Points: 0}, Grant{}, false},
		{"granted", &Welcome{Points: 50}, Grant{MemberID: "m1", Points: 50, Kind: ReasonWelcome,
			Reason: Text{DE: "Willkommensbonus", EN: "Welcome bonus"}, Key: "welcome"}, true},
	}
	for _, c := range cases {
		got, ok := WelcomeGrant(Rules{Welcome: c.w}, Member{ID: "m1"})
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.ok)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: WelcomeGrant (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestBirthdayGrant(t *testing.T) {
	t.Parallel()
	berlin := Rules{}.Location()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, berlin) }
	june15 := time.Date(1990, 6, 15, 0, 0, 0, 0, time.UTC)
	leap := time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)
	jan1 := time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC)
	dec31 := time.Date(1985, 12, 31, 0, 0, 0, 0, time.UTC)
	window := &Birthday{Points: 100, DaysBefore: 3, DaysAfter: 7}
	onTheDay := &Birthday{Points: 100}
	cases := []struct {
		name     string
		b        *Birthday
		birthday time.Time
		now      time.Time
		key      string // "" for none
	}{
		{"no rule", nil, june15, day(2026, 6, 15), ""},
		{"zero points", &Birthday{Points: 0, DaysBefore: 3}, june15, day(2026, 6, 15), ""},
		{"no birthday", window, time.Time{}, day(2026, 6, 15), ""},
		{"on the day", window, june15, day(2026, 6, 15), "birthday:2026"},
		{"first day before", window, june15, day(2026, 6, 12), "birthday:2026"},
		{"too early", window, june15, day(2026, 6, 11), ""},
		{"last day after", window, june15, day(2026, 6, 22), "birthday:2026"},
		{"too late", window, june15, day(2026, 6, 23), ""},
		{"half a year away", window, june15, day(2026, 12, 15), ""},
		// 22:30 UTC on 14 June is 00:30 on 15 June in Berlin.
		{"local date", onTheDay, june15, time.Date(2026, 6, 14, 22, 30, 0, 0, time.UTC), "birthday:2026"},
		{"local date, not UTC's", onTheDay, june15, time.Date(2026, 6, 15, 22, 30, 0, 0, time.UTC), ""},
		// A birthday given as midnight in Berlin is 14 June in UTC.
		{"birthday read in its own zone", onTheDay, time.Date(1990, 6, 15, 0, 0, 0, 0, berlin), day(2026, 6, 15), "birthday:2026"},
		{"29 February on 28 February", onTheDay, leap, day(2027, 2, 28), "birthday:2027"},
		{"29 February not on 1 March", onTheDay, leap, day(2027, 3, 1), ""},
		{"29 February in a leap year", onTheDay, leap, day(2028, 2, 29), "birthday:2028"},
		{"29 February not on 28 February of a leap year", onTheDay, leap, day(2028, 2, 28), ""},
		{"New Year, before", window, jan1, day(2026, 12, 29), "birthday:2027"},
		{"New Year, too early", window, jan1, day(2026, 12, 28), ""},
		{"New Year, after", window, dec31, day(2027, 1, 7), "birthday:2026"},
		{"New Year, too late", window, dec31, day(2027, 1, 8), ""},
		// 31 December 23:30 UTC is already New Year in Berlin.
		{"New Year, local date", onTheDay, jan1, time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "birthday:2027"},
		// Windows of two occurrences both hold 1 July: the nearer counts.
		{"nearer occurrence", &Birthday{Points: 100, DaysBefore: 200, DaysAfter: 200}, june15, day(2026, 7, 1), "birthday:2026"},
		{"nearer occurrence is next year's", &Birthday{Points: 100, DaysBefore: 200, DaysAfter: 200}, june15, day(2026, 12, 31), "birthday:2027"},
	}
	for _, c := range cases {
		got, ok := BirthdayGrant(Rules{Birthday: c.b}, Member{ID: "m1", Birthday: c.birthday}, c.now)
		var want Grant
		if c.key != "" {
			want = Grant{MemberID: "m1", Points: 100, Kind: ReasonBirthday,
				Reason: Text{DE: "Alles Gute zum Geburtstag!", EN: "Happy birthday!"}, Key: c.key}
		}
		if ok != (c.key != "") {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.key != "")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: BirthdayGrant (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestReferralGrants(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 5, 10, 0, 0, 0, time.UTC)
	rule := &Referral{ReferrerPoints: 50, RefereePoints: 25, MaxPerReferrer: 3}
	p := Purchase{ID: "p2", At: at, AmountMinor: 500}
	referred := Member{ID: "m2", Referrer: "m1", ReferrerRewarded: 2}
	toReferrer := Grant{MemberID: "m1", Points: 50, Kind: ReasonReferral,
		Reason: Text{DE: "Danke für deine Empfehlung", EN: "Thanks for your referral"}, Key: "referral:m2"}
	toReferee := Grant{MemberID: "m2", Points: 25, Kind: ReasonReferral,
		Reason: Text{DE: "Empfehlungsbonus für deinen ersten Einkauf", EN: "Referral bonus for your first purchase"}, Key: "referral"}
	both := []Grant{toReferrer, toReferee}
	cases := []struct {
		name string
		r    *Referral
		m    Member
		p    Purchase
		want []Grant
	}{
		{"first paid purchase", rule, referred, p, both},
		{"p paid nothing", rule, referred, Purchase{ID: "p2", At: at}, nil},
		{"p fully returned", rule, referred, Purchase{ID: "p2", At: at, AmountMinor: -500}, nil},
		{"no rule", nil, referred, p, nil},
		// Settled: the caller cleared Referrer after the first purchase.
		{"not referred or settled", rule, Member{ID: "m2", ReferrerRewarded: 2}, p, nil},
		{"self-referral", rule, Member{ID: "m2", Referrer: "m2"}, p, nil},
		{"cap reached", rule, Member{ID: "m2", Referrer: "m1", ReferrerRewarded: 3}, p, nil},
		{"cap passed", rule, Member{ID: "m2", Referrer: "m1", ReferrerRewarded: 4}, p, nil},
		{"first referral", rule, Member{ID: "m2", Referrer: "m1"}, p, both},
		{"no referrals allowed", &Referral{ReferrerPoints: 50, RefereePoints: 25}, referred, p, nil},
		{"referrer side only", &Referral{ReferrerPoints: 50, MaxPerReferrer: 3}, referred, p, []Grant{toReferrer}},
		{"referee side only", &Referral{RefereePoints: 25, MaxPerReferrer: 3}, referred, p, []Grant{toReferee}},
		{"no points", &Referral{MaxPerReferrer: 3}, referred, p, nil},
	}
	for _, c := range cases {
		got := ReferralGrants(Rules{Referral: c.r}, c.m, c.p)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: ReferralGrants (-want +got):\n%s", c.name, diff)
		}
	}
}
