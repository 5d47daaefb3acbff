package postgres

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
	"github.com/treue/treue/store/storetest"
)

// defaultTestURL is the server the tests use unless TREUE_TEST_POSTGRES_URL
// names another.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testPrefix starts the name of every database the tests create; the
// creation time in the name lets a later run drop what a killed run left.
const testPrefix = "treue_test_"

// server is the PostgreSQL server of this test run: one migrated template
// database, cloned for every test that needs a database.
var server struct {
	once     sync.Once
	err      error // the server cannot be reached
	setupErr error // it can, but the template could not be made
	url      string
	admin    *pgxpool.Pool
	template string
	prefix   string
	seq      atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{server.template}.Sanitize()+" WITH (FORCE)")
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "dropping the template database %s: %v\n", server.template, err)
		}
		server.admin.Close()
	}
	os.Exit(code)
}

// setUpServer connects to the test server and makes the template database.
func setUpServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	server.url = os.Getenv("TREUE_TEST_POSTGRES_URL")
	if server.url == "" {
		server.url = defaultTestURL
	}
	cfg, err := pgxpool.ParseConfig(server.url)
	if err != nil {
		server.setupErr = fmt.Errorf("TREUE_TEST_POSTGRES_URL: %w", err)
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
	server.prefix = fmt.Sprintf("%s%d_%s", testPrefix, time.Now().Unix(), hex.EncodeToString(b[:]))
	server.template = server.prefix + "_tmpl"
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{server.template}.Sanitize()); err != nil {
		server.setupErr = fmt.Errorf("create template database: %w", err)
		return
	}
	if err := Migrate(ctx, dbURL(server.url, server.template)); err != nil {
		server.setupErr = fmt.Errorf("migrate template database: %w", err)
	}
}

// dropStale drops test databases older than an hour: what runs that were
// killed before their cleanup left behind.
func dropStale(ctx context.Context) {
	rows, err := server.admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", testPrefix+"%")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, testPrefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < time.Hour {
			continue
		}
		_, _ = server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// dbURL returns url with its database replaced by name.
func dbURL(raw, name string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return raw + " dbname=" + name // a key=value connection string: the last value wins
}

// needServer fails the test when the server is unreachable on CI and skips
// it elsewhere.
func needServer(t *testing.T) {
	t.Helper()
	server.once.Do(setUpServer)
	switch {
	case server.err != nil && os.Getenv("CI") == "true":
		t.Fatalf("PostgreSQL at %s is unreachable: %v (CI=true: the PostgreSQL tests must run; start the server or set TREUE_TEST_POSTGRES_URL)", redact(server.url), server.err)
	case server.err != nil:
		t.Skipf("PostgreSQL at %s is unreachable (%v): start it, or set TREUE_TEST_POSTGRES_URL to a server where this user may create databases", redact(server.url), server.err)
	case server.setupErr != nil:
		t.Fatal(server.setupErr)
	}
}

// redact returns a connection URL without its password.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// newDB creates an empty, migrated database for t, dropped when t ends, and
// returns its URL.
func newDB(t *testing.T) string {
	t.Helper()
	needServer(t)
	name := fmt.Sprintf("%s_%d", server.prefix, server.seq.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := server.admin.Exec(t.Context(), "CREATE DATABASE "+ident+" TEMPLATE "+pgx.Identifier{server.template}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := server.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return dbURL(server.url, name)
}

// openTest opens a store on a fresh database and closes it after the test.
func openTest(t *testing.T, cfg config) *Store {
	t.Helper()
	s, err := open(t.Context(), newDB(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	needServer(t)
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s, err := Open(t.Context(), newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, CheckInvariants: s.CheckInvariants}
	})
}
