package loyalty

import (
	"context"
	"time"
)

// ExpiryRun is what one run of the expiry job did.
type ExpiryRun struct {
	// Members is how many members lost points.
	Members int
	// Points is how many points expired in all.
	Points int64
}

// expiryBatch is how many members one pass of the expiry job looks at.
const expiryBatch = 500

// ExpireDue expires what remains of every lot whose expiry has come, each
// member in a transaction of their own, so a run can stop anywhere and the
// next one goes on. A lot's remaining points expire exactly once: a
// spend and the expiry of the same points exclude each other. Points that
// active holds need stay until the holds end. Several runs may go at once,
// on several replicas.
//
// progress, when not nil, is called after every batch with the run so far.
func (s *Service) ExpireDue(ctx context.Context, progress func(ExpiryRun)) (ExpiryRun, error) {
	var run ExpiryRun
	seen := map[MemberKey]bool{}
	for {
		now := s.now()
		var keys []MemberKey
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			keys, err = tx.MembersWithDueLots(ctx, now, expiryBatch+len(seen))
			return err
		})
		if err != nil {
			return run, err
		}
		fresh := 0
		for _, k := range keys {
			if seen[k] {
				// Holds keep this member's due points; a later run takes them.
				continue
			}
			seen[k] = true
			fresh++
			points, err := s.expireMember(ctx, k)
			if err != nil {
				return run, err
			}
			if points > 0 {
				run.Members++
				run.Points += points
			}
		}
		if progress != nil {
			progress(run)
		}
		if fresh == 0 || len(keys) < expiryBatch+len(seen)-fresh {
			return run, nil
		}
	}
}

// expireMember expires the member's due lots and returns the points taken.
func (s *Service) expireMember(ctx context.Context, k MemberKey) (int64, error) {
	var expired int64
	err := s.update(ctx, func(tx Tx) error {
		expired = 0
		now := s.now()
		a, err := tx.Account(ctx, k.ProgramID, k.MemberID)
		if err != nil {
			return err
		}
		lots, err := tx.OpenLots(ctx, k.ProgramID, k.MemberID)
		if err != nil {
			return err
		}
		holds, err := tx.ActiveHolds(ctx, k.ProgramID, k.MemberID, now)
		if err != nil {
			return err
		}
		uses, points := expiryUses(lots, holds, now)
		if points == 0 {
			return nil
		}
		e := Entry{ProgramID: k.ProgramID, MemberID: k.MemberID, Kind: EntryExpire, Points: -points, CreatedAt: now, Uses: uses}
		if err := post(ctx, tx, &a, &e); err != nil {
			return err
		}
		expired = points
		return nil
	})
	return expired, err
}

// expiryUses returns what expires of lots at now: what remains of every due
// lot, less what active holds need beyond the points that are not due.
func expiryUses(lots []Lot, holds []Hold, now time.Time) ([]LotUse, int64) {
	st := standing(0, lots, holds, now)
	// Holds are covered by spendable points first; what they need beyond
	// those stays in due lots until the holds end.
	keep := max(0, st.Reserved-st.Spendable)
	sortLots(lots)
	return take(lots, max(0, st.Due-keep), func(l Lot) bool { return l.dueAt(now) })
}
