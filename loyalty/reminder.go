package loyalty

import (
	"context"
	"time"
)

// ExpiringPoints are points of one member that expire at one time.
type ExpiringPoints struct {
	MemberKey
	At     time.Time
	Points int64
}

// ReminderStore is the part of a Tx the push reminders read.
type ReminderStore interface {
	// ExpiringPoints returns, for the first limit members of the program,
	// by ID after afterMemberID, that have points expiring at or after from
	// and before to, those points, summed per member and expiry time, by
	// member ID and then time. Members with nothing expiring are passed
	// over, so a short page is the last.
	ExpiringPoints(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]ExpiringPoints, error)
}

// MaxReminderPage bounds the members of one page of ExpiringPoints.
const MaxReminderPage = 500

// ExpiringPoints returns, for up to limit members of the program whose IDs
// sort after afterMemberID, the points that expire at or after from and
// before to, per member and expiry time (see ReminderStore). It returns
// ErrInvalid for a limit outside 1..MaxReminderPage.
func (s *Service) ExpiringPoints(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]ExpiringPoints, error) {
	if limit < 1 || limit > MaxReminderPage {
		return nil, errorf(ErrInvalid, "limit must be 1 to %d, got %d", MaxReminderPage, limit)
	}
	var out []ExpiringPoints
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ExpiringPoints(ctx, programID, from, to, afterMemberID, limit)
		return err
	})
	return out, err
}

// EndingChallenge is a challenge a member has running that ends soon.
type EndingChallenge struct {
	MemberKey
	ChallengeID string
	Name        Text
	EndsAt      time.Time
	Current     int64
	Target      int64
	// Progress is Current of Target as the app shows it: "2 von 3 Besuchen".
	Progress Text
}

// EndingChallenges returns the active, uncompleted challenges that end at
// or after from and before to, of up to limit members of the program whose
// IDs sort after afterMemberID, and the ID of the last member looked at
// ("" when there are no more). It returns ErrInvalid for a limit outside
// 1..MaxReminderPage.
func (s *Service) EndingChallenges(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]EndingChallenge, string, error) {
	if limit < 1 || limit > MaxReminderPage {
		return nil, "", errorf(ErrInvalid, "limit must be 1 to %d, got %d", MaxReminderPage, limit)
	}
	var (
		out  []EndingChallenge
		last string
	)
	err := s.store.View(ctx, func(tx Tx) error {
		p, err := tx.Program(ctx, programID)
		if err != nil || p.Rules == nil || len(p.Rules.Challenges) == 0 {
			return err
		}
		members, err := tx.Members(ctx, programID, afterMemberID, limit)
		if err != nil {
			return err
		}
		for _, m := range members {
			last = m.ID
			views, err := s.challengeViews(ctx, tx, m)
			if err != nil {
				return err
			}
			for _, v := range views {
				if v.Status != ChallengeActive || v.ActiveUntil.IsZero() || v.ActiveUntil.Before(from) || !v.ActiveUntil.Before(to) {
					continue
				}
				out = append(out, EndingChallenge{
					MemberKey:   MemberKey{ProgramID: programID, MemberID: m.ID},
					ChallengeID: v.Challenge.ID, Name: Text(v.Challenge.Name), EndsAt: v.ActiveUntil,
					Current: v.Progress.Current, Target: v.Progress.Target, Progress: Text(v.Progress.Text),
				})
			}
		}
		if len(members) < limit {
			last = ""
		}
		return nil
	})
	return out, last, err
}
