package loyalty

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Lot is points credited together by one entry (an earn, a bonus), spent
// and expired on their own: every spend takes points from lots, oldest
// expiry first, and records which, so expiry can only ever take what is left
// of a lot, never points that were spent.
type Lot struct {
	ProgramID string
	MemberID  string
	// ID is assigned by the store.
	ID int64
	// EntryID is the entry that credited the lot.
	EntryID int64
	// PurchaseID is the purchase that earned the lot, if any.
	PurchaseID string
	Points     int64
	// Remaining is Points less what was spent or expired from the lot.
	Remaining int64
	// AvailableAt is when the points can be spent: later than CreatedAt for
	// programs that hold points back until returns are unlikely.
	AvailableAt time.Time
	// ExpiresAt is when what remains expires; zero means never.
	ExpiresAt time.Time
	CreatedAt time.Time
}

// LotUse is points an entry took from a lot.
type LotUse struct {
	LotID  int64 `json:"lot_id"`
	Points int64 `json:"points"`
}

// spendableAt reports whether the lot's points can be spent at now.
func (l Lot) spendableAt(now time.Time) bool {
	return !now.Before(l.AvailableAt) && !l.dueAt(now)
}

// dueAt reports whether the lot has expired by now (the expiry job may not
// have taken its points yet).
func (l Lot) dueAt(now time.Time) bool {
	return !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt)
}

// sortLots orders lots the way they are spent: soonest expiry first, lots
// that never expire last, then oldest first.
func sortLots(lots []Lot) {
	slices.SortFunc(lots, func(a, b Lot) int {
		switch {
		case a.ExpiresAt.IsZero() != b.ExpiresAt.IsZero():
			if a.ExpiresAt.IsZero() {
				return 1
			}
			return -1
		case !a.ExpiresAt.Equal(b.ExpiresAt):
			return a.ExpiresAt.Compare(b.ExpiresAt)
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// take returns the uses that take up to points from lots, in the order
// given, from the lots that pick accepts, and how many points they take.
func take(lots []Lot, points int64, pick func(Lot) bool) ([]LotUse, int64) {
	var (
		uses  []LotUse
		taken int64
	)
	for _, l := range lots {
		if taken == points {
			break
		}
		if l.Remaining <= 0 || !pick(l) {
			continue
		}
		n := min(l.Remaining, points-taken)
		uses = append(uses, LotUse{LotID: l.ID, Points: n})
		taken += n
	}
	return uses, taken
}

// Standing is what a member's points look like at one moment.
type Standing struct {
	// Balance is every point the member holds, pending ones included.
	Balance int64
	// Available is what the member can spend now: the balance less pending
	// points, points past their expiry and points reserved by holds.
	Available int64
	// Pending is points not yet available.
	Pending int64
	// Reserved is points reserved by active holds.
	Reserved int64
	// Spendable is the points of lots that can be spent now, reserved ones
	// included.
	Spendable int64
	// Due is points past their expiry that the expiry job has not taken
	// yet (or keeps for active holds).
	Due int64
	// NextExpiry is the soonest expiry of spendable points, with the points
	// that expire then; zero when nothing expires.
	NextExpiry       time.Time
	NextExpiryPoints int64
	// ChangesAt is the first moment after now at which the standing changes
	// by itself: a hold runs out, pending points become available or
	// points fall due. Zero when nothing will.
	ChangesAt time.Time
}

// noteChange makes t a candidate for ChangesAt.
func (s *Standing) noteChange(t time.Time) {
	if !t.IsZero() && (s.ChangesAt.IsZero() || t.Before(s.ChangesAt)) {
		s.ChangesAt = t
	}
}

// standing returns the standing of a member with the given open lots and
// holds at now.
func standing(balance int64, lots []Lot, holds []Hold, now time.Time) Standing {
	s := Standing{Balance: balance}
	for _, l := range lots {
		switch {
		case l.dueAt(now):
			s.Due += l.Remaining
		case now.Before(l.AvailableAt):
			s.Pending += l.Remaining
			s.noteChange(l.AvailableAt)
		default:
			s.Spendable += l.Remaining
			s.noteChange(l.ExpiresAt)
			switch {
			case l.ExpiresAt.IsZero():
			case s.NextExpiry.IsZero() || l.ExpiresAt.Before(s.NextExpiry):
				s.NextExpiry, s.NextExpiryPoints = l.ExpiresAt, l.Remaining
			case l.ExpiresAt.Equal(s.NextExpiry):
				s.NextExpiryPoints += l.Remaining
			}
		}
	}
	for _, h := range holds {
		if h.activeAt(now) {
			s.Reserved += h.Points
			s.noteChange(h.ExpiresAt)
		}
	}
	s.Available = max(0, s.Spendable-s.Reserved)
	return s
}

// ExpiryPolicy says when earned points expire.
type ExpiryPolicy struct {
	// MonthsAfterMonthEnd: points expire this many months after the end of
	// the month they were earned in (12: earned in March 2026, they expire
	// at the start of April 2027, program time). 0 means they never expire.
	MonthsAfterMonthEnd int `json:"months_after_month_end,omitempty"`
}

// maxExpiryMonths bounds an expiry policy (ten years).
const maxExpiryMonths = 120

// expiresAt returns when points earned at t expire in time zone loc; zero
// when they never do.
func (p ExpiryPolicy) expiresAt(t time.Time, loc *time.Location) time.Time {
	if p.MonthsAfterMonthEnd <= 0 {
		return time.Time{}
	}
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month()+1+time.Month(p.MonthsAfterMonthEnd), 1, 0, 0, 0, 0, loc).UTC()
}

// DefaultTimeZone is a program's time zone when it names none.
const DefaultTimeZone = "Europe/Berlin"

var locations sync.Map // string → *time.Location

// location returns the time zone called name, or an error for an unknown
// one.
func location(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, errorf(ErrInvalid, "time zone %q is unknown: use an IANA name such as Europe/Berlin", name)
	}
	locations.Store(name, l)
	return l, nil
}
