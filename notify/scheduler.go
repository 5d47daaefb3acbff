package notify

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/treue/treue/loyalty"
)

// When reminders are due.
const (
	// firstNotice: points expiring within 30 days (less than 30 days
	// from now, 7 or more) get one reminder.
	firstNotice = 30 * 24 * time.Hour
	// lastNotice: points expiring within 7 days (less than 7 days from
	// now) get another.
	lastNotice = 7 * 24 * time.Hour
	// endingNotice: a running challenge ending within a day gets one.
	endingNotice = 24 * time.Hour
)

// Reminders is what the Scheduler reads in the loyalty service;
// *loyalty.Service implements it.
type Reminders interface {
	// Program returns the program, or an ErrNotFound error.
	Program(ctx context.Context, id string) (loyalty.Program, error)
	// ExpiringPoints returns the points expiring in [from, to) of up to
	// limit members after afterMemberID, by member and time.
	ExpiringPoints(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]loyalty.ExpiringPoints, error)
	// EndingChallenges returns the running challenges ending in [from,
	// to) of up to limit members after afterMemberID, and the last member
	// looked at ("" when there are no more).
	EndingChallenges(ctx context.Context, programID string, from, to time.Time, afterMemberID string, limit int) ([]loyalty.EndingChallenge, string, error)
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Logger *slog.Logger
	// Page is the members read per call of Reminders: default 200, at most
	// loyalty.MaxReminderPage.
	Page int
	// TTL is how long a reminder of a kind is worth sending; kinds missing
	// take the defaults (24h). A reminder never outlives what it is
	// about.
	TTL map[Kind]time.Duration
}

// Scheduler queues reminders: points about to expire, challenges about to
// end.
type Scheduler struct {
	store     Store
	reminders Reminders
	log       *slog.Logger
	page      int
	ttl       map[Kind]time.Duration
}

// NewScheduler returns a Scheduler reading reminders and queueing in
// store.
func NewScheduler(store Store, reminders Reminders, cfg SchedulerConfig) *Scheduler {
	s := &Scheduler{store: store, reminders: reminders, log: cfg.Logger, page: cfg.Page, ttl: ttls(cfg.TTL)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.page <= 0 {
		s.page = 200
	}
	s.page = min(s.page, loyalty.MaxReminderPage)
	return s
}

// Run queues the program's reminders due at now and returns how many it
// queued that were not queued before. Their keys make it safe to run
// repeatedly and on several replicas at once: points expiring within 30
// days (and more than 7) get "expiring:30:<member>:<date>", within 7 days
// "expiring:7:<member>:<date>", a challenge ending within a day
// "ending:<member>:<challenge>:<end>". It returns the errors of Reminders
// and of the store.
func (s *Scheduler) Run(ctx context.Context, programID string, now time.Time) (int, error) {
	n := 0
	err := s.compute(ctx, programID, now, func(m Message) error {
		created, err := s.store.Enqueue(ctx, &m)
		if created {
			n++
		}
		return err
	})
	if err == nil {
		s.log.Debug("notify: reminders queued", "program", programID, "new", n)
	}
	return n, err
}

// DryRun returns the reminders Run would compute at now, whether queued
// before or not, and writes nothing. It returns the errors of Reminders.
func (s *Scheduler) DryRun(ctx context.Context, programID string, now time.Time) ([]Message, error) {
	var out []Message
	err := s.compute(ctx, programID, now, func(m Message) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// compute computes the program's reminders at now and hands each to
// emit, page by page.
func (s *Scheduler) compute(ctx context.Context, programID string, now time.Time, emit func(Message) error) error {
	p, err := s.reminders.Program(ctx, programID)
	if err != nil {
		return fmt.Errorf("notify: reminders of program %s: %w", programID, err)
	}
	loc, err := time.LoadLocation(cmp.Or(p.TimeZone, loyalty.DefaultTimeZone))
	if err != nil {
		return fmt.Errorf("notify: program %s: %w", programID, err)
	}
	if err := s.expiring(ctx, p, loc, now, emit); err != nil {
		return fmt.Errorf("notify: expiring points of program %s: %w", programID, err)
	}
	if err := s.ending(ctx, p, loc, now, emit); err != nil {
		return fmt.Errorf("notify: ending challenges of program %s: %w", programID, err)
	}
	return nil
}

// expiring emits a reminder per member and day on which points expire
// within firstNotice of now.
func (s *Scheduler) expiring(ctx context.Context, p loyalty.Program, loc *time.Location, now time.Time, emit func(Message) error) error {
	after := ""
	for {
		rows, err := s.reminders.ExpiringPoints(ctx, p.ID, now, now.Add(firstNotice), after, s.page)
		if err != nil {
			return err
		}
		members := 0
		for i := 0; i < len(rows); {
			// Sum the member's rows on one day: one reminder per day.
			r := rows[i]
			day := r.At.In(loc)
			y, mo, d := day.Date()
			sum := int64(0)
			for ; i < len(rows) && rows[i].MemberKey == r.MemberKey && sameDay(rows[i].At.In(loc), y, mo, d); i++ {
				sum += rows[i].Points
			}
			if i == len(rows) || rows[i].MemberKey != r.MemberKey {
				members++
			}
			if sum <= 0 {
				continue
			}
			notice := 30
			if r.At.Sub(now) < lastNotice {
				notice = 7
			}
			key := fmt.Sprintf("expiring:%d:%s:%s", notice, r.MemberID, day.Format(time.DateOnly))
			title, body := pointsExpiringText(sum, p.PointName, day, p.Name)
			expires := minTime(now.Add(s.ttl[KindPointsExpiring]), r.At)
			if err := emit(NewMessage(r.MemberKey, KindPointsExpiring, key, title, body, linkRewards, now, expires)); err != nil {
				return err
			}
		}
		if members < s.page || len(rows) == 0 {
			return nil
		}
		after = rows[len(rows)-1].MemberID
	}
}

// ending emits a reminder per running challenge ending within
// endingNotice of now.
func (s *Scheduler) ending(ctx context.Context, p loyalty.Program, loc *time.Location, now time.Time, emit func(Message) error) error {
	after := ""
	for {
		list, last, err := s.reminders.EndingChallenges(ctx, p.ID, now, now.Add(endingNotice), after, s.page)
		if err != nil {
			return err
		}
		for _, c := range list {
			key := fmt.Sprintf("ending:%s:%s:%s", c.MemberID, c.ChallengeID, c.EndsAt.UTC().Format(time.RFC3339))
			progress := c.Progress
			if progress == (loyalty.Text{}) {
				progress = loyalty.Text{DE: fmt.Sprintf("%d von %d", c.Current, c.Target), EN: fmt.Sprintf("%d of %d", c.Current, c.Target)}
			}
			title, body := challengeEndingText(c.Name, c.EndsAt, now.In(loc), progress)
			expires := minTime(now.Add(s.ttl[KindChallengeEnding]), c.EndsAt)
			if err := emit(NewMessage(c.MemberKey, KindChallengeEnding, key, title, body, linkChallenges+c.ChallengeID, now, expires)); err != nil {
				return err
			}
		}
		if last == "" {
			return nil
		}
		after = last
	}
}

func sameDay(t time.Time, y int, m time.Month, d int) bool {
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
