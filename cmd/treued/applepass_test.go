package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
	"github.com/treue/treue/redact"
)

// passJSON returns the pass.json of a .pkpass.
func passJSON(t *testing.T, pkpass []byte) map[string]any {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("pass.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p map[string]any
	if err := json.NewDecoder(f).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func passBalance(t *testing.T, p map[string]any) any {
	t.Helper()
	fields, _ := p["storeCard"].(map[string]any)["primaryFields"].([]any)
	for _, f := range fields {
		if f := f.(map[string]any); f["key"] == "balance" {
			return f["value"]
		}
	}
	t.Fatalf("no balance in %v", p)
	return nil
}

// TestApplePassInDevMode: with the embedded defaults a customer gets a
// development pass whose web service is this server, a device registers
// with it, and after a purchase the device is pushed (to the log) and
// fetches the pass with the new balance.
func TestApplePassInDevMode(t *testing.T) {
	base, out := startTreued(t, nil)
	ctx := context.Background()
	opts := devAuth("alice")
	wallet := treuev1connect.NewWalletServiceClient(http.DefaultClient, base, opts)
	if _, err := wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("GetApplePass before enrolling: %v, want failed_precondition", err)
	}
	enr, err := treuev1connect.NewAccountServiceClient(http.DefaultClient, base, opts).Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Msg.GetDevelopment() || res.Msg.GetContentType() != "application/vnd.apple.pkpass" || len(res.Msg.GetPkpass()) == 0 {
		t.Fatalf("GetApplePass: development %v, content type %q, %d bytes", res.Msg.GetDevelopment(), res.Msg.GetContentType(), len(res.Msg.GetPkpass()))
	}
	google, err := wallet.GetGoogleWalletLink(ctx, connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !google.Msg.GetDevelopment() || !strings.HasPrefix(google.Msg.GetSaveUrl(), "https://pay.google.com/gp/v/save/") || google.Msg.GetObjectId() == "" {
		t.Fatalf("GetGoogleWalletLink: %+v", google.Msg)
	}
	pass := passJSON(t, res.Msg.GetPkpass())
	if pass["webServiceURL"] != base+"/passkit" || pass["serialNumber"] != res.Msg.GetSerialNumber() {
		t.Fatalf("pass.json web service %v, serial %v", pass["webServiceURL"], pass["serialNumber"])
	}
	token, _ := pass["authenticationToken"].(string)

	link, err := wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{Delivery: treuev1.ApplePassDelivery_APPLE_PASS_DELIVERY_LINK}))
	if err != nil {
		t.Fatal(err)
	}
	if len(link.Msg.GetPkpass()) != 0 || !strings.HasPrefix(link.Msg.GetDownloadUrl(), base+"/passkit/download/") {
		t.Fatalf("link delivery: %d bytes, url %q", len(link.Msg.GetPkpass()), link.Msg.GetDownloadUrl())
	}
	dl, err := http.Get(link.Msg.GetDownloadUrl())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if dl.StatusCode != http.StatusOK || dl.Header.Get("Content-Type") != "application/vnd.apple.pkpass" {
		t.Fatalf("download: %d %q", dl.StatusCode, dl.Header.Get("Content-Type"))
	}
	passJSON(t, body)

	// A device registers, as Wallet does after adding the pass.
	regURL := base + "/passkit/v1/devices/device1/registrations/" + res.Msg.GetPassTypeIdentifier() + "/" + res.Msg.GetSerialNumber()
	req, _ := http.NewRequest("POST", regURL, strings.NewReader(`{"pushToken":"00aa11bb22cc33dd44ee55ff66778899"}`))
	req.Header.Set("Authorization", "ApplePass "+token)
	reg, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reg.Body.Close()
	if reg.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d", reg.StatusCode)
	}

	earn, err := treuev1connect.NewPosServiceClient(http.DefaultClient, base, opts).Earn(ctx, connect.NewRequest(&treuev1.EarnRequest{
		CardNumber: enr.Msg.GetProfile().GetCard().GetCardNumber(), AmountMinor: 1250, Currency: "EUR", IdempotencyKey: "bon-1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), redact.Token("00aa11bb22cc33dd44ee55ff66778899")) {
		if time.Now().After(deadline) {
			t.Fatalf("no push logged for the device:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ = http.NewRequest("GET", base+"/passkit/v1/passes/"+res.Msg.GetPassTypeIdentifier()+"/"+res.Msg.GetSerialNumber(), nil)
	req.Header.Set("Authorization", "ApplePass "+token)
	latest, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(latest.Body)
	latest.Body.Close()
	if latest.StatusCode != http.StatusOK {
		t.Fatalf("latest pass: %d", latest.StatusCode)
	}
	if b := passBalance(t, passJSON(t, body)); b != float64(earn.Msg.GetBalance()) {
		t.Fatalf("pass balance %v after the earn, want %d", b, earn.Msg.GetBalance())
	}
}
