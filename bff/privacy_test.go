package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/treue/treue/bff"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
)

func (e *env) privacy(uid string, p protocol) treuev1connect.PrivacyServiceClient {
	opts := append([]connect.ClientOption{headers("Authorization", "Bearer dev:"+uid)}, p.opts...)
	return treuev1connect.NewPrivacyServiceClient(e.client, e.server.URL, opts...)
}

func setConsent(t *testing.T, c customer, p treuev1.ConsentPurpose, granted bool) {
	t.Helper()
	_, err := c.account.SetConsent(context.Background(), connect.NewRequest(&treuev1.SetConsentRequest{
		Purpose: p, Granted: granted, TextVersion: "v1", Source: "app",
	}))
	mustOK(t, err)
}

// TestUpdateProfileOnlyWithConsent: a name, an e-mail address and a
// birthday are refused without their consents, kept with them, refused
// when malformed, and gone as soon as the consent is withdrawn.
func TestUpdateProfileOnlyWithConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := e.customer("pia-"+p.name, p)
			enrol(t, c)
			update := func(u *treuev1.UpdateProfileRequest) (*treuev1.Profile, error) {
				res, err := c.account.UpdateProfile(ctx, connect.NewRequest(u))
				if err != nil {
					return nil, err
				}
				return res.Msg.GetProfile(), nil
			}
			named := &treuev1.UpdateProfileRequest{Name: "Pia Müller", Email: "pia@example.org", UpdateMask: []string{"name", "email"}}
			_, err := update(named)
			checkCode(t, err, connect.CodeFailedPrecondition)
			_, err = update(&treuev1.UpdateProfileRequest{Birthday: &treuev1.Birthday{Month: 2, Day: 29}, UpdateMask: []string{"birthday"}})
			checkCode(t, err, connect.CodeFailedPrecondition)

			setConsent(t, c, treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE, true)
			setConsent(t, c, treuev1.ConsentPurpose_CONSENT_PURPOSE_BIRTHDAY, true)
			got, err := update(named)
			mustOK(t, err)
			if got.GetName() != "Pia Müller" || got.GetEmail() != "pia@example.org" || got.GetBirthday() != nil {
				t.Fatalf("profile after update: %v", got)
			}
			got, err = update(&treuev1.UpdateProfileRequest{Birthday: &treuev1.Birthday{Month: 2, Day: 29}, UpdateMask: []string{"birthday"}})
			mustOK(t, err)
			if got.GetBirthday().GetMonth() != 2 || got.GetBirthday().GetDay() != 29 || got.GetName() != "Pia Müller" {
				t.Fatalf("profile after the birthday: %v", got)
			}
			for name, bad := range map[string]*treuev1.UpdateProfileRequest{
				"no mask":       {Name: "x"},
				"unknown field": {Name: "x", UpdateMask: []string{"nickname"}},
				"bad email":     {Email: "pia at example", UpdateMask: []string{"email"}},
				"named email":   {Email: "Pia <pia@example.org>", UpdateMask: []string{"email"}},
				"long name":     {Name: strings.Repeat("a", 101), UpdateMask: []string{"name"}},
				"control name":  {Name: "Pia\x00", UpdateMask: []string{"name"}},
				"30 February":   {Birthday: &treuev1.Birthday{Month: 2, Day: 30}, UpdateMask: []string{"birthday"}},
				"month 13":      {Birthday: &treuev1.Birthday{Month: 13, Day: 1}, UpdateMask: []string{"birthday"}},
			} {
				if _, err := update(bad); connect.CodeOf(err) != connect.CodeInvalidArgument {
					t.Errorf("%s: %v, want invalid_argument", name, err)
				}
			}

			setConsent(t, c, treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE, false)
			res, err := c.account.GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
			mustOK(t, err)
			if p := res.Msg.GetProfile(); p.GetName() != "" || p.GetEmail() != "" || p.GetBirthday() == nil {
				t.Fatalf("after withdrawing the profile consent: %v; want no name or e-mail, the birthday kept", p)
			}
			setConsent(t, c, treuev1.ConsentPurpose_CONSENT_PURPOSE_BIRTHDAY, false)
			res, err = c.account.GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
			mustOK(t, err)
			if p := res.Msg.GetProfile(); p.GetBirthday() != nil {
				t.Fatalf("after withdrawing the birthday consent: %v", p)
			}
		})
	}
}

// TestExportMyData: the chunks make one JSON document of the size the
// first message announces, holding the member's card, ledger, consents
// and devices, and nothing of another member.
func TestExportMyData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := e.customer("xenia-"+p.name, p)
			card := enrol(t, c)
			other := enrol(t, e.customer("yves-"+p.name, p))
			_, err := e.till(tillKeyA, p).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{CardNumber: card, AmountMinor: 4200, Currency: "EUR", IdempotencyKey: "x-" + p.name}))
			mustOK(t, err)
			setConsent(t, c, treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH, true)
			token := "fcm-export-" + p.name
			_, err = c.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
				PushToken: token, Platform: treuev1.Platform_PLATFORM_IOS, Locale: treuev1.Locale_LOCALE_EN, AppVersion: "2.1",
			}}))
			mustOK(t, err)

			stream, err := e.privacy("xenia-"+p.name, p).ExportMyData(ctx, connect.NewRequest(&treuev1.ExportMyDataRequest{}))
			mustOK(t, err)
			var doc bytes.Buffer
			var first *treuev1.ExportMyDataResponse
			for stream.Receive() {
				if first == nil {
					first = stream.Msg()
				}
				doc.Write(stream.Msg().GetChunk())
			}
			mustOK(t, stream.Err())
			if first == nil || first.GetTotalBytes() != int64(doc.Len()) || first.GetContentType() != "application/json" ||
				!strings.HasPrefix(first.GetFileName(), "treue-export-") {
				t.Fatalf("first message %v for a %d-byte document", first, doc.Len())
			}
			var x struct {
				Format  string `json:"format"`
				Profile struct {
					CardNumber string `json:"card_number"`
				} `json:"profile"`
				Ledger   []struct{ Points int64 } `json:"ledger"`
				Consents struct {
					History []struct{ Purpose string } `json:"history"`
				} `json:"consents"`
				Devices []struct {
					Token string `json:"fcm_token"`
				} `json:"devices"`
			}
			if err := json.Unmarshal(doc.Bytes(), &x); err != nil {
				t.Fatalf("export is not JSON: %v", err)
			}
			if x.Format != "treue-export/1" || x.Profile.CardNumber != card || len(x.Ledger) == 0 ||
				len(x.Consents.History) != 1 || len(x.Devices) != 1 || x.Devices[0].Token != token {
				t.Fatalf("export %+v lacks the member's data", x)
			}
			if strings.Contains(doc.String(), other) {
				t.Fatalf("export holds another member's card number")
			}
		})
	}
	stream, err := e.privacy("nobody-enrolled", protocols[0]).ExportMyData(ctx, connect.NewRequest(&treuev1.ExportMyDataRequest{}))
	mustOK(t, err)
	for stream.Receive() {
		t.Fatal("export of a customer who is not enrolled sent a message")
	}
	checkCode(t, stream.Err(), connect.CodeFailedPrecondition)
}

// TestDeleteMyAccountNeedsRecentSignIn: a token from a sign-in 10 minutes
// ago cannot delete the account; a fresh one can, once.
func TestDeleteMyAccountNeedsRecentSignIn(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	var stale atomic.Bool
	e := newEnvWith(t, st, memory.New(), func(c *bff.Config) {
		now := c.Now
		c.Verifier = bff.DevTokens{Now: func() time.Time {
			if stale.Load() {
				return now().Add(-10 * time.Minute)
			}
			return now()
		}}
	})
	ctx := context.Background()
	card := enrol(t, e.customer("dora", protocols[0]))
	stale.Store(true)
	_, err = e.privacy("dora", protocols[0]).DeleteMyAccount(ctx, connect.NewRequest(&treuev1.DeleteMyAccountRequest{}))
	checkCode(t, err, connect.CodeUnauthenticated)
	stale.Store(false)
	res, err := e.privacy("dora", protocols[0]).DeleteMyAccount(ctx, connect.NewRequest(&treuev1.DeleteMyAccountRequest{}))
	mustOK(t, err)
	if res.Msg.GetErasure().GetMemberId() == "" || res.Msg.GetErasure().GetEraseTime() == nil {
		t.Fatalf("erasure %v", res.Msg.GetErasure())
	}
	_, err = e.privacy("dora", protocols[0]).DeleteMyAccount(ctx, connect.NewRequest(&treuev1.DeleteMyAccountRequest{}))
	checkCode(t, err, connect.CodeFailedPrecondition)
	_, err = e.till(tillKeyA, protocols[0]).LookupMember(ctx, connect.NewRequest(&treuev1.LookupMemberRequest{CardNumber: card}))
	checkCode(t, err, connect.CodeNotFound)
}

// TestEraseMemberByOperator: an operator erases a member of their program
// by card number, once; a malformed card or an over-long reason is
// refused.
func TestEraseMemberByOperator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	card := enrol(t, e.customer("otto", protocols[0]))
	admin := e.admin(operatorKeyA, protocols[0])
	_, err := admin.EraseMember(ctx, connect.NewRequest(&treuev1.EraseMemberRequest{CardNumber: "1234", Reason: "ticket 1"}))
	checkCode(t, err, connect.CodeInvalidArgument)
	_, err = admin.EraseMember(ctx, connect.NewRequest(&treuev1.EraseMemberRequest{CardNumber: card, Reason: strings.Repeat("r", 201)}))
	checkCode(t, err, connect.CodeInvalidArgument)
	_, err = e.admin(operatorKeyB, protocols[0]).EraseMember(ctx, connect.NewRequest(&treuev1.EraseMemberRequest{CardNumber: card, Reason: "ticket 1"}))
	checkCode(t, err, connect.CodeNotFound)
	res, err := admin.EraseMember(ctx, connect.NewRequest(&treuev1.EraseMemberRequest{CardNumber: card, Reason: "ticket 1"}))
	mustOK(t, err)
	if res.Msg.GetErasure().GetMemberId() == "" {
		t.Fatalf("erasure %v", res.Msg.GetErasure())
	}
	_, err = admin.EraseMember(ctx, connect.NewRequest(&treuev1.EraseMemberRequest{CardNumber: card, Reason: "ticket 1"}))
	checkCode(t, err, connect.CodeNotFound)
	_, err = e.customer("otto", protocols[0]).account.GetProfile(ctx, connect.NewRequest(&treuev1.GetProfileRequest{}))
	checkCode(t, err, connect.CodeFailedPrecondition)
}
