package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// TestGoogleWalletInDevMode: with the embedded defaults the class is
// written (to the log) at start, a customer gets a development save link,
// and after a purchase their object's update with the new balance is
// logged; the logo and the callback endpoint are served.
func TestGoogleWalletInDevMode(t *testing.T) {
	base, out := startTreued(t, nil)
	ctx := context.Background()
	opts := devAuth("gina")
	enr, err := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, opts).Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	link, err := treuev1connect.NewWalletServiceClient(http.DefaultClient, base, opts).GetGoogleWalletLink(ctx, connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	earn, err := treuev1connect.NewPosServiceClient(http.DefaultClient, base, opts).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: enr.Msg.GetProfile().GetCard().GetCardNumber(), AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "bon-g1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"would insert class",
		fmt.Sprintf("would patch object\" object=%s balance=%d", link.Msg.GetObjectId(), earn.Msg.GetBalance()),
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for !strings.Contains(out.String(), w) {
			if time.Now().After(deadline) {
				t.Fatalf("log lacks %q:\n%s", w, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	res, err := http.Get(base + "/google-wallet/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("logo: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res, err = http.Post(base+"/google-wallet/callbacks", "application/json", strings.NewReader(`{"signedMessage":"{}"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsigned callback: %d, want 400", res.StatusCode)
	}
}
