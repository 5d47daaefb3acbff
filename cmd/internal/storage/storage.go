// Package storage opens the store a command's configuration names: the
// PostgreSQL store when a URL is given, else the embedded SQLite store.
package storage

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/notify"
	"github.com/treue/treue/store/postgres"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/applepass"
	"github.com/treue/treue/wallet/googlepass"
)

// Store is a loyalty.Store whose whole ledger can be audited, and that
// keeps Apple Wallet passes and their devices' registrations and the push
// message queue.
type Store interface {
	loyalty.Store
	applepass.Store
	notify.Store
	// GooglePasses returns the store's Google Wallet passes.
	GooglePasses() googlepass.Store
	// CheckInvariants returns an error listing every violation of the
	// ledger's invariants, or nil.
	CheckInvariants(ctx context.Context) error
}

// Config names a store.
type Config struct {
	// PostgresURL selects PostgreSQL; empty selects SQLite in DataDir.
	PostgresURL string
	DataDir     string
}

// Describe returns where the store lives, without credentials.
func (c Config) Describe() string {
	if c.PostgresURL == "" {
		return "sqlite:" + c.sqlitePath()
	}
	u, err := url.Parse(c.PostgresURL)
	if err != nil {
		return "postgres"
	}
	return "postgres://" + u.Host + u.Path
}

func (c Config) sqlitePath() string { return filepath.Join(c.DataDir, "treue.db") }

// Open opens the store and brings its schema up to date.
func Open(ctx context.Context, c Config) (Store, error) {
	if c.PostgresURL != "" {
		s, err := postgres.Open(ctx, c.PostgresURL)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", c.Describe(), err)
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, c.sqlitePath())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", c.Describe(), err)
	}
	return s, nil
}
