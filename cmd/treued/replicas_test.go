package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime/valkey/valkeytest"
	"github.com/treue/treue/store/postgres/pgtest"
)

// TestTwoReplicas runs two treued processes on one PostgreSQL database and
// one Valkey. A card stream opened on the first sees every purchase posted
// through the second, in order, and misses none when the first is killed
// and the app resumes on its restart with the last version it saw.
func TestTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes; runs in the full suite")
	}
	const earns = 300
	valkeyAddr := valkeytest.Addr(t)
	prefix := valkeytest.Prefix(t, valkeyAddr)
	pg := pgtest.NewDatabase(t, nil)
	treued := filepath.Join(t.TempDir(), "treued")
	build(t, treued, ".")
	dataDir := t.TempDir() // the development pass certificates, shared
	replica := func() (*process, string) {
		addr := freeAddr(t)
		p := &process{t: t, bin: treued, args: []string{
			"-addr", addr, "-dev", "true", "-postgres-url", pg, "-data-dir", dataDir,
			// The test posts as fast as it can from one till.
			"-rate-till", "inf", "-rate-customer", "inf",
			"-valkey-addr", valkeyAddr, "-valkey-prefix", prefix,
		}}
		p.start()
		t.Cleanup(p.stop)
		base := "http://" + addr
		waitUp(t, base)
		return p, base
	}
	first, baseA := replica()
	_, baseB := replica()

	ctx := context.Background()
	acct := treuev1connect.NewAccountServiceClient(http.DefaultClient, baseB, bearer("dev:replica-alice"))
	enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	card := enr.Msg.GetProfile().GetCard().GetCardNumber()
	cards := treuev1connect.NewCardServiceClient(http.DefaultClient, baseA, bearer("dev:replica-alice"))
	open := func(since *int64) *connect.ServerStreamForClient[treuev1.WatchCardResponse] {
		t.Helper()
		s, err := retry(ctx, func() (*connect.ServerStreamForClient[treuev1.WatchCardResponse], error) {
			s, err := cards.WatchCard(ctx, connect.NewRequest(&treuev1.WatchCardRequest{SinceVersion: since}))
			if err == nil && !s.Receive() {
				err = fmt.Errorf("stream ended at once: %w", s.Err())
			}
			return s, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The till posts through the second replica, paced like a busy café.
	pos := treuev1connect.NewPosServiceClient(http.DefaultClient, baseB, bearer("demo-store-key"))
	posted := make(chan error, 1)
	go func() {
		start := time.Now()
		defer func() { t.Logf("posting took %v", time.Since(start)) }()
		for i := range earns {
			_, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
				CardNumber: card, AmountMinor: 100, Currency: "EUR",
				IdempotencyKey: fmt.Sprint("replica-", i), ReceiptId: fmt.Sprint("R", i),
			}))
			if err != nil {
				posted <- fmt.Errorf("earn %d: %w", i, err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		posted <- nil
	}()

	var (
		receipts []string
		version  int64
		balance  int64
		resumed  bool
	)
	s := open(nil)
	start := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	// The demo rules add bonus entries (welcome, challenges) between the
	// purchases: the stream is done when it brought every receipt.
	for len(receipts) < earns {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s the stream brought %d of %d purchases (balance %d)", len(receipts), earns, balance)
		}
		u := s.Msg().GetUpdate()
		if u != nil {
			if v := u.GetCard().GetVersion(); v < version {
				t.Fatalf("version went back from %d to %d", version, v)
			}
			version, balance = u.GetCard().GetVersion(), u.GetCard().GetBalance()
			for _, a := range u.GetActivities() {
				if a.GetReceiptId() != "" {
					receipts = append(receipts, a.GetReceiptId())
				}
			}
		}
		if !resumed && len(receipts) >= earns/3 {
			// Kill the app's replica; the app resumes on its restart.
			resumed = true
			s.Close()
			first.kill()
			first.start()
			waitUp(t, baseA)
			since := version
			s = open(&since)
			continue
		}
		if !s.Receive() {
			t.Fatalf("stream ended: %v", s.Err())
		}
	}
	s.Close()
	t.Logf("%d purchases through replica B reached the stream on replica A in %v, across a kill and restart of A", earns, time.Since(start).Round(time.Millisecond))
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	if len(receipts) != earns {
		t.Fatalf("the stream brought %d purchases, want %d", len(receipts), earns)
	}
	for i, r := range receipts {
		if r != fmt.Sprint("R", i) {
			t.Fatalf("purchase %d on the stream is %s, want R%d: out of order or missed", i, r, i)
		}
	}
}
