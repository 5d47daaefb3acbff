// Command treuectl is Treue's operator tool: it migrates the store, runs
// the expiry job once, audits the ledger and makes development
// certificates for Apple Wallet passes.
//
//	treuectl migrate              bring the store's schema up to date
//	treuectl expire --now         expire every point that is due, once
//	treuectl verify               check every invariant of the ledger
//	treuectl dev-certs [-dir DIR] create (or show) the development pass certificates
//	treuectl notify --dry-run     list the pushes that would go out now
//
// It finds the store as treued does: -postgres-url or TREUE_POSTGRES_URL,
// else the SQLite file in -data-dir or TREUE_DATA_DIR (default treue-data).
// dev-certs keeps its files where treued looks for them, in
// <data-dir>/dev-certs unless -dir says otherwise. No real iPhone accepts
// passes signed with them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	// Programs name their time zone; the tool must not depend on the
	// host's zoneinfo files.
	_ "time/tzdata"

	"github.com/treue/treue/cmd/internal/storage"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/applepass"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "treuectl:", err)
		os.Exit(1)
	}
}

const usage = `usage: treuectl [-postgres-url URL] [-data-dir DIR] COMMAND

commands:
  migrate         bring the store's schema up to date
  expire --now    expire every point that is due, once
  verify          check every invariant of the ledger; fails when one is broken
  dev-certs [-dir DIR]
                  create the development pass certificates in DIR (default
                  <data-dir>/dev-certs) unless they exist, and show them;
                  no real iPhone accepts passes signed with them
  notify --dry-run [-program ID] [-at TIME]
                  list the reminders that would be queued and what would
                  become of every queued push that is due; sends nothing`

// run runs one command. It returns an error for bad usage, a failed
// command or, for verify, a broken invariant.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("treuectl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := storage.Config{}
	fs.StringVar(&cfg.PostgresURL, "postgres-url", getenv("TREUE_POSTGRES_URL"), "PostgreSQL connection URL")
	fs.StringVar(&cfg.DataDir, "data-dir", or(getenv("TREUE_DATA_DIR"), "treue-data"), "directory of the SQLite database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if fs.NArg() == 0 {
		return errors.New(usage)
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "migrate":
		if len(rest) > 0 {
			return errors.New(usage)
		}
		s, err := storage.Open(ctx, cfg) // opening migrates
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: schema up to date\n", cfg.Describe())
		return s.Close()
	case "expire":
		if len(rest) != 1 || rest[0] != "--now" && rest[0] != "-now" {
			return errors.New("expire needs --now: it expires points for real\n" + usage)
		}
		return expire(ctx, cfg, stdout)
	case "verify":
		if len(rest) > 0 {
			return errors.New(usage)
		}
		return verify(ctx, cfg, stdout)
	case "dev-certs":
		return devCerts(rest, filepath.Join(cfg.DataDir, "dev-certs"), stdout)
	case "notify":
		return notifyDryRun(ctx, cfg, rest, getenv, stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func expire(ctx context.Context, cfg storage.Config, stdout io.Writer) error {
	s, err := storage.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	run, err := loyalty.NewService(s).ExpireDue(ctx, func(r loyalty.ExpiryRun) {
		fmt.Fprintf(stdout, "… %d members, %d points so far\n", r.Members, r.Points)
	})
	if err != nil {
		return fmt.Errorf("expire (after %d members, %d points): %w", run.Members, run.Points, err)
	}
	fmt.Fprintf(stdout, "expired %d points of %d members in %v\n", run.Points, run.Members, time.Since(start).Round(time.Millisecond))
	return nil
}

func verify(ctx context.Context, cfg storage.Config, stdout io.Writer) error {
	s, err := storage.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckInvariants(ctx); err != nil {
		fmt.Fprintf(stdout, "%s: INVARIANTS BROKEN\n%v\n", cfg.Describe(), err)
		return errors.New("verify failed")
	}
	fmt.Fprintf(stdout, "%s: every invariant holds\n", cfg.Describe())
	return nil
}

// devCerts loads or creates the development identity in the directory
// args name (-dir, default defaultDir) and prints where it is. It returns
// an error for bad arguments or when the identity cannot be made.
func devCerts(args []string, defaultDir string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dev-certs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", defaultDir, "directory of the development certificates")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("dev-certs takes only -dir DIR\n%s", usage)
	}
	id, _, created, err := applepass.LoadOrCreateDevIdentity(*dir, time.Now())
	if err != nil {
		return err
	}
	state := "existing, still valid"
	if created {
		state = "created"
	}
	fmt.Fprintf(stdout, "development pass certificates in %s (%s):\n", *dir, state)
	for _, f := range []struct{ what, name string }{
		{"root CA", applepass.DevRootFile},
		{"WWDR stand-in", applepass.DevWWDRFile},
		{"pass certificate", applepass.DevPassCertFile},
		{"pass key", applepass.DevPassKeyFile},
	} {
		fmt.Fprintf(stdout, "  %-17s %s\n", f.what+":", filepath.Join(*dir, f.name))
	}
	fmt.Fprintf(stdout, "  %-17s %s (team %s), valid until %s\n", "pass type ID:", id.PassTypeID(), id.TeamID(), id.Certificate.NotAfter.UTC().Format(time.DateOnly))
	fmt.Fprintln(stdout, "These are DEVELOPMENT certificates: no real iPhone accepts passes signed with them. Use Apple's Pass Type ID certificate in production.")
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
