package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/redact"
)

// TestLogsCarryNoPersonalData runs the real wiring at log level debug
// through what writes personal data and secrets: enrolment, purchases,
// a device with a push token and its push, consents, an Apple pass with a
// registered device and a device log, a Google Wallet link, operator
// calls, and refused keys and tokens. The log must hold none of the
// values, only their redact forms.
func TestLogsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	const (
		uid         = "ls-uid-Q7xK2pZ9wM"
		fcmToken    = "ls-fcm:APA91bQ7xK2pZ9wMtoken"
		apnsToken   = "f00dface0123456789abcdeff00dface"
		deviceID    = "c0ffee00d15c0de5a11ce5b0b0000001"
		tillKey     = "ls-till-key-Q7xK2pZ9"
		operatorKey = "ls-operator-key-Q7xK2pZ9"
		badTillKey  = "ls-bad-till-key-Q7xK2pZ9"
		badOperator = "ls-bad-operator-key-Q7xK2pZ9"
		badCustomer = "ls-bad-customer-token-Q7xK2pZ9"
	)
	base, out := startTreued(t, map[string]string{
		"TREUE_LOG_LEVEL":        "debug",
		"TREUE_PUSH_QUIET_HOURS": "0-0", // pushes go out at any time of day
		"TREUE_DEV_STORE_KEY":    tillKey,
		"TREUE_DEV_OPERATOR_KEY": operatorKey,
	})
	ctx := context.Background()
	bearer := func(token string) connect.ClientOption {
		return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
				req.Header().Set("Authorization", "Bearer "+token)
				return next(ctx, req)
			}
		}))
	}
	hc := http.DefaultClient
	customer := bearer("dev:" + uid)
	acct := treuev1connect.NewAccountServiceClient(hc, base, customer)
	enr, err := acct.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	card := enr.Msg.GetProfile().GetCard().GetCardNumber()
	if len(card) != 16 {
		t.Fatalf("card number %q", card)
	}
	if _, err := acct.SetConsent(ctx, connect.NewRequest(&treuev1.SetConsentRequest{
		Purpose: treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH, Granted: true, TextVersion: "push-2026-11",
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := acct.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
		PushToken: fcmToken, Platform: treuev1.Platform_PLATFORM_ANDROID, Locale: treuev1.Locale_LOCALE_DE,
	}})); err != nil {
		t.Fatal(err)
	}

	// The Apple pass (on in dev mode by default), a device registering
	// for its pushes, and a device log quoting the device's URL.
	wallet := treuev1connect.NewWalletServiceClient(hc, base, customer)
	pass, err := wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	authToken, _ := passJSON(t, pass.Msg.GetPkpass())["authenticationToken"].(string)
	regPath := "/passkit/v1/devices/" + deviceID + "/registrations/" + pass.Msg.GetPassTypeIdentifier() + "/" + pass.Msg.GetSerialNumber()
	req, _ := http.NewRequest("POST", base+regPath, strings.NewReader(`{"pushToken":"`+apnsToken+`"}`))
	req.Header.Set("Authorization", "ApplePass "+authToken)
	if res, err := hc.Do(req); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusCreated {
		t.Fatalf("register the device: %d", res.StatusCode)
	}
	deviceLog := `{"logs":["Web service error for ` + pass.Msg.GetPassTypeIdentifier() + ` (` + base + regPath + `): push token ` + apnsToken + ` refused"]}`
	if res, err := http.Post(base+"/passkit/v1/log", "application/json", strings.NewReader(deviceLog)); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusOK {
		t.Fatalf("device log: %d", res.StatusCode)
	}
	if _, err := wallet.GetGoogleWalletLink(ctx, connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{})); err != nil {
		t.Fatal(err)
	}

	// Purchases, by the card number as stored and as read out.
	pos := treuev1connect.NewPosServiceClient(hc, base, bearer(tillKey))
	for i, n := range []string{card, loyalty.GroupCardNumber(card)} {
		if _, err := pos.Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
			CardNumber: n, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "ls-bon-" + string(rune('1'+i)),
		})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := treuev1connect.NewAdminServiceClient(hc, base, bearer(operatorKey)).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{})); err != nil {
		t.Fatal(err)
	}

	// Refusals.
	refused := []struct {
		what string
		call func() error
	}{
		{"a wrong till key", func() error {
			_, err := treuev1connect.NewPosServiceClient(hc, base, bearer(badTillKey)).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
				CardNumber: card, AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "ls-bon-bad",
			}))
			return err
		}},
		{"a wrong operator key", func() error {
			_, err := treuev1connect.NewAdminServiceClient(hc, base, bearer(badOperator)).GetRules(ctx, connect.NewRequest(&treuev1.GetRulesRequest{}))
			return err
		}},
		{"a customer token that is no dev token", func() error {
			_, err := treuev1connect.NewCardServiceClient(hc, base, bearer(badCustomer)).GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			return err
		}},
		{"a malformed dev token with the uid", func() error {
			_, err := treuev1connect.NewCardServiceClient(hc, base, bearer("dev:"+uid+" x")).GetCard(ctx, connect.NewRequest(&treuev1.GetCardRequest{}))
			return err
		}},
	}
	for _, r := range refused {
		if err := r.call(); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%s: %v, want unauthenticated", r.what, err)
		}
	}

	// What the log must show, in redacted form: the pushes (FCM through
	// the recorder, APNs through the log notifier), the device log and the
	// refusals. Pushes are sent asynchronously.
	want := []string{
		`msg="notify: push recorded" token=` + redact.Token(fcmToken),
		`msg="applepass: APNs push logged, not sent (no APNs credentials configured)" token=` + redact.Token(apnsToken),
		"devices/" + redact.Token(deviceID) + "/registrations/",
		"push token " + redact.Token(apnsToken) + " refused",
		`msg="store API key refused" procedure=/treue.v1.PosService/Earn key=key:[redacted]`,
		`msg="operator API key refused" procedure=/treue.v1.AdminService/GetRules key=key:[redacted]`,
		`msg="customer token refused"`,
	}
	missing := func() []string {
		logs := logLines(out.String())
		var m []string
		for _, w := range want {
			if !strings.Contains(logs, w) {
				m = append(m, w)
			}
		}
		return m
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range missing() {
		t.Errorf("the log lacks %s", w)
	}

	all, logs := out.String(), logLines(out.String())
	secrets := []struct{ what, v string }{
		{"the uid", uid},
		{"the card number", card},
		{"the card number in groups", loyalty.GroupCardNumber(card)},
		{"the FCM token", fcmToken},
		{"the APNs push token", apnsToken},
		{"the device library identifier", deviceID},
		{"the Apple pass's authentication token", authToken},
		{"the till key", tillKey},
		{"the operator key", operatorKey},
		{"the wrong till key", badTillKey},
		{"the wrong operator key", badOperator},
		{"the refused customer token", badCustomer},
	}
	for _, s := range secrets {
		if s.v == "" {
			t.Fatalf("%s is empty", s.what)
		}
		text := all
		if s.v == tillKey {
			// The dev mode banner, not a log line, shows the dev till key
			// in its curl example, on purpose.
			text = logs
		}
		if strings.Contains(text, s.v) {
			t.Errorf("the output holds %s %q:\n%s", s.what, s.v, lineWith(text, s.v))
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", all)
	}
}

// logLines returns the lines of out that are log records of the text
// handler, leaving out the dev mode banner.
func logLines(out string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(l, "time=") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// lineWith returns the first line of text holding s.
func lineWith(text, s string) string {
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
