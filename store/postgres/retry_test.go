package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/storetest"
)

// seedMembers writes cafe-a and n members with accounts, and returns them.
func seedMembers(t *testing.T, s *Store, n int) []loyalty.Member {
	t.Helper()
	ctx := t.Context()
	var ms []loyalty.Member
	err := s.Update(ctx, func(tx loyalty.Tx) error {
		ms = ms[:0]
		if err := tx.PutProgram(ctx, storetest.DemoSeed("cafe-a").Program); err != nil {
			return err
		}
		for i := range n {
			m := loyalty.Member{ProgramID: "cafe-a", ID: fmt.Sprintf("m_%d", i), FirebaseUID: fmt.Sprintf("u%d", i),
				CardNumber: fmt.Sprintf("card-%d", i), Locale: loyalty.LocaleDE, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
			ms = append(ms, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// bump locks the member's account and increments its version.
func bump(ctx context.Context, tx loyalty.Tx, m loyalty.Member) error {
	a, err := tx.Account(ctx, m.ProgramID, m.ID)
	if err != nil {
		return err
	}
	a.Version++
	return tx.SaveAccount(ctx, a)
}

func version(t *testing.T, s *Store, m loyalty.Member) int64 {
	t.Helper()
	var a loyalty.Account
	err := s.View(t.Context(), func(tx loyalty.Tx) (err error) { a, err = tx.Account(t.Context(), m.ProgramID, m.ID); return err })
	if err != nil {
		t.Fatal(err)
	}
	return a.Version
}

// TestUpdateRetriesSerializationFailure fails a transaction's first attempt
// with a serialization failure after it wrote: the second attempt commits,
// the first one's write is gone, and the caller sees no error.
func TestUpdateRetriesSerializationFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	m := seedMembers(t, s, 1)[0]
	var calls atomic.Int32
	err := s.Update(ctx, func(ltx loyalty.Tx) error {
		if err := bump(ctx, ltx, m); err != nil {
			return err
		}
		if calls.Add(1) == 1 {
			_, err := ltx.(*tx).exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$`)
			return fmt.Errorf("wrapped by the service: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update with a serialization failure in its first attempt: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("fn ran %d times, want 2", n)
	}
	if v := version(t, s, m); v != 1 {
		t.Errorf("account version %d, want 1 (the failed attempt's write rolled back)", v)
	}
}

// TestUpdateRetriesSwallowedFailure retries a transaction whose function
// ignored the serialization failure of a statement: the transaction is
// aborted all the same.
func TestUpdateRetriesSwallowedFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	m := seedMembers(t, s, 1)[0]
	var calls atomic.Int32
	err := s.Update(ctx, func(ltx loyalty.Tx) error {
		if calls.Add(1) == 1 {
			_, _ = ltx.(*tx).exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$`)
			return nil
		}
		return bump(ctx, ltx, m)
	})
	if err != nil || calls.Load() != 2 || version(t, s, m) != 1 {
		t.Errorf("Update = %v after %d calls, version %d; want nil after 2 calls, version 1", err, calls.Load(), version(t, s, m))
	}
}

// TestUpdateRetriesDeadlock runs two transactions that lock two accounts in
// opposite orders: PostgreSQL aborts one of them as a deadlock, Update runs
// it again, and both commit.
func TestUpdateRetriesDeadlock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	ms := seedMembers(t, s, 2)
	var (
		calls [2]atomic.Int32
		ready = [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		errs  [2]error
		wg    sync.WaitGroup
	)
	for i := range 2 {
		first, second := ms[i], ms[1-i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(ltx loyalty.Tx) error {
				n := calls[i].Add(1)
				if err := bump(ctx, ltx, first); err != nil {
					return err
				}
				if n == 1 {
					// Both first attempts hold their first lock before
					// either asks for its second.
					close(ready[i])
					<-ready[1-i]
				}
				return bump(ctx, ltx, second)
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	if n := calls[0].Load() + calls[1].Load(); n != 3 {
		t.Errorf("the functions ran %d times in all, want 3 (one retried after the deadlock)", n)
	}
	for _, m := range ms {
		if v := version(t, s, m); v != 2 {
			t.Errorf("account %s: version %d, want 2 (both transactions committed)", m.ID, v)
		}
	}
}

// TestUpdateRetriesAreBounded checks that a failure that never goes away
// ends after the configured attempts, with the function's error.
func TestUpdateRetriesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := defaultConfig()
	cfg.attempts, cfg.backoff, cfg.maxBackoff = 4, time.Millisecond, time.Millisecond
	s := openTest(t, cfg)
	ms := seedMembers(t, s, 1)
	var calls atomic.Int32
	err := s.Update(ctx, func(ltx loyalty.Tx) error {
		calls.Add(1)
		_, err := ltx.(*tx).exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'deadlock_detected'; END $$`)
		return err
	})
	if e := pgError(err); e == nil || e.Code != codeDeadlockDetected || calls.Load() != 4 {
		t.Errorf("Update = %v after %d calls; want the deadlock error after 4", err, calls.Load())
	}

	// A unique key that is really taken gets a few attempts, then the
	// conflict.
	calls.Store(0)
	dup := ms[0]
	dup.ID, dup.FirebaseUID = "m_other", "u-other"
	err = s.Update(ctx, func(ltx loyalty.Tx) error { calls.Add(1); return ltx.CreateMember(ctx, dup) })
	if !errors.Is(err, loyalty.ErrConflict) || calls.Load() != int32(cfg.uniqueAttempts) {
		t.Errorf("CreateMember with a taken card number: %v after %d calls; want ErrConflict after %d", err, calls.Load(), cfg.uniqueAttempts)
	}

	// Other errors are not retried.
	calls.Store(0)
	err = s.Update(ctx, func(ltx loyalty.Tx) error {
		calls.Add(1)
		return ltx.SaveAccount(ctx, loyalty.Account{ProgramID: "cafe-a", MemberID: ms[0].ID, Balance: -1})
	})
	if err == nil || calls.Load() != 1 {
		t.Errorf("a negative balance: %v after %d calls; want an error after 1", err, calls.Load())
	}
}

// TestIdempotencyKeyLock checks that IdempotencyRecord in Update makes a
// second transaction with the same key wait for the first and then see its
// record, and that other keys do not wait.
func TestIdempotencyKeyLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, defaultConfig())
	seedMembers(t, s, 0)
	rec := loyalty.IdempotencyRecord{ProgramID: "cafe-a", Caller: "till:t", Key: "k", Result: []byte(`{}`), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	locked, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(tx loyalty.Tx) error {
			if _, err := tx.IdempotencyRecord(ctx, rec.ProgramID, rec.Caller, rec.Key); !errors.Is(err, loyalty.ErrNotFound) {
				return fmt.Errorf("first read: %v, want ErrNotFound", err)
			}
			close(locked)
			<-release
			return tx.PutIdempotencyRecord(ctx, rec)
		})
	}()
	<-locked
	// Another key goes ahead at once.
	other := make(chan error, 1)
	go func() {
		other <- s.Update(ctx, func(tx loyalty.Tx) error {
			_, err := tx.IdempotencyRecord(ctx, rec.ProgramID, rec.Caller, "other-key")
			if errors.Is(err, loyalty.ErrNotFound) {
				return nil
			}
			return err
		})
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Errorf("another key: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a transaction with another key waited for the first")
	}
	second := make(chan error, 1)
	go func() {
		second <- s.Update(ctx, func(tx loyalty.Tx) error {
			got, err := tx.IdempotencyRecord(ctx, rec.ProgramID, rec.Caller, rec.Key)
			if err != nil {
				return fmt.Errorf("second read: %w", err)
			}
			if string(got.Result) != "{}" {
				return fmt.Errorf("second read: result %q", got.Result)
			}
			return nil
		})
	}()
	select {
	case err := <-second:
		t.Fatalf("the second transaction with the key did not wait for the first: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}
