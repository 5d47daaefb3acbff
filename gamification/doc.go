// Package gamification decides what a program's rules grant: stars with
// tier multipliers and boosts, challenge progress and completions, tiers,
// and welcome, birthday, referral and stamp card bonuses.
//
// Everything here is a pure function of the program's Rules, the
// member's state and history, the event and the clock: no I/O. The
// loyalty service reads the inputs in the purchase's transaction and
// applies the Effects there; every grant carries an idempotency key, so
// applying the same effects twice (a retry, two replicas) grants once.
//
// Dates and times of day are in the program's time zone (Rules.TimeZone),
// so "after 2 pm" and "5 days in a row" mean what the café means, also on
// the days daylight saving time begins and ends.
package gamification
