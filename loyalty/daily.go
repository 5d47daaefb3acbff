package loyalty

import (
	"context"

	"github.com/treue/treue/gamification"
)

// dailyPage is how many members RunDaily reads at a time.
const dailyPage = 200

// DailyRun is what one run of the daily job did.
type DailyRun struct {
	// Members is how many members were looked at.
	Members int
	// Grants is the bonus points entries written (birthdays).
	Grants int
	// TierMoves is the tier changes written, renewals included.
	TierMoves int
}

// RunDaily grants the birthday bonuses due and moves the tiers whose
// status ran out, for every member of the program, one member per
// transaction, and returns what it did. Running it again the same day
// does nothing more: birthday grants are keyed by year and a tier moves
// once its status ran out. It stops at the first error (a cancelled ctx
// included), keeping what it did. A program without rules has nothing to
// do.
func (s *Service) RunDaily(ctx context.Context, programID string) (DailyRun, error) {
	var run DailyRun
	p, err := s.Program(ctx, programID)
	if err != nil || p.Rules == nil {
		return run, err
	}
	after := ""
	for {
		var page []Member
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			page, err = tx.Members(ctx, programID, after, dailyPage)
			return err
		})
		if err != nil {
			return run, err
		}
		for _, m := range page {
			if err := ctx.Err(); err != nil {
				return run, err
			}
			grants, moves, err := s.dailyMember(ctx, m)
			if err != nil {
				return run, err
			}
			run.Members++
			run.Grants += grants
			run.TierMoves += moves
		}
		if len(page) < dailyPage {
			return run, nil
		}
		after = page[len(page)-1].ID
	}
}

// dailyMember applies the daily effects to member m and returns how many
// grants and tier moves it wrote.
func (s *Service) dailyMember(ctx context.Context, m Member) (grants, moves int, err error) {
	err = s.update(ctx, func(tx Tx) error {
		grants, moves = 0, 0
		p, err := tx.Program(ctx, m.ProgramID)
		if err != nil {
			return err
		}
		a, err := tx.Account(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		now := s.now()
		g, err := s.loadGame(ctx, tx, p, m, &a, now)
		if g == nil || err != nil {
			return err
		}
		gm := g.gameMember()
		h, err := gameHistory(ctx, tx, g.rules, m, gm, now)
		if err != nil {
			return err
		}
		e := gamification.Daily(g.rules, gm, h, now)
		if len(e.Grants) == 0 && e.Tier == nil {
			return nil
		}
		before := a.Version
		if err := g.apply(ctx, tx, e); err != nil {
			return err
		}
		if e.Tier != nil {
			moves = 1
		}
		grants = int(a.Version-before) - moves
		return g.save(ctx, tx)
	})
	return grants, moves, err
}
