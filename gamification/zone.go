package gamification

import (
	"sync"
	"time"
)

// DefaultTimeZone is the zone of rules that name none.
const DefaultTimeZone = "Europe/Berlin"

// Location returns the rules' time zone; UTC when it is unknown (Validate
// refuses that) and the system has no zone data.
func (r Rules) Location() *time.Location {
	name := r.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(name, loc)
	return loc
}

// locations caches the zones Location loaded: loading one reads and parses
// the zone database, which costs more than evaluating a purchase.
var locations sync.Map // name → *time.Location

// Minutes returns the minutes after midnight c names, and false when c is
// empty or not "HH:MM" with HH 00–24 and MM 00–59 ("24:00" is the end of
// the day).
func (c ClockTime) Minutes() (int, bool) {
	if len(c) != 5 || c[2] != ':' || !isDigit(c[0]) || !isDigit(c[1]) || !isDigit(c[3]) || !isDigit(c[4]) {
		return 0, false
	}
	h := int(c[0]-'0')*10 + int(c[1]-'0')
	m := int(c[3]-'0')*10 + int(c[4]-'0')
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// minuteOfDay returns the minutes after local midnight of t in loc, by the
// wall clock: on daylight saving days 14:30 is 870 as on any other day.
func minuteOfDay(t time.Time, loc *time.Location) int {
	t = t.In(loc)
	return t.Hour()*60 + t.Minute()
}

// inClockRange reports whether t's wall-clock time in loc is in [from,
// to); an empty from is midnight and an empty to the end of the day.
// A range with to before from spans midnight ("22:00" to "02:00").
func inClockRange(t time.Time, loc *time.Location, from, to ClockTime) bool {
	f, ok := from.Minutes()
	if !ok {
		f = 0
	}
	e, ok := to.Minutes()
	if !ok {
		e = 24 * 60
	}
	m := minuteOfDay(t, loc)
	if f <= e {
		return m >= f && m < e
	}
	return m >= f || m < e
}

// Day is a calendar date in the program's zone.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// dayOf returns t's calendar date in loc.
func dayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day{y, m, d}
}

// daysBetween returns the number of calendar days from a to b (b - a),
// counted by date, so a 23- or 25-hour day counts as one.
func daysBetween(a, b Day) int {
	ta := time.Date(a.Year, a.Month, a.Day, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta) / (24 * time.Hour))
}
