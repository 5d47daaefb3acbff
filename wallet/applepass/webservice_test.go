package applepass_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/store/storetest"
	"github.com/treue/treue/wallet/applepass"
)

const program = "cafe"

// webEnv is the web service over real HTTP on a real SQLite store, with a
// simulated clock shared by the ledger and the passes.
type webEnv struct {
	t      *testing.T
	svc    *loyalty.Service
	passes *applepass.Service
	store  *sqlite.Store
	clock  *storetest.Clock
	till   loyalty.Till
	srv    *httptest.Server
	root   string // dev root certificate file
	hook   func([]loyalty.CardChange)
}

func newWebEnv(t *testing.T) *webEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "treue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &webEnv{t: t, store: st, clock: storetest.NewClock(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))}
	e.svc = loyalty.NewService(st, loyalty.WithClock(e.clock.Now), loyalty.WithChangeHook(func(c []loyalty.CardChange) {
		if e.hook != nil {
			e.hook(c)
		}
	}))
	if err := e.svc.ApplySeed(ctx, storetest.DemoSeed(program)); err != nil {
		t.Fatal(err)
	}
	if e.till, err = e.svc.AuthenticateTill(ctx, storetest.TillKey(program)); err != nil {
		t.Fatal(err)
	}
	certs := t.TempDir()
	id, _, _, err := applepass.LoadOrCreateDevIdentity(certs, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.root = filepath.Join(certs, "dev-root.pem")
	images, err := fs.Sub(assets.ApplePassImages, "applepass")
	if err != nil {
		t.Fatal(err)
	}
	files, err := applepass.Images(images)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.passes, err = applepass.NewService(applepass.Config{
		Store: st, Cards: e.svc, Identity: id, Images: files,
		WebServiceURL: e.srv.URL + "/passkit", Development: true, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(e.passes.WebServicePath()+"/", e.passes.WebService())
	return e
}

// member enrols uid and returns them with their pass.
func (e *webEnv) member(uid string) (loyalty.Customer, string, applepass.Issued) {
	e.t.Helper()
	c := loyalty.Customer{ProgramID: program, UID: uid}
	card, _, err := e.svc.Enroll(context.Background(), c, loyalty.LocaleDE)
	if err != nil {
		e.t.Fatal(err)
	}
	issued, err := e.passes.ForCustomer(context.Background(), c)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, card.Member.CardNumber, issued
}

func (e *webEnv) earn(card string, minor int64) loyalty.EarnResult {
	e.t.Helper()
	res, err := e.svc.Earn(context.Background(), e.till, loyalty.EarnRequest{
		CardNumber: card, AmountMinor: minor, Currency: "EUR", IdempotencyKey: fmt.Sprintf("k-%d", time.Now().UnixNano()),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// call makes a request to the web service; auth is the pass token or "".
func (e *webEnv) call(method, path, auth string, body string, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/passkit"+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "ApplePass "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

func wantStatus(t *testing.T, res *http.Response, want int) []byte {
	t.Helper()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %q", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, b)
	}
	return b
}

func regPath(device string, rec applepass.Record) string {
	return "/v1/devices/" + device + "/registrations/" + rec.PassTypeID + "/" + rec.Serial
}

const pushToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// passBalance returns the balance in a .pkpass's pass.json.
func passBalance(t *testing.T, pkpass []byte) float64 {
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
	var pass struct {
		StoreCard struct {
			PrimaryFields []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"primaryFields"`
		} `json:"storeCard"`
	}
	if err := json.NewDecoder(f).Decode(&pass); err != nil {
		t.Fatal(err)
	}
	for _, f := range pass.StoreCard.PrimaryFields {
		if f.Key == "balance" {
			if v, ok := f.Value.(float64); ok {
				return v
			}
			t.Fatalf("balance value %#v is not a number", f.Value)
		}
	}
	t.Fatalf("pass.json has no balance field: %+v", pass)
	return 0
}

func TestRegistration(t *testing.T) {
	e := newWebEnv(t)
	_, _, alice := e.member("alice")
	_, _, bob := e.member("bob")
	body := `{"pushToken":"` + pushToken + `"}`

	for _, tc := range []struct {
		name, path, auth, body string
		want                   int
	}{
		{"no credentials", regPath("dev1", alice.Record), "", body, http.StatusUnauthorized},
		{"wrong token", regPath("dev1", alice.Record), strings.Repeat("ab", 32), body, http.StatusUnauthorized},
		{"another pass's token", regPath("dev1", alice.Record), bob.Record.AuthToken, body, http.StatusUnauthorized},
		{"unknown serial", regPath("dev1", applepass.Record{PassTypeID: alice.Record.PassTypeID, Serial: "nope"}), alice.Record.AuthToken, body, http.StatusUnauthorized},
		{"foreign pass type", regPath("dev1", applepass.Record{PassTypeID: "pass.com.other", Serial: alice.Record.Serial}), alice.Record.AuthToken, body, http.StatusNotFound},
		{"malformed device", regPath("dev%20x", alice.Record), alice.Record.AuthToken, body, http.StatusBadRequest},
		{"malformed body", regPath("dev1", alice.Record), alice.Record.AuthToken, `{"pushToken":`, http.StatusBadRequest},
		{"malformed push token", regPath("dev1", alice.Record), alice.Record.AuthToken, `{"pushToken":"xyz"}`, http.StatusBadRequest},
		{"oversized body", regPath("dev1", alice.Record), alice.Record.AuthToken, `{"pushToken":"` + strings.Repeat("a", 5000) + `"}`, http.StatusBadRequest},
		{"new", regPath("dev1", alice.Record), alice.Record.AuthToken, body, http.StatusCreated},
		{"again", regPath("dev1", alice.Record), alice.Record.AuthToken, body, http.StatusOK},
		{"second device", regPath("dev2", alice.Record), alice.Record.AuthToken, body, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.call("POST", tc.path, tc.auth, tc.body), tc.want)
		})
	}
	regs, err := e.store.Registrations(context.Background(), alice.Record.PassTypeID, alice.Record.Serial)
	if err != nil || len(regs) != 2 {
		t.Fatalf("registrations of alice's pass: %+v, %v; want dev1 and dev2", regs, err)
	}
	if regs, _ := e.store.Registrations(context.Background(), bob.Record.PassTypeID, bob.Record.Serial); len(regs) != 0 {
		t.Fatalf("bob's pass has registrations %+v", regs)
	}

	// Unregistering needs the pass's token too.
	wantStatus(t, e.call("DELETE", regPath("dev2", alice.Record), bob.Record.AuthToken, ""), http.StatusUnauthorized)
	wantStatus(t, e.call("DELETE", regPath("dev2", alice.Record), alice.Record.AuthToken, ""), http.StatusOK)
	wantStatus(t, e.call("DELETE", regPath("dev2", alice.Record), alice.Record.AuthToken, ""), http.StatusOK)
	if regs, _ := e.store.Registrations(context.Background(), alice.Record.PassTypeID, alice.Record.Serial); len(regs) != 1 || regs[0].DeviceID != "dev1" {
		t.Fatalf("after unregistering dev2: %+v", regs)
	}
}

func TestRegistrationRateLimit(t *testing.T) {
	e := newWebEnv(t)
	_, _, alice := e.member("alice")
	body := `{"pushToken":"` + pushToken + `"}`
	for i := range 10 {
		res := e.call("POST", regPath("dev1", alice.Record), alice.Record.AuthToken, body)
		if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
			t.Fatalf("call %d: status %d", i, res.StatusCode)
		}
	}
	res := e.call("POST", regPath("dev1", alice.Record), alice.Record.AuthToken, body)
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The bucket refills with time.
	e.clock.Advance(time.Minute)
	wantStatus(t, e.call("POST", regPath("dev1", alice.Record), alice.Record.AuthToken, body), http.StatusOK)
}

func TestUpdatedSerials(t *testing.T) {
	e := newWebEnv(t)
	_, aliceCard, alice := e.member("alice")
	_, _, bob := e.member("bob")
	list := func(device, since string) *http.Response {
		q := ""
		if since != "" {
			q = "?passesUpdatedSince=" + since
		}
		return e.call("GET", "/v1/devices/"+device+"/registrations/"+alice.Record.PassTypeID+q, "", "")
	}
	wantStatus(t, list("dev1", ""), http.StatusNoContent)
	body := `{"pushToken":"` + pushToken + `"}`
	wantStatus(t, e.call("POST", regPath("dev1", alice.Record), alice.Record.AuthToken, body), http.StatusCreated)
	wantStatus(t, e.call("POST", regPath("dev1", bob.Record), bob.Record.AuthToken, body), http.StatusCreated)

	var got struct {
		SerialNumbers []string `json:"serialNumbers"`
		LastUpdated   string   `json:"lastUpdated"`
	}
	if err := json.Unmarshal(wantStatus(t, list("dev1", ""), http.StatusOK), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.SerialNumbers) != 2 || got.LastUpdated == "" {
		t.Fatalf("all serials of dev1: %+v", got)
	}
	e.clock.Advance(time.Minute)
	tag := got.LastUpdated
	if err := json.Unmarshal(wantStatus(t, list("dev1", tag), http.StatusOK), &got); err != nil {
		t.Fatal(err)
	}
	// The tag stays a margin behind a change just made; a minute later
	// nothing is newer than the tag a device gets.
	if err := json.Unmarshal(wantStatus(t, list("dev1", ""), http.StatusOK), &got); err != nil {
		t.Fatal(err)
	}
	tag = got.LastUpdated
	wantStatus(t, list("dev1", tag), http.StatusNoContent)

	e.clock.Advance(time.Minute)
	e.earn(aliceCard, 1250)
	e.clock.Advance(time.Minute)
	if err := json.Unmarshal(wantStatus(t, list("dev1", tag), http.StatusOK), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.SerialNumbers) != 1 || got.SerialNumbers[0] != alice.Record.Serial {
		t.Fatalf("updated since the earn: %+v; want alice's serial only", got)
	}
	wantStatus(t, list("dev1", got.LastUpdated), http.StatusNoContent)
	wantStatus(t, list("dev2", ""), http.StatusNoContent)
	wantStatus(t, list("dev1", "yesterday"), http.StatusBadRequest)
	wantStatus(t, e.call("GET", "/v1/devices/dev1/registrations/pass.com.other", "", ""), http.StatusNotFound)
}

func TestLatestPass(t *testing.T) {
	e := newWebEnv(t)
	_, aliceCard, alice := e.member("alice")
	_, _, bob := e.member("bob")
	path := "/v1/passes/" + alice.Record.PassTypeID + "/" + alice.Record.Serial
	wantStatus(t, e.call("GET", path, "", ""), http.StatusUnauthorized)
	wantStatus(t, e.call("GET", path, bob.Record.AuthToken, ""), http.StatusUnauthorized)
	wantStatus(t, e.call("GET", "/v1/passes/pass.com.other/"+alice.Record.Serial, alice.Record.AuthToken, ""), http.StatusNotFound)

	e.clock.Advance(time.Minute)
	res := e.call("GET", path, alice.Record.AuthToken, "")
	pkpass := wantStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.apple.pkpass" {
		t.Fatalf("Content-Type %q", ct)
	}
	if b := passBalance(t, pkpass); b != 0 {
		t.Fatalf("balance %v, want 0", b)
	}
	lm := res.Header.Get("Last-Modified")
	if _, err := http.ParseTime(lm); err != nil {
		t.Fatalf("Last-Modified %q: %v", lm, err)
	}
	wantStatus(t, e.call("GET", path, alice.Record.AuthToken, "", "If-Modified-Since", lm), http.StatusNotModified)

	earned := e.earn(aliceCard, 1250)
	// Fetched in the same second as the change: the next fetch must not
	// be told "not modified" by a change later in that second.
	res = e.call("GET", path, alice.Record.AuthToken, "", "If-Modified-Since", lm)
	if b := passBalance(t, wantStatus(t, res, http.StatusOK)); b != float64(earned.Balance) {
		t.Fatalf("balance %v after the earn, want %d", b, earned.Balance)
	}
	lm = res.Header.Get("Last-Modified")
	e.clock.Advance(300 * time.Millisecond)
	earned = e.earn(aliceCard, 500)
	res = e.call("GET", path, alice.Record.AuthToken, "", "If-Modified-Since", lm)
	if b := passBalance(t, wantStatus(t, res, http.StatusOK)); b != float64(earned.Balance) {
		t.Fatalf("balance %v after a second earn in the same second, want %d", b, earned.Balance)
	}
	e.clock.Advance(time.Minute)
	res = e.call("GET", path, alice.Record.AuthToken, "", "If-Modified-Since", res.Header.Get("Last-Modified"))
	wantStatus(t, res, http.StatusOK) // served within the margin: once more
	wantStatus(t, e.call("GET", path, alice.Record.AuthToken, "", "If-Modified-Since", res.Header.Get("Last-Modified")), http.StatusNotModified)
}

func TestDownloadLink(t *testing.T) {
	e := newWebEnv(t)
	_, _, alice := e.member("alice")
	link, expires := e.passes.DownloadURL(alice.Record)
	if !strings.HasPrefix(link, e.srv.URL+"/passkit/download/") || expires.Sub(e.clock.Now()) > applepass.DownloadLinkTTL {
		t.Fatalf("link %q expiring %v", link, expires)
	}
	get := func(u string) *http.Response {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := get(link)
	pkpass := wantStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.apple.pkpass" {
		t.Fatalf("Content-Type %q", ct)
	}
	passBalance(t, pkpass)
	tampered := strings.Replace(link, "signature=", "signature=0", 1)
	wantStatus(t, get(tampered), http.StatusForbidden)
	e.clock.Advance(applepass.DownloadLinkTTL + time.Second)
	wantStatus(t, get(link), http.StatusForbidden)
}

func TestDeviceLog(t *testing.T) {
	e := newWebEnv(t)
	wantStatus(t, e.call("POST", "/v1/log", "", `{"logs":["Could not fetch pass"]}`), http.StatusOK)
	wantStatus(t, e.call("POST", "/v1/log", "", `not json`), http.StatusBadRequest)
	wantStatus(t, e.call("POST", "/v1/log", "", `{"logs":["`+strings.Repeat("x", 70<<10)+`"]}`), http.StatusBadRequest)
}

// memberCard returns the card number of uid, who is enrolled.
func (e *webEnv) memberCard(uid string) string {
	e.t.Helper()
	card, err := e.svc.Card(context.Background(), loyalty.Customer{ProgramID: program, UID: uid})
	if err != nil {
		e.t.Fatal(err)
	}
	return card.Member.CardNumber
}
