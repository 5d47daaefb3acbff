package bff_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/store/postgres"
	"github.com/treue/treue/store/postgres/pgtest"
	"github.com/treue/treue/store/sqlite"
)

// BenchmarkEarn compares a purchase posted through the whole stack (a
// Connect client over HTTP/2, authentication, validation, the domain
// service, the store) with the same SQL statements run in a raw loop on the
// same database at the same concurrency, for SQLite and PostgreSQL; the
// service level (the domain service called directly) shows where the time
// goes. Each reports earns/s and latency percentiles besides ns/op; the
// ratio to quote is raw ns/op ÷ stack ns/op:
//
//	go test ./bff -run '^$' -bench Earn -benchtime 3s -count 5
func BenchmarkEarn(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/stack/clients=%d", db, clients), func(b *testing.B) {
				st, _ := openBenchStore(b, db)
				e := newEnvOn(b, st)
				cards := make([]string, benchMembers)
				for j := range cards {
					cards[j] = enrol(b, e.customer(fmt.Sprint("bench-", j), protocols[0]))
				}
				till := e.till(tillKeyA, protocols[0])
				ctx := context.Background()
				runEarns(b, clients, func(i int64) error {
					_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
						CardNumber: cards[i%benchMembers], AmountMinor: 1250, Currency: "EUR", IdempotencyKey: fmt.Sprint("b", i),
					}))
					return err
				})
			})
			b.Run(fmt.Sprintf("%s/service/clients=%d", db, clients), func(b *testing.B) {
				st, _ := openBenchStore(b, db)
				e := newEnvOn(b, st)
				ctx, cancel := context.WithCancel(context.Background()) // as a request's context is
				defer cancel()
				cards := make([]string, benchMembers)
				for j := range cards {
					card, _, err := e.svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: fmt.Sprint("bench-", j)}, "")
					if err != nil {
						b.Fatal(err)
					}
					cards[j] = card.Member.CardNumber
				}
				till, err := e.svc.AuthenticateTill(ctx, tillKeyA)
				if err != nil {
					b.Fatal(err)
				}
				runEarns(b, clients, func(i int64) error {
					_, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{
						CardNumber: cards[i%benchMembers], AmountMinor: 1250, Currency: "EUR", IdempotencyKey: fmt.Sprint("b", i),
					})
					return err
				})
			})
			b.Run(fmt.Sprintf("%s/raw/clients=%d", db, clients), func(b *testing.B) {
				earn := rawEarn(b, db)
				runEarns(b, clients, earn)
			})
		}
	}
}

// benchMembers is how many members the purchases are spread over, so that
// concurrent clients do not all wait for one member's account.
const benchMembers = 64

// openBenchStore opens a fresh store of the kind db and returns it with
// its location (a file or a URL).
func openBenchStore(b *testing.B, db string) (auditedStore, string) {
	ctx := context.Background()
	if db == "postgres" {
		url := pgtest.NewDatabase(b, postgres.Migrate)
		st, err := postgres.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		return st, url
	}
	path := filepath.Join(b.TempDir(), "treue.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	return st, path
}

// runEarns calls earn b.N times from clients goroutines and reports
// earns/s and the 50th and 99th latency percentiles.
func runEarns(b *testing.B, clients int, earn func(i int64) error) {
	runOps(b, clients, "earns/s", earn)
}

// runOps calls op b.N times, with i from 1 to b.N, from clients goroutines
// pulling i from a shared counter, and reports the rate of calls as unit
// (e.g. "req/s") and the 50th and 99th latency percentiles in µs.
func runOps(b *testing.B, clients int, unit string, op func(i int64) error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		lats  = make([]time.Duration, 0, b.N)
		start = time.Now()
	)
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					break
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), unit)
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
}

// rawEarn returns a function that runs, in one transaction, the statements
// the store runs for one Earn (as store/sqlite and store/postgres write
// them), on a fresh, seeded database of the kind db, with a member enrolled
// and the till authenticated (the stack caches that).
func rawEarn(b *testing.B, db string) func(i int64) error {
	ctx := context.Background()
	st, where := openBenchStore(b, db)
	svc := loyalty.NewService(st)
	if err := svc.ApplySeed(ctx, testSeed(programA, tillKeyA)); err != nil {
		b.Fatal(err)
	}
	members := make([]loyalty.Member, benchMembers)
	for j := range members {
		card, _, err := svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: fmt.Sprint("bench-", j)}, "")
		if err != nil {
			b.Fatal(err)
		}
		members[j] = card.Member
	}
	till, err := svc.AuthenticateTill(ctx, tillKeyA)
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	if db == "postgres" {
		return rawEarnPostgres(b, where, till, members)
	}
	return rawEarnSQLite(b, where, till, members)
}

func rawEarnSQLite(b *testing.B, path string, till loyalty.Till, members []loyalty.Member) func(int64) error {
	ctx := context.Background()
	writer, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	writer.SetMaxOpenConns(1)
	b.Cleanup(func() { writer.Close() })
	caller := "till:" + till.ID
	return func(i int64) error {
		m := members[i%benchMembers]
		tx, err := writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		key, now, pid := fmt.Sprint("b", i), time.Now().UnixMicro(), fmt.Sprint("pur_", i)
		var fp, res []byte
		var entryRef sql.NullInt64
		var created int64
		if err := tx.QueryRowContext(ctx, "SELECT fingerprint, result, entry_id, created_at FROM idempotency WHERE program_id = ? AND caller = ? AND key = ?", m.ProgramID, caller, key).Scan(&fp, &res, &entryRef, &created); err != sql.ErrNoRows {
			return fmt.Errorf("idempotency lookup: %v", err)
		}
		var config string
		if err := tx.QueryRowContext(ctx, "SELECT config FROM programs WHERE id = ?", m.ProgramID).Scan(&config); err != nil {
			return err
		}
		var mp, mid, uid, cn, loc string
		var mc int64
		if err := tx.QueryRowContext(ctx, "SELECT program_id, id, firebase_uid, card_number, locale, created_at FROM members WHERE card_number = ?1 AND (?2 = '' OR program_id = ?2)", m.CardNumber, m.ProgramID).Scan(&mp, &mid, &uid, &cn, &loc, &mc); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO purchases (program_id, id, member_id, till_id, receipt_id, amount_minor, currency, points, returned_minor, reversed_points, lines, created_at)
			VALUES (?, ?, ?, ?, '', 1250, 'EUR', 12, 0, 0, '[]', ?)`, m.ProgramID, pid, mid, till.ID, now); err != nil {
			return err
		}
		var bal, ver, upd int64
		if err := tx.QueryRowContext(ctx, "SELECT balance, version, updated_at FROM accounts WHERE program_id = ? AND member_id = ?", m.ProgramID, mid).Scan(&bal, &ver, &upd); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, purchase_id, reward_id, detail)
			VALUES (?, ?, 'earn', 12, ?, ?, ?, '', '{"amount_minor":1250,"currency":"EUR"}')`, m.ProgramID, mid, bal+12, now, pid)
		if err != nil {
			return err
		}
		entry, _ := r.LastInsertId()
		if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = ?, version = ?, updated_at = ? WHERE program_id = ? AND member_id = ?", bal+12, ver+1, now, m.ProgramID, mid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lots (program_id, member_id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at)
			VALUES (?, ?, ?, ?, 12, 12, ?, NULL, ?)`, m.ProgramID, mid, entry, pid, now, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO idempotency (program_id, caller, key, fingerprint, result, entry_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			m.ProgramID, caller, key, till.KeyHash, []byte(`{"purchase_id":"x","points":12}`), entry, now); err != nil {
			return err
		}
		return tx.Commit()
	}
}

func rawEarnPostgres(b *testing.B, url string, till loyalty.Till, members []loyalty.Member) func(int64) error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	caller := "till:" + till.ID
	return func(i int64) error {
		m := members[i%benchMembers]
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			key, now, pid := fmt.Sprint("b", i), time.Now().UTC().Truncate(time.Microsecond), fmt.Sprint("pur_", i)
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", i); err != nil {
				return err
			}
			var fp, res []byte
			var entryRef *int64
			var created time.Time
			if err := tx.QueryRow(ctx, "SELECT fingerprint, result, entry_id, created_at FROM idempotency WHERE program_id = $1 AND caller = $2 AND key = $3", m.ProgramID, caller, key).Scan(&fp, &res, &entryRef, &created); err != pgx.ErrNoRows {
				return fmt.Errorf("idempotency lookup: %v", err)
			}
			var config []byte
			if err := tx.QueryRow(ctx, "SELECT config FROM programs WHERE id = $1", m.ProgramID).Scan(&config); err != nil {
				return err
			}
			var mp, mid, uid, cn, loc string
			var mc time.Time
			if err := tx.QueryRow(ctx, "SELECT program_id, id, firebase_uid, card_number, locale, created_at FROM members WHERE card_number = $1 AND ($2 = '' OR program_id = $2)", m.CardNumber, m.ProgramID).Scan(&mp, &mid, &uid, &cn, &loc, &mc); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO purchases (program_id, id, member_id, till_id, receipt_id, amount_minor, currency, points, returned_minor, reversed_points, lines, created_at)
				VALUES ($1, $2, $3, $4, '', 1250, 'EUR', 12, 0, 0, '[]', $5)`, m.ProgramID, pid, mid, till.ID, now); err != nil {
				return err
			}
			var bal, ver int64
			var upd time.Time
			if err := tx.QueryRow(ctx, "SELECT balance, version, updated_at FROM accounts WHERE program_id = $1 AND member_id = $2 FOR UPDATE", m.ProgramID, mid).Scan(&bal, &ver, &upd); err != nil {
				return err
			}
			var entry int64
			if err := tx.QueryRow(ctx, `INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, purchase_id, reward_id, detail)
				VALUES ($1, $2, 'earn', 12, $3, $4, $5, '', '{"amount_minor":1250,"currency":"EUR"}') RETURNING id`, m.ProgramID, mid, bal+12, now, pid).Scan(&entry); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE accounts SET balance = $1, version = $2, updated_at = $3 WHERE program_id = $4 AND member_id = $5", bal+12, ver+1, now, m.ProgramID, mid); err != nil {
				return err
			}
			var lot int64
			if err := tx.QueryRow(ctx, `INSERT INTO lots (program_id, member_id, entry_id, purchase_id, points, remaining, available_at, expires_at, created_at)
				VALUES ($1, $2, $3, $4, 12, 12, $5, NULL, $5) RETURNING id`, m.ProgramID, mid, entry, pid, now).Scan(&lot); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO idempotency (program_id, caller, key, fingerprint, result, entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
				m.ProgramID, caller, key, till.KeyHash, []byte(`{"purchase_id":"x","points":12}`), entry, now)
			return err
		})
	}
}
