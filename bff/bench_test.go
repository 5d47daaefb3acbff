package bff_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/store/sqlite"
)

// BenchmarkEarn compares a purchase posted through the whole stack (a
// Connect client over HTTP/2, authentication, validation, the domain
// service, the SQLite store) with the same SQL statements run in a raw loop
// on the same kind of database. Report the ratio of the two ns/op:
//
//	go test ./bff -run '^$' -bench Earn -count 5
func BenchmarkEarn(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("stack/clients=%d", par), func(b *testing.B) { benchEarnStack(b, par) })
		b.Run(fmt.Sprintf("service/clients=%d", par), func(b *testing.B) { benchEarnService(b, par) })
		b.Run(fmt.Sprintf("raw-sql/clients=%d", par), func(b *testing.B) { benchEarnRawSQL(b, par) })
	}
}

func benchEarnStack(b *testing.B, clients int) {
	e := newEnv(b)
	card := enrol(b, e.customer("bench", protocols[0]))
	till := e.till(tillKeyA, protocols[0])
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, err := till.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
				CardNumber: card, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: fmt.Sprint("b", i),
			}))
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchEarnService calls the domain service directly: the stack without
// HTTP, Connect and authentication, to show where the time goes.
func benchEarnService(b *testing.B, clients int) {
	e := newEnv(b)
	ctx := context.Background()
	card, _, err := e.svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: "bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	till, err := e.svc.AuthenticateTill(ctx, tillKeyA)
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{
				CardNumber: card.Member.CardNumber, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: fmt.Sprint("b", n.Add(1)),
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchEarnRawSQL runs the statements one Earn runs, with the same
// connection settings as store/sqlite: one immediate transaction that checks the idempotency key, reads the
// program, the member and the account, and writes the purchase, the entry,
// the balance and the idempotency record.
func benchEarnRawSQL(b *testing.B, clients int) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "raw.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	svc := loyalty.NewService(st)
	if err := svc.ApplySeed(ctx, testSeed(programA, tillKeyA)); err != nil {
		b.Fatal(err)
	}
	card, _, err := svc.Enroll(ctx, loyalty.Customer{ProgramID: programA, UID: "bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	common := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	writer, err := sql.Open("sqlite", path+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	writer.SetMaxOpenConns(1)
	defer writer.Close()
	reader, err := sql.Open("sqlite", path+common+"&_pragma=query_only(1)")
	if err != nil {
		b.Fatal(err)
	}
	reader.SetMaxOpenConns(4)
	defer reader.Close()
	keyHash := loyalty.HashAPIKey(tillKeyA)
	m := card.Member
	// The till is authenticated once and then cached by the stack.
	var tillID, prog, name string
	var hash []byte
	if err := reader.QueryRowContext(ctx, "SELECT id, program_id, name, key_hash FROM tills WHERE key_hash = ?", keyHash).Scan(&tillID, &prog, &name, &hash); err != nil {
		b.Fatal(err)
	}

	earn := func(i int64) error {
		tx, err := writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		key := fmt.Sprint("b", i)
		now := time.Now().UnixMicro()
		var fp, res []byte
		var created int64
		if err := tx.QueryRowContext(ctx, "SELECT fingerprint, result, created_at FROM idempotency WHERE program_id = ? AND caller = ? AND key = ?", prog, "till:"+tillID, key).Scan(&fp, &res, &created); err != sql.ErrNoRows {
			return fmt.Errorf("idempotency lookup: %v", err)
		}
		var config string
		if err := tx.QueryRowContext(ctx, "SELECT config FROM programs WHERE id = ?", prog).Scan(&config); err != nil {
			return err
		}
		var mp, mid, uid, cn, loc string
		var mc int64
		if err := tx.QueryRowContext(ctx, "SELECT program_id, id, firebase_uid, card_number, locale, created_at FROM members WHERE card_number = ?1 AND (?2 = '' OR program_id = ?2)", m.CardNumber, prog).Scan(&mp, &mid, &uid, &cn, &loc, &mc); err != nil {
			return err
		}
		pid := fmt.Sprint("pur_", i)
		if _, err := tx.ExecContext(ctx, `INSERT INTO purchases (program_id, id, member_id, till_id, receipt_id, amount_minor, currency, points, returned_minor, reversed_points, lines, created_at)
			VALUES (?, ?, ?, ?, '', 1250, 'EUR', 12, 0, 0, '[]', ?)`, prog, pid, mid, tillID, now); err != nil {
			return err
		}
		var bal, ver, upd int64
		if err := tx.QueryRowContext(ctx, "SELECT balance, version, updated_at FROM accounts WHERE program_id = ? AND member_id = ?", prog, mid).Scan(&bal, &ver, &upd); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, purchase_id, reward_id, detail)
			VALUES (?, ?, 'earn', 12, ?, ?, ?, '', '{"amount_minor":1250,"currency":"EUR"}')`, prog, mid, bal+12, now, pid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = ?, version = ?, updated_at = ? WHERE program_id = ? AND member_id = ?", bal+12, ver+1, now, prog, mid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO idempotency (program_id, caller, key, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			prog, "till:"+tillID, key, keyHash, []byte(`{"purchase_id":"x","points":12}`), now); err != nil {
			return err
		}
		return tx.Commit()
	}
	var n atomic.Int64
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := earn(n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
