package bff_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// FuzzEarn sends arbitrary purchases through the whole stack. Whatever the
// input, the server must answer with a success whose points follow the earn
// rule, or with a client error: never a panic, never an internal error.
func FuzzEarn(f *testing.F) {
	e := newEnv(f)
	card := enrol(f, e.customer("fuzz", protocols[0]))
	till := e.till(tillKeyA, protocols[0])
	f.Add(card, int64(1250), "EUR", "k1", "R1", "sku", int32(1), int64(100))
	f.Add("9276 0000 0000 0008", int64(-1), "eur", "", "", "", int32(0), int64(-5))
	f.Add(card, int64(1<<62), "€UR", "key with spaces", "\x00", "\xff", int32(-1), int64(1<<63-1))
	f.Fuzz(func(t *testing.T, cardNumber string, amount int64, currency, key, receipt, sku string, qty int32, lineAmount int64) {
		// Protobuf strings are UTF-8 and clients refuse to send anything else;
		// FuzzEarnWire sends the invalid bytes.
		valid := func(s string) string { return strings.ToValidUTF8(s, "?") }
		cardNumber, currency, key, receipt, sku = valid(cardNumber), valid(currency), valid(key), valid(receipt), valid(sku)
		req := &treuev1.EarnRequest{CardNumber: cardNumber, AmountMinor: amount, Currency: currency, IdempotencyKey: key, ReceiptId: receipt}
		if sku != "" {
			req.LineItems = []*treuev1.LineItem{{Sku: sku, Quantity: qty, AmountMinor: lineAmount}}
		}
		res, err := till.Earn(context.Background(), connect.NewRequest(req))
		if err != nil {
			switch connect.CodeOf(err) {
			case connect.CodeInvalidArgument, connect.CodeNotFound, connect.CodeAlreadyExists:
				return
			}
			t.Fatalf("Earn(%v): %v", req, err)
		}
		if res.Msg.GetPointsEarned() != amount/100 {
			t.Fatalf("Earn(%v) earned %d points, want %d", req, res.Msg.GetPointsEarned(), amount/100)
		}
	})
}

// FuzzEarnWire posts arbitrary bytes as a binary Earn request: decoding must
// fail cleanly or yield a request that is handled like any other.
func FuzzEarnWire(f *testing.F) {
	e := newEnv(f)
	card := enrol(f, e.customer("fuzz", protocols[0]))
	valid, _ := proto.Marshal(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 999, Currency: "EUR", IdempotencyKey: "w"})
	f.Add(valid)
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	url := e.server.URL + treuev1connect.PosServiceEarnProcedure
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Authorization", "Bearer "+tillKeyA)
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict:
		default:
			t.Fatalf("status %d for body %x: %s", res.StatusCode, body, msg)
		}
	})
}
