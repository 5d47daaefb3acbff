package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/treue/treue/cmd/internal/storage"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
)

// notifyDryRun prints the reminders the scheduler would queue now and
// what the dispatcher would do with every message that is due, writing
// and sending nothing. It returns an error for bad arguments or when the
// store cannot be read.
func notifyDryRun(ctx context.Context, cfg storage.Config, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dryRun := fs.Bool("dry-run", false, "list what would go out, send nothing")
	program := fs.String("program", or(getenv("TREUE_DEFAULT_PROGRAM"), "demo-cafe"), "program whose reminders to compute")
	at := fs.String("at", "", "the time to plan for (RFC 3339); default now")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("notify takes --dry-run [-program ID] [-at TIME]\n%s", usage)
	}
	if !*dryRun {
		return errors.New("notify needs --dry-run: treued sends the messages; this lists what would go out\n" + usage)
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("-at %q: want RFC 3339, e.g. 2026-07-01T09:00:00+02:00", *at)
		}
		now = t
	}
	capPerDay := 3
	if v := getenv("TREUE_PUSH_CAP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("TREUE_PUSH_CAP=%q: want a positive number", v)
		}
		capPerDay = n
	}
	s, err := storage.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	svc := loyalty.NewService(s)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reminders, err := notify.NewScheduler(s, svc, notify.SchedulerConfig{Logger: quiet}).DryRun(ctx, *program, now)
	if err != nil {
		return fmt.Errorf("reminders: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "reminders program %s would queue at %s: %d\n", *program, now.Format(time.RFC3339), len(reminders))
	for _, m := range reminders {
		fmt.Fprintf(tw, "  %s\tmember %s\t%s\t%s\n", m.Kind, m.MemberID, m.Key, m.Title.In(loyalty.LocaleDE))
	}
	d := notify.NewDispatcher(s, svc, notify.NewRecorder(quiet), notify.DispatcherConfig{Holder: "treuectl", Cap: capPerDay, Logger: quiet})
	decisions, err := d.Plan(ctx, now)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	fmt.Fprintf(tw, "queued messages due: %d\n", len(decisions))
	for _, dec := range decisions {
		until := ""
		if !dec.Until.IsZero() {
			until = "until " + dec.Until.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "  %s\t%s\tmember %s\t%d devices\t%s\t%s\t%s\n", dec.Action, dec.Message.Kind, dec.Message.MemberID, dec.Devices, until, dec.Reason, dec.Message.Title.In(loyalty.LocaleDE))
	}
	return tw.Flush()
}
