package loyalty

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/treue/treue/gamification"
)

// ChallengeStatus says where a member stands with a challenge.
type ChallengeStatus string

// The statuses of a challenge for a member.
const (
	// ChallengeAvailable: opt-in, and the member can activate it now.
	ChallengeAvailable ChallengeStatus = "available"
	// ChallengeActive: counting the member's purchases.
	ChallengeActive ChallengeStatus = "active"
	// ChallengeCompleted: completed as often as it may be.
	ChallengeCompleted ChallengeStatus = "completed"
	// ChallengeEnded: the member took part but left its audience (a lower
	// tier, another segment): it no longer counts and cannot be activated.
	ChallengeEnded ChallengeStatus = "ended"
)

// ChallengeView is a challenge as a member sees it.
type ChallengeView struct {
	Challenge gamification.Challenge
	Status    ChallengeStatus
	// Progress is the member's progress; zero Current unless active.
	Progress gamification.Progress
	// ActiveUntil is when the running activation or the challenge ends;
	// zero when open.
	ActiveUntil time.Time
	// Completions is how often the member completed it, of at most
	// MaxCompletions.
	Completions    int
	MaxCompletions int
}

// challengeView converts the rules' view of a challenge.
func challengeView(v gamification.ChallengeView) ChallengeView {
	return ChallengeView{
		Challenge: v.Challenge, Status: ChallengeStatus(v.Status), Progress: v.Progress,
		ActiveUntil: v.ActiveUntil, Completions: v.Completions, MaxCompletions: max(v.Challenge.MaxCompletions, 1),
	}
}

// maxChallengeIDLen bounds a challenge id in a request.
const maxChallengeIDLen = 64

// Challenges returns the challenges the customer sees now, in the
// program's order, with their progress. It returns ErrNotEnrolled when
// the customer has no membership.
func (s *Service) Challenges(ctx context.Context, c Customer) ([]ChallengeView, Member, error) {
	var (
		views []ChallengeView
		m     Member
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if m, err = c.member(ctx, tx); err != nil {
			return err
		}
		views, err = s.challengeViews(ctx, tx, m)
		return err
	})
	return views, m, err
}

// challengeViews returns member m's challenges at now.
func (s *Service) challengeViews(ctx context.Context, tx Tx, m Member) ([]ChallengeView, error) {
	p, err := tx.Program(ctx, m.ProgramID)
	if err != nil || p.Rules == nil {
		return nil, err
	}
	st, err := tx.GameState(ctx, m.ProgramID, m.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	gm := gameMember(m, st, 0)
	h, err := gameHistory(ctx, tx, *p.Rules, m, gm, now)
	if err != nil {
		return nil, err
	}
	var views []ChallengeView
	for _, v := range gamification.Overview(*p.Rules, gm, h, now) {
		views = append(views, challengeView(v))
	}
	return views, nil
}

// Challenge returns one challenge the customer sees. It returns
// ErrNotFound when the program has no such challenge or the customer does
// not see it, and ErrNotEnrolled.
func (s *Service) Challenge(ctx context.Context, c Customer, id string) (ChallengeView, Member, error) {
	if err := validateChallengeID(id); err != nil {
		return ChallengeView{}, Member{}, err
	}
	views, m, err := s.Challenges(ctx, c)
	if err != nil {
		return ChallengeView{}, m, err
	}
	i := slices.IndexFunc(views, func(v ChallengeView) bool { return v.Challenge.ID == id })
	if i < 0 {
		return ChallengeView{}, m, errorf(ErrNotFound, "no challenge %q for this member", id)
	}
	return views[i], m, nil
}

func validateChallengeID(id string) error {
	if id == "" || len(id) > maxChallengeIDLen {
		return errorf(ErrInvalid, "challenge_id must be 1 to %d characters", maxChallengeIDLen)
	}
	return nil
}

// ActivateChallenge activates the opt-in challenge id for the customer and
// returns it. Activating a challenge that is active already returns it
// unchanged, so a retry is harmless. It returns ErrNotFound for an unknown
// challenge (or one not for this customer), ErrFailedPrecondition when it
// needs no activation, is not running or was completed as often as it
// may be, and ErrNotEnrolled.
func (s *Service) ActivateChallenge(ctx context.Context, c Customer, id string) (ChallengeView, Member, error) {
	if err := validateChallengeID(id); err != nil {
		return ChallengeView{}, Member{}, err
	}
	var m Member
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if m, err = c.member(ctx, tx); err != nil {
			return err
		}
		p, err := tx.Program(ctx, m.ProgramID)
		if err != nil {
			return err
		}
		if p.Rules == nil {
			return errorf(ErrNotFound, "no challenge %q in program %s", id, p.ID)
		}
		if _, err := tx.Account(ctx, m.ProgramID, m.ID); err != nil {
			return err
		}
		st, err := tx.GameState(ctx, m.ProgramID, m.ID)
		if err != nil {
			return err
		}
		cs, err := gamification.Activate(*p.Rules, id, gameMember(m, st, 0), s.now())
		switch {
		case errors.Is(err, gamification.ErrAlreadyActive):
			return nil
		case errors.Is(err, gamification.ErrUnknownChallenge), errors.Is(err, gamification.ErrNotEligible):
			return errorf(ErrNotFound, "no challenge %q for this member", id)
		case errors.Is(err, gamification.ErrNotOptIn):
			return errorf(ErrFailedPrecondition, "challenge %q counts by itself and needs no activation", id)
		case errors.Is(err, gamification.ErrNotRunning):
			return errorf(ErrFailedPrecondition, "challenge %q is not running now", id)
		case errors.Is(err, gamification.ErrCompleted):
			return errorf(ErrFailedPrecondition, "challenge %q was completed as often as it can be", id)
		case err != nil:
			return err
		}
		if st.Challenges == nil {
			st.Challenges = map[string]gamification.ChallengeState{}
		}
		st.Challenges[id] = cs
		return tx.SaveGameState(ctx, st)
	})
	if err != nil {
		return ChallengeView{}, m, err
	}
	return s.Challenge(ctx, c, id)
}
