// Command treued is the Treue server: the Connect API of a loyalty program
// for its mobile app, its wallet passes and its stores' tills.
//
// With no configuration it runs self-contained: SQLite in ./treue-data, the
// demo café's program, and development sign-in on 127.0.0.1:8080.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Programs name their time zone; the server must not depend on the
	// host's zoneinfo files.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "treued:", err)
		os.Exit(1)
	}
}

// run starts the server and serves until ctx is done, then shuts down
// gracefully. It returns an error when the configuration is wrong or the
// server cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	srv, err := newServer(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer srv.close()
	return srv.serve(ctx)
}
