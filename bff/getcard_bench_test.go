package bff_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime"
)

// BenchmarkGetCard compares a cached GetCard through Treue's whole stack
// (authentication, the error mapper, the hub's cache, the conversion to
// proto) with a bare connect-go CardService that returns a constant card,
// all over the same h2c server, client transport and connect-proto
// protocol, at 1 and 16 concurrent clients:
//
//   - bare: the baseline, a connect-go handler with no interceptors or
//     options;
//   - bare-nogzip: the same with connect.WithCompressMinBytes as Treue sets
//     it. Without it connect-go gzips every response the client accepts
//     gzip for (connect-go clients always do), however small, which costs
//     bare a fifth of its CPU that Treue does not spend;
//   - cached/memory and cached/valkey: Treue over the in-process broker and
//     over Valkey/Redis (TREUE_TEST_VALKEY_ADDR or 127.0.0.1:6379; skipped
//     when it does not answer, failed under CI=true), with 64 members
//     enrolled and their cards in the cache, each op reading member i%64's
//     card. The benchmark fails unless those reads are cache hits.
//
// Each reports req/s and the 50th and 99th latency percentiles besides
// ns/op. The ratio to quote, for each broker and client count, is cached
// req/s ÷ bare req/s (the cache's overhead over connect-go itself); the
// target is ≥ 0.9. Cached req/s ÷ bare-nogzip req/s is the like-for-like
// overhead (same bytes on the wire), the stricter figure. Run it on an
// otherwise idle machine:
//
//	go test ./bff -run '^$' -bench GetCard -benchtime 3s -count 3
func BenchmarkGetCard(b *testing.B) {
	for _, clients := range []int{1, 16} {
		for _, bare := range []struct {
			name string
			opts []connect.HandlerOption
		}{
			{"bare", nil},
			{"bare-nogzip", []connect.HandlerOption{connect.WithCompressMinBytes(treueCompressMinBytes)}},
		} {
			b.Run(fmt.Sprintf("%s/clients=%d", bare.name, clients), func(b *testing.B) {
				url, hc := newH2CServer(b, bareCardHandler(bare.opts...))
				// The same clients as the cached runs', Authorization
				// header included (which the bare handler ignores), so
				// that only the server's side differs.
				cards := make([]treuev1connect.CardServiceClient, benchMembers)
				for j := range cards {
					opts := append([]connect.ClientOption{headers("Authorization", "Bearer dev:"+fmt.Sprint("bench-", j))}, protocols[0].opts...)
					cards[j] = treuev1connect.NewCardServiceClient(hc, url, opts...)
				}
				runGetCards(b, clients, cards, nil)
			})
		}
		for _, br := range brokers {
			b.Run(fmt.Sprintf("cached/%s/clients=%d", br.name, clients), func(b *testing.B) {
				e := newEnvWith(b, openSQLite(b), br.open(b))
				cards := make([]treuev1connect.CardServiceClient, benchMembers)
				for j := range cards {
					c := e.customer(fmt.Sprint("bench-", j), protocols[0])
					enrol(b, c)
					cards[j] = c.card
				}
				runGetCards(b, clients, cards, e.hub)
			})
		}
	}
}

// runGetCards warms every card in cards (one client per member) with a
// GetCard each, then times GetCards of card i%len(cards) from clients
// goroutines. With a hub, it first checks that a second round of reads is
// served entirely from the hub's cache, and afterwards that no timed read
// missed it.
func runGetCards(b *testing.B, clients int, cards []treuev1connect.CardServiceClient, hub *realtime.Hub) {
	ctx := context.Background()
	get := func(i int64) error {
		res, err := cards[i%int64(len(cards))].GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
		if err == nil && res.Msg.GetCard().GetCardNumber() == "" {
			err = fmt.Errorf("GetCard of member %d: no card number in %v", i%int64(len(cards)), res.Msg)
		}
		return err
	}
	for j := range cards {
		if err := get(int64(j)); err != nil {
			b.Fatal(err)
		}
	}
	var misses int64
	if hub != nil {
		stats := hub.Stats()
		hits, misses0 := stats.CacheHits.Load(), stats.CacheMisses.Load()
		for j := range cards {
			if err := get(int64(j)); err != nil {
				b.Fatal(err)
			}
		}
		hits = stats.CacheHits.Load() - hits
		if n := int64(len(cards)); hits != n || stats.CacheMisses.Load() != misses0 {
			b.Fatalf("%d warm GetCards: %d cache hits and %d misses, want %d and 0", n, hits, stats.CacheMisses.Load()-misses0, n)
		}
		misses = stats.CacheMisses.Load()
	}
	runOps(b, clients, "req/s", get)
	if hub != nil {
		if n := hub.Stats().CacheMisses.Load() - misses; n != 0 {
			b.Errorf("%d of %d timed GetCards missed the cache", n, b.N)
		}
	}
}

// treueCompressMinBytes is the compressMinBytes of server.go: the smallest
// response Treue compresses.
const treueCompressMinBytes = 1024

// bareCards is a CardService whose GetCard returns a constant card: what
// connect-go costs by itself.
type bareCards struct {
	treuev1connect.UnimplementedCardServiceHandler
	res *treuev1.GetCardResponse
}

func (s bareCards) GetCard(context.Context, *connect.Request[treuev1.GetCardRequest]) (*connect.Response[treuev1.GetCardResponse], error) {
	return connect.NewResponse(s.res), nil
}

// bareCardHandler returns bareCards mounted as connect-go mounts it, with
// no interceptors and only opts.
func bareCardHandler(opts ...connect.HandlerOption) http.Handler {
	card := &treuev1.Card{
		CardNumber:       "9276048151623425",
		Balance:          1250,
		PointName:        "Sterne",
		Tier:             &treuev1.Tier{Id: "base", Name: "Grün"},
		BarcodePayload:   "9276048151623425",
		ProgramName:      "Café cafe-a",
		Version:          42,
		AvailableBalance: 1190,
		PendingPoints:    60,
		NextExpiry: &treuev1.PointsExpiry{
			Points:     300,
			ExpireTime: timestamppb.New(time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC)),
		},
	}
	mux := http.NewServeMux()
	mux.Handle(treuev1connect.NewCardServiceHandler(bareCards{res: &treuev1.GetCardResponse{Card: card}}, opts...))
	return mux
}

// newH2CServer serves h over HTTP/2 without TLS, and returns its URL and a
// client speaking h2c to it, both set up as newEnvWith sets up env's; both
// are closed when tb ends.
func newH2CServer(tb testing.TB, h http.Handler) (string, *http.Client) {
	tb.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	tb.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols), MaxIdleConnsPerHost: 64}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	return srv.URL, &http.Client{Transport: tr}
}
