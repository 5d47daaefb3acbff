package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// TestPurchasePushedToDevice runs the real wiring: a member registers a
// device, the till posts a purchase, and the push "+12 Sterne" goes out
// once through the in-process recorder, with a deep link to the entry.
func TestPurchasePushedToDevice(t *testing.T) {
	t.Parallel()
	// No quiet hours: the test must not depend on the time of day.
	base, out := startTreued(t, map[string]string{"TREUE_PUSH_QUIET_HOURS": "0-0"})
	ctx := context.Background()
	opts := []connect.ClientOption{devAuth("anna")}
	acct := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, opts...)
	enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = acct.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
		PushToken: "fcm-token-of-annas-phone", Platform: treuev1.Platform_PLATFORM_ANDROID, Locale: treuev1.Locale_LOCALE_DE,
	}}))
	if err != nil {
		t.Fatal(err)
	}
	pos := treuev1connect.NewPosServiceClient(http.DefaultClient, base, opts...)
	if _, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: enr.Msg.GetProfile().GetCard().GetCardNumber(), AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "bon-1",
	})); err != nil {
		t.Fatal(err)
	}
	pushed := func() []string {
		var lines []string
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.Contains(l, "notify: push recorded") && strings.Contains(l, "+12 Sterne") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pushed()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// A second delivery or dispatch round would show within this time.
	time.Sleep(500 * time.Millisecond)
	lines := pushed()
	if len(lines) != 1 {
		t.Fatalf("%d pushes of +12 Sterne, want 1:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[0], "treue://activity/") || strings.Contains(lines[0], "fcm-token-of-annas-phone") {
		t.Errorf("push %s: want a deep link to the entry and no whole token", lines[0])
	}
}
