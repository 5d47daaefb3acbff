// Package pgtest gives tests fresh PostgreSQL databases on the server named
// by TREUE_TEST_POSTGRES_URL (default: the local server). A test that needs
// one calls NewDatabase; the database is dropped when the test ends.
//
// When the server cannot be reached the test fails if CI=true and is
// skipped otherwise, with a message saying how to point it at a server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server tests use unless TREUE_TEST_POSTGRES_URL names
// another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// prefix starts the name of every database the tests create; the creation
// time in the name lets a later run drop what a killed run left.
const prefix = "treue_test_"

// server is the test server of this process: one migrated template
// database, cloned for every test that needs a migrated database.
var server struct {
	once     sync.Once
	err      error // the server cannot be reached
	url      string
	admin    *pgxpool.Pool
	prefix   string
	seq      atomic.Int64
	tmplOnce sync.Once
	tmplErr  error
	template string
}

func connect() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server.url = os.Getenv("TREUE_TEST_POSTGRES_URL")
	if server.url == "" {
		server.url = DefaultURL
	}
	cfg, err := pgxpool.ParseConfig(server.url)
	if err != nil {
		server.err = fmt.Errorf("TREUE_TEST_POSTGRES_URL: %w", err)
		return
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.MaxConns = 4
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		server.err = err
		return
	}
	server.admin = admin
	dropStale(ctx)
	var b [4]byte
	_, _ = rand.Read(b[:])
	server.prefix = fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
}

// dropStale drops test databases older than an hour: what runs that were
// killed before their cleanup left behind.
func dropStale(ctx context.Context) {
	rows, err := server.admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", prefix+"%")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < time.Hour {
			continue
		}
		_, _ = server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// URLFor returns the server's URL with its database replaced by name.
func URLFor(raw, name string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return raw + " dbname=" + name // a key=value connection string: the last value wins
}

// Redact returns a connection URL without its password.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// need fails t when the server is unreachable on CI and skips it elsewhere.
func need(t testing.TB) {
	t.Helper()
	server.once.Do(connect)
	if server.err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is unreachable: %v (CI=true: the PostgreSQL tests must run; start the server or set TREUE_TEST_POSTGRES_URL)", Redact(server.url), server.err)
	}
	t.Skipf("PostgreSQL at %s is unreachable (%v): start it, or set TREUE_TEST_POSTGRES_URL to a server where this user may create databases", Redact(server.url), server.err)
}

// NewDatabase creates a database for t, dropped when t ends, and returns
// its URL. With migrate it is a clone of a template migrated once per
// process by the first migrate given; with nil it is empty.
func NewDatabase(t testing.TB, migrate func(ctx context.Context, url string) error) string {
	t.Helper()
	need(t)
	ctx := context.Background()
	name := fmt.Sprintf("%s_%d", server.prefix, server.seq.Add(1))
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if migrate != nil {
		server.tmplOnce.Do(func() { makeTemplate(migrate) })
		if server.tmplErr != nil {
			t.Fatal(server.tmplErr)
		}
		create += " TEMPLATE " + pgx.Identifier{server.template}.Sanitize()
	}
	if _, err := server.admin.Exec(ctx, create); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { drop(t, name) })
	return URLFor(server.url, name)
}

func makeTemplate(migrate func(ctx context.Context, url string) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	server.template = server.prefix + "_tmpl"
	if _, err := server.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{server.template}.Sanitize()); err != nil {
		server.tmplErr = fmt.Errorf("create template database: %w", err)
		return
	}
	if err := migrate(ctx, URLFor(server.url, server.template)); err != nil {
		server.tmplErr = fmt.Errorf("migrate template database: %w", err)
	}
}

func drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

// Cleanup drops the template database; call it from TestMain after m.Run.
// What it misses, a later run drops after an hour.
func Cleanup() {
	if server.admin == nil {
		return
	}
	if server.template != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{server.template}.Sanitize()+" WITH (FORCE)")
		cancel()
	}
	server.admin.Close()
}
