package applepass_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/wallet/applepass"
)

// fakeAPNs is an APNs provider API server for tests: HTTP/2 over TLS,
// checking each push as APNs would and as Wallet wants it, recording it and
// answering as told.
type fakeAPNs struct {
	t      *testing.T
	server *httptest.Server
	topic  string

	// Token authentication: the team's key and where its .p8 file is.
	keyID, teamID string
	key           *ecdsa.PrivateKey
	keyFile       string
	// Certificate authentication: the client certificate, when set.
	cert *tls.Certificate
	// expectBadAuth makes refused credentials an expected 403 rather than
	// a test failure.
	expectBadAuth bool

	mu      sync.Mutex
	pushes  []apnsPush
	gone    map[string]time.Time // token → Unregistered as of
	bad     map[string]string    // token → reason of a 400
	fail    map[string][]int     // token → statuses answered before a 200
	hold    chan struct{}        // when set, pushes wait until it closes
	entered int                  // requests that reached the handler
}

// apnsPush is a push the fake server received.
type apnsPush struct {
	Token      string
	Topic      string
	PushType   string
	Priority   string
	Expiration time.Time
	Status     int
}

// newFakeAPNs starts a fake APNs server for pushes to topic that accepts
// token authentication with a key it writes to a .p8 file.
func newFakeAPNs(t *testing.T, topic string) *fakeAPNs {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAPNs{
		t: t, topic: topic, keyID: "KEY1234567", teamID: "TEAM123456", key: key, keyFile: writeP8(t, key),
		gone: make(map[string]time.Time), bad: make(map[string]string), fail: make(map[string][]int),
	}
	f.start(nil)
	return f
}

// newCertFakeAPNs starts a fake APNs server for pushes to topic that
// requires the client certificate it returns (certificate authentication).
func newCertFakeAPNs(t *testing.T, topic string) (*fakeAPNs, tls.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Pass Type ID: " + topic, OrganizationalUnit: []string{"TEAM123456"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	f := &fakeAPNs{
		t: t, topic: topic, cert: &cert,
		gone: make(map[string]time.Time), bad: make(map[string]string), fail: make(map[string][]int),
	}
	f.start(&tls.Config{ClientAuth: tls.RequireAnyClientCert})
	return f, cert
}

func (f *fakeAPNs) start(tlsConf *tls.Config) {
	f.server = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.server.EnableHTTP2 = true
	f.server.TLS = tlsConf
	f.server.StartTLS()
	f.t.Cleanup(func() {
		f.mu.Lock()
		if f.hold != nil {
			close(f.hold)
			f.hold = nil
		}
		f.mu.Unlock()
		f.server.Close()
	})
}

// config returns the APNsConfig of a client of f: the production code path
// with f's URL, credentials and CA.
func (f *fakeAPNs) config() applepass.APNsConfig {
	roots := x509.NewCertPool()
	roots.AddCert(f.server.Certificate())
	cfg := applepass.APNsConfig{Host: f.server.URL, RootCAs: roots, Certificate: f.cert}
	if f.cert == nil {
		cfg.KeyFile, cfg.KeyID, cfg.TeamID = f.keyFile, f.keyID, f.teamID
	}
	return cfg
}

// notifier returns an APNs client of f made by NewAPNsClient.
func (f *fakeAPNs) notifier() applepass.Notifier {
	c, err := applepass.NewAPNsClient(f.config())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// unregister makes f answer pushes to token 410 Unregistered as of at.
func (f *fakeAPNs) unregister(token string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone[token] = at
}

// reject makes f answer pushes to token 400 with reason.
func (f *fakeAPNs) reject(token, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad[token] = reason
}

// failFirst makes f answer the next pushes to token with statuses, one
// each, before it accepts them again.
func (f *fakeAPNs) failFirst(token string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[token] = append(f.fail[token], statuses...)
}

// holdPushes makes pushes wait before they are answered until the
// returned function is called.
func (f *fakeAPNs) holdPushes() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hold := make(chan struct{})
	f.hold = hold
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.hold == hold {
			close(hold)
			f.hold = nil
		}
	}
}

// received returns the pushes f received so far.
func (f *fakeAPNs) received() []apnsPush {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apnsPush(nil), f.pushes...)
}

// waitPushes waits until f answered n pushes and returns them.
func (f *fakeAPNs) waitPushes(n int) []apnsPush {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("%d pushes answered by the fake APNs", n), func() bool { return len(f.received()) >= n })
	return f.received()
}

// waitEntered waits until n requests reached f's handler, answered or
// held.
func (f *fakeAPNs) waitEntered(n int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("%d pushes reaching the fake APNs", n), func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.entered >= n
	})
}

// serve handles POST /3/device/<token> as APNs does.
func (f *fakeAPNs) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.entered++
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	status, reason, err := f.check(r)
	if err != nil && !(f.expectBadAuth && status == http.StatusForbidden) {
		f.t.Errorf("fake APNs: %s %s: %v", r.Method, r.URL.Path, err)
	}
	token := strings.TrimPrefix(r.URL.Path, "/3/device/")
	p := apnsPush{
		Token: token, Topic: r.Header.Get("apns-topic"), PushType: r.Header.Get("apns-push-type"),
		Priority: r.Header.Get("apns-priority"), Status: status,
	}
	if s, err := strconv.ParseInt(r.Header.Get("apns-expiration"), 10, 64); err == nil {
		p.Expiration = time.Unix(s, 0)
	}
	var gone time.Time
	f.mu.Lock()
	switch {
	case err != nil:
	case f.bad[token] != "":
		p.Status, reason = http.StatusBadRequest, f.bad[token]
	case !f.gone[token].IsZero():
		p.Status, reason, gone = http.StatusGone, "Unregistered", f.gone[token]
	case len(f.fail[token]) > 0:
		p.Status = f.fail[token][0]
		f.fail[token] = f.fail[token][1:]
		reason = map[int]string{
			http.StatusTooManyRequests:     "TooManyRequests",
			http.StatusInternalServerError: "InternalServerError",
			http.StatusServiceUnavailable:  "ServiceUnavailable",
		}[p.Status]
	}
	f.pushes = append(f.pushes, p)
	f.mu.Unlock()
	answer(w, p.Status, reason, gone)
}

// check returns an error, with the status and reason APNs would answer,
// when r is not a pass update push APNs accepts.
func (f *fakeAPNs) check(r *http.Request) (status int, reason string, err error) {
	if r.ProtoMajor != 2 {
		return http.StatusBadRequest, "BadPath", fmt.Errorf("protocol %s, want HTTP/2", r.Proto)
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "MethodNotAllowed", errors.New("method is not POST")
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if b, err := hex.DecodeString(token); !ok || err != nil || len(b) != 32 {
		return http.StatusBadRequest, "BadPath", errors.New("path is not /3/device/<64 hex digits>")
	}
	if f.cert != nil {
		if r.Header.Get("authorization") != "" {
			return http.StatusBadRequest, "BadCertificate", errors.New("authorization header with certificate authentication")
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || !r.TLS.PeerCertificates[0].Equal(mustParse(f.cert.Certificate[0])) {
			return http.StatusForbidden, "BadCertificate", errors.New("no or another client certificate")
		}
	} else if err := f.checkJWT(r.Header.Get("authorization")); err != nil {
		return http.StatusForbidden, "InvalidProviderToken", err
	}
	h := r.Header
	if got := h.Get("apns-topic"); got != f.topic {
		return http.StatusBadRequest, "DeviceTokenNotForTopic", fmt.Errorf("apns-topic %q, want the pass type %q", got, f.topic)
	}
	if got := h.Get("apns-push-type"); got != "background" {
		return http.StatusBadRequest, "InvalidPushType", fmt.Errorf("apns-push-type %q, want background", got)
	}
	if got := h.Get("apns-priority"); got != "5" {
		return http.StatusBadRequest, "BadPriority", fmt.Errorf("apns-priority %q, want 5 (background pushes must not use 10)", got)
	}
	exp, err := strconv.ParseInt(h.Get("apns-expiration"), 10, 64)
	if now := time.Now().Unix(); err != nil || exp <= now || exp > now+7*24*3600 {
		return http.StatusBadRequest, "BadExpirationDate", fmt.Errorf("apns-expiration %q, want a time within a week", h.Get("apns-expiration"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4097))
	if err != nil || string(body) != "{}" {
		return http.StatusBadRequest, "PayloadEmpty", fmt.Errorf("body %q, want {}", body)
	}
	return http.StatusOK, "", nil
}

// checkJWT returns an error unless auth is "bearer <JWT>" signed ES256 with
// f's key, with f's key id and team id and a current issue time.
func (f *fakeAPNs) checkJWT(auth string) error {
	jwt, ok := strings.CutPrefix(auth, "bearer ")
	parts := strings.Split(jwt, ".")
	if !ok || len(parts) != 3 {
		return fmt.Errorf("authorization %.20q… is not a bearer JWT", auth)
	}
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss string
		Iat int64
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return err
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return err
	}
	if header.Alg != "ES256" || header.Kid != f.keyID || claims.Iss != f.teamID {
		return fmt.Errorf("JWT alg %q kid %q iss %q, want ES256, %q, %q", header.Alg, header.Kid, claims.Iss, f.keyID, f.teamID)
	}
	if d := time.Since(time.Unix(claims.Iat, 0)); d < -time.Minute || d > time.Hour {
		return fmt.Errorf("JWT issued %v ago", d)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("JWT signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	rr, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&f.key.PublicKey, digest[:], rr, s) {
		return errors.New("JWT signature does not verify with the team's key")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("JWT segment: %w", err)
	}
	return json.Unmarshal(b, v)
}

func mustParse(der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

// answer writes APNs's response: an apns-id, and for errors a JSON body
// with the reason and, for 410, the time in milliseconds the token became
// invalid.
func answer(w http.ResponseWriter, status int, reason string, gone time.Time) {
	w.Header().Set("apns-id", "00000000-0000-0000-0000-000000000001")
	if status == http.StatusOK {
		w.WriteHeader(status)
		return
	}
	body := map[string]any{"reason": reason}
	if !gone.IsZero() {
		body["timestamp"] = gone.UnixMilli()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
