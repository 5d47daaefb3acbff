package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"google.golang.org/api/option"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/notify/fcm"
)

// pushes is treued's push notifications: the planner turns delivered card
// changes into queued messages, the scheduler queues reminders and the
// dispatcher sends what is due, through FCM or the in-process recorder.
type pushes struct {
	// recorder is the sender when pushes are recorded, not sent; nil with
	// FCM.
	recorder   *notify.Recorder
	planner    *notify.Planner
	scheduler  *notify.Scheduler
	dispatcher *notify.Dispatcher
}

// dispatchInterval is how often the dispatcher looks for messages that
// became due (quiet hours ended, a cap's window moved on) without a poke.
const dispatchInterval = 5 * time.Second

// openPushes returns the push notifications the configuration asks for
// and a description of the sender for the log.
func (s *server) openPushes(ctx context.Context) (*pushes, string, error) {
	var (
		sender   notify.Sender
		recorder *notify.Recorder
		desc     string
	)
	if s.cfg.FCMCredentialsFile != "" {
		project := s.cfg.FCMProject
		if project == "" {
			project = s.cfg.FirebaseProject
		}
		if project == "" {
			return nil, "", fmt.Errorf("TREUE_FCM_CREDENTIALS_FILE needs a project: set TREUE_FCM_PROJECT_ID or TREUE_FIREBASE_PROJECT_ID")
		}
		f, err := fcm.New(ctx, fcm.Config{
			ProjectID: project,
			Options:   []option.ClientOption{option.WithCredentialsFile(s.cfg.FCMCredentialsFile)},
			Rate:      s.cfg.PushRate,
			Logger:    s.log,
		})
		if err != nil {
			return nil, "", err
		}
		sender, desc = f, "FCM project "+project
	} else {
		recorder = notify.NewRecorder(s.log)
		sender, desc = recorder, "recorded in process and logged (set TREUE_FCM_CREDENTIALS_FILE for FCM)"
	}
	holder, err := leaseHolder()
	if err != nil {
		return nil, "", err
	}
	p := &pushes{
		recorder:  recorder,
		planner:   notify.NewPlanner(s.store, notify.PlannerConfig{Logger: s.log}),
		scheduler: notify.NewScheduler(s.store, s.svc, notify.SchedulerConfig{Logger: s.log}),
		dispatcher: notify.NewDispatcher(s.store, s.svc, sender, notify.DispatcherConfig{
			Holder:     holder,
			QuietStart: s.cfg.PushQuietStart,
			QuietEnd:   s.cfg.PushQuietEnd,
			// Equal hours (e.g. 0-0) mean no quiet hours.
			NoQuietHours: s.cfg.PushQuietStart == s.cfg.PushQuietEnd,
			Cap:          s.cfg.PushCap,
			Logger:       s.log,
		}),
	}
	return p, desc, nil
}

// leaseHolder names this process among the replicas sharing the sender's
// lease.
func leaseHolder() (string, error) {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)), nil
}

// runReminders queues the seeded program's push reminders at start and
// then every ReminderInterval until ctx is done. Runs on several replicas
// at once are safe: every reminder has a key.
func (s *server) runReminders(ctx context.Context) {
	t := time.NewTicker(s.cfg.ReminderInterval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := s.push.scheduler.Run(ctx, s.program, start)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("push reminders failed", "err", err)
		default:
			s.log.Info("push reminders queued", "new", n, "took", time.Since(start))
			if n > 0 {
				s.push.dispatcher.Poke()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
