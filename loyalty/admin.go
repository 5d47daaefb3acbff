package loyalty

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/treue/treue/gamification"
)

// validateRules returns ErrInvalid, naming the field, for rules that do
// not validate.
func validateRules(r gamification.Rules) error {
	if err := gamification.Validate(r); err != nil {
		return errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), gamification.ErrInvalidRules.Error()+": "))
	}
	return nil
}

// Rules returns the operator's program's gamification rules and their
// revision; a program without rules returns zero Rules.
func (s *Service) Rules(ctx context.Context, op Operator) (gamification.Rules, int64, error) {
	var p Program
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p, err = tx.Program(ctx, op.ProgramID)
		return err
	})
	if err != nil || p.Rules == nil {
		return gamification.Rules{}, p.RulesRevision, err
	}
	return *p.Rules, p.RulesRevision, nil
}

// changeRules runs change on the operator's program's rules in one
// transaction and stores the result as a new revision, which it returns.
// change returns the error to fail with.
func (s *Service) changeRules(ctx context.Context, op Operator, change func(p Program, r *gamification.Rules) error) (int64, error) {
	var rev int64
	err := s.store.Update(ctx, func(tx Tx) error {
		p, err := tx.Program(ctx, op.ProgramID)
		if err != nil {
			return err
		}
		var r gamification.Rules
		if p.Rules != nil {
			r = *p.Rules
			r.Challenges = slices.Clone(r.Challenges)
		}
		if err := change(p, &r); err != nil {
			return err
		}
		if err := validateRules(r); err != nil {
			return err
		}
		p.Rules = &r
		p.RulesRevision++
		rev = p.RulesRevision
		return tx.PutProgram(ctx, p)
	})
	return rev, err
}

// UpdateRules replaces the operator's program's rules when their revision
// is still expectRevision, and returns the new revision. It returns
// ErrInvalid for rules that do not validate (the message names the field)
// and ErrConflict when the rules changed since expectRevision.
func (s *Service) UpdateRules(ctx context.Context, op Operator, r gamification.Rules, expectRevision int64) (int64, error) {
	if err := validateRules(r); err != nil {
		return 0, err
	}
	return s.changeRules(ctx, op, func(p Program, cur *gamification.Rules) error {
		if p.RulesRevision != expectRevision {
			return errorf(ErrConflict, "the rules are at revision %d, not %d: read them again and apply your change to them", p.RulesRevision, expectRevision)
		}
		*cur = r
		return nil
	})
}

// PutChallenge creates challenge ch in the operator's program, or replaces
// the one with its ID, and returns the new rules revision. Start and End
// schedule it. It returns ErrInvalid when the rules with it do not
// validate.
func (s *Service) PutChallenge(ctx context.Context, op Operator, ch gamification.Challenge) (int64, error) {
	return s.changeRules(ctx, op, func(_ Program, r *gamification.Rules) error {
		if i := slices.IndexFunc(r.Challenges, func(c gamification.Challenge) bool { return c.ID == ch.ID }); i >= 0 {
			r.Challenges[i] = ch
		} else {
			r.Challenges = append(r.Challenges, ch)
		}
		return nil
	})
}

// EndChallenge ends challenge id now: it can no longer be activated or
// progressed, and members keep what they were granted. It returns the new
// rules revision, ErrNotFound for an unknown challenge and
// ErrFailedPrecondition for one that has ended already.
func (s *Service) EndChallenge(ctx context.Context, op Operator, id string) (int64, error) {
	if err := validateChallengeID(id); err != nil {
		return 0, err
	}
	now := s.now()
	return s.changeRules(ctx, op, func(_ Program, r *gamification.Rules) error {
		i := slices.IndexFunc(r.Challenges, func(c gamification.Challenge) bool { return c.ID == id })
		switch {
		case i < 0:
			return errorf(ErrNotFound, "no challenge %q in this program", id)
		case !r.Challenges[i].End.IsZero() && !now.Before(r.Challenges[i].End):
			return errorf(ErrFailedPrecondition, "challenge %q ended already", id)
		}
		r.Challenges[i].End = now
		if r.Challenges[i].Start.After(now) {
			r.Challenges[i].Start = now
		}
		return nil
	})
}

// PutReward creates or replaces a reward of the operator's catalog; a
// reward with Active false is ended (vouchers issued stay valid). It
// returns ErrInvalid for a malformed reward.
func (s *Service) PutReward(ctx context.Context, op Operator, r Reward) error {
	r.ProgramID = op.ProgramID
	if err := r.Validate(); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.PutReward(ctx, r) })
}

// SimulateRequest is a purchase to dry-run for a member.
type SimulateRequest struct {
	CardNumber  string
	AmountMinor int64
	Currency    string
	Lines       []LineItem
	// At is when the purchase is imagined; zero means now.
	At time.Time
}

// Simulation is everything a purchase would do, written nowhere.
type Simulation struct {
	Member Member
	// Points are the purchase's base points.
	Points  int64
	Effects gamification.Effects
}

// Simulate returns what the purchase req would grant and change for its
// member under the program's rules, without writing anything: the base
// points and every effect (bonus grants, vouchers, tier change, challenge
// and stamp progress). It returns ErrInvalid for malformed input or a
// program without rules and ErrNotFound for an unknown card.
func (s *Service) Simulate(ctx context.Context, op Operator, req SimulateRequest) (Simulation, error) {
	er := EarnRequest{CardNumber: req.CardNumber, AmountMinor: req.AmountMinor, Currency: req.Currency, Lines: req.Lines, IdempotencyKey: "simulate"}
	if err := er.validate(); err != nil {
		return Simulation{}, err
	}
	at := req.At.UTC().Truncate(time.Microsecond)
	if req.At.IsZero() {
		at = s.now()
	}
	var sim Simulation
	err := s.store.View(ctx, func(tx Tx) error {
		p, err := tx.Program(ctx, op.ProgramID)
		if err != nil {
			return err
		}
		if p.Rules == nil {
			return errorf(ErrInvalid, "program %s has no gamification rules to simulate", p.ID)
		}
		if er.Currency != p.Currency {
			return errorf(ErrInvalid, "currency %s is not this program's: use %s", er.Currency, p.Currency)
		}
		m, err := memberByCard(ctx, tx, op.ProgramID, er.CardNumber)
		if err != nil {
			return err
		}
		st, err := tx.GameState(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		n := 0
		if st.ReferredBy != "" && !st.ReferralSettled {
			ref, err := tx.GameState(ctx, m.ProgramID, st.ReferredBy)
			if err != nil {
				return err
			}
			n = ref.ReferralsRewarded
		}
		r := *p.Rules
		gm := gameMember(m, st, n)
		h, err := gameHistory(ctx, tx, r, m, gm, at)
		if err != nil {
			return err
		}
		h = slices.DeleteFunc(h, func(q gamification.Purchase) bool { return q.At.After(at) })
		pur := gamePurchase(Purchase{ID: "simulated", CreatedAt: at, AmountMinor: er.AmountMinor, Lines: er.Lines})
		sim.Member = m
		sim.Points, sim.Effects = gamification.Earn(r, gm, append(h, pur), pur)
		return nil
	})
	return sim, err
}
