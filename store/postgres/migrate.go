package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/store/migration"
)

// migrationFiles are the schema's versions, named NNNN_what.sql and applied
// in the order of their numbers.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in the order of their
// versions.
func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFiles, "migrations/*.sql")
}

// migrationLock is the key of the session advisory lock held while
// migrating, so that replicas starting at once apply each migration once.
// It is "treue-mg" in ASCII.
const migrationLock int64 = 0x7472_7565_652d_6d67

// Migrate brings the schema of the database at url up to date, as Open
// does, and closes its connection. Running it again does nothing. It
// refuses a database whose schema is newer than this program.
func Migrate(ctx context.Context, url string) error {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: parse connection string: %w", err)
	}
	return migrate(ctx, cc)
}

// migrate applies the migrations the database has not seen yet, each in its
// own transaction, and records them in schema_migrations. It works on a
// connection of its own, holding an advisory lock; closing the connection
// releases the lock whatever happens.
func migrate(ctx context.Context, cc *pgx.ConnConfig) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return fmt.Errorf("postgres: no migrations embedded")
	}
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: lock for migrating: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER     NOT NULL PRIMARY KEY,
		name       TEXT        NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	known := ms[len(ms)-1].Version
	for _, v := range versions {
		if v > known {
			return fmt.Errorf("postgres: the database has schema version %d; this program knows versions up to %d: run a newer version", v, known)
		}
		applied[v] = true
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: unlock after migrating: %w", err)
	}
	return nil
}

// apply runs m and records it in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m migration.Migration) error {
	t, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = t.Rollback(ctx) }()
	if _, err := t.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return err
	}
	return t.Commit(ctx)
}
