// Package firebaseauthtest fakes Google's side of Firebase Auth for tests of
// code that verifies Firebase ID tokens with the Firebase Admin SDK: the
// public keys that sign ID tokens, the Identity Toolkit lookup behind the
// revocation check, tokens signed the way Firebase signs them and forged
// the ways attackers forge them (Cases), and the Firebase Auth emulator
// itself (StartEmulator).
//
// The fake serves the real URLs over TLS: InstallTransport replaces
// http.DefaultTransport, which the SDK's clients are cloned from, with one
// that sends www.googleapis.com and identitytoolkit.googleapis.com to the
// fake and trusts its certificate. Import this package from tests only.
package firebaseauthtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

// The hosts the fake stands in for, as the SDK dials them.
const (
	keysHost    = "www.googleapis.com"
	toolkitHost = "identitytoolkit.googleapis.com"
)

// KeysPath is the path of Google's public keys for Firebase ID tokens on
// www.googleapis.com: a JSON object from key id to PEM X.509 certificate.
const KeysPath = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"

// accessToken is what Google.Options authenticates with, and what the fake
// Identity Toolkit wants, as the real one wants an OAuth token.
const accessToken = "firebaseauthtest-access-token"

// keysMaxAge is how long the served keys may be cached, as Google says in
// Cache-Control (Google's own is some hours).
const keysMaxAge = 6 * time.Hour

// fake is the process's one fake Google: http.DefaultTransport is global,
// so every Google of a test binary shares its servers, told apart by
// project id.
var fake struct {
	once sync.Once
	err  error
	// emulatorAddr answers like the Firebase Auth emulator, over plain
	// HTTP.
	emulatorAddr string
	lastProject  atomic.Int64

	mu      sync.Mutex
	googles map[string]*Google // by project id
}

// InstallTransport starts the fake Google servers, once per process, and
// sets http.DefaultTransport to a clone of it that sends
// www.googleapis.com:443 and identitytoolkit.googleapis.com:443 to them
// and trusts their certificate besides the system's. Other hosts are
// reached as before. The SDK clones http.DefaultTransport when a client is
// made, so this must run before firebaseauth.New. NewGoogle calls it;
// call it from TestMain too when other tests of the binary use
// http.DefaultTransport in parallel, as setting it races with them.
func InstallTransport() error {
	fake.once.Do(func() { fake.err = install() })
	return fake.err
}

func install() error {
	fake.googles = make(map[string]*Google)
	cert, pool, err := serverCertificate()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+keysHost+KeysPath, serveKeys)
	mux.HandleFunc("POST "+toolkitHost+"/v1/projects/{project}/accounts:lookup", func(w http.ResponseWriter, r *http.Request) {
		lookup(w, r, true)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	target := srv.Listener.Addr().String()

	emu := http.NewServeMux()
	emu.HandleFunc("POST /identitytoolkit.googleapis.com/v1/projects/{project}/accounts:lookup", func(w http.ResponseWriter, r *http.Request) {
		lookup(w, r, false)
	})
	fake.emulatorAddr = httptest.NewServer(emu).Listener.Addr().String()

	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return fmt.Errorf("firebaseauthtest: http.DefaultTransport is a %T, not an *http.Transport", http.DefaultTransport)
	}
	tr := base.Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = pool
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == keysHost+":443" || addr == toolkitHost+":443" {
			addr = target
		}
		return dial(ctx, network, addr)
	}
	proxy := tr.Proxy
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		if h := r.URL.Hostname(); h == keysHost || h == toolkitHost || proxy == nil {
			return nil, nil
		}
		return proxy(r)
	}
	http.DefaultTransport = tr
	return nil
}

// serverCertificate makes a self-signed certificate for the fake's hosts
// and the system's root pool with it added.
func serverCertificate() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "firebaseauthtest fake Google"},
		DNSNames:              []string{keysHost, toolkitHost},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// Google is the fake Google of one Firebase project: it serves its signing
// key's certificate among Google's public keys and answers the Identity
// Toolkit's user lookup for its project. Every uid is a user, enabled and
// never revoked, until Revoke, Disable or Delete says otherwise.
type Google struct {
	// ProjectID is the project, unique in the process: verifiers for it
	// accept the Google's tokens.
	ProjectID string

	key      *rsa.PrivateKey // served
	kid      string
	certPEM  []byte
	attacker *rsa.PrivateKey // never served

	mu    sync.Mutex
	users map[string]*user
}

// user is what the fake knows about a uid beyond "exists".
type user struct {
	validSince int64 // unix seconds; 0: never revoked
	disabled   bool
	deleted    bool
}

// NewGoogle installs the fake (InstallTransport) and returns a Google for a
// new project, served until the test ends. It fails the test when
// FIREBASE_AUTH_EMULATOR_HOST is set: the SDK would bypass the fake.
func NewGoogle(t testing.TB) *Google {
	t.Helper()
	if h, ok := os.LookupEnv("FIREBASE_AUTH_EMULATOR_HOST"); ok && h != "" {
		t.Fatalf("FIREBASE_AUTH_EMULATOR_HOST=%s is set: the Firebase Admin SDK would skip signature checks and ask the emulator; unset it", h)
	}
	if err := InstallTransport(); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	kid := make([]byte, 20)
	rand.Read(kid)
	g := &Google{
		ProjectID: "demo-treue-" + strconv.FormatInt(fake.lastProject.Add(1), 10),
		key:       key,
		kid:       hex.EncodeToString(kid),
		attacker:  attacker,
		users:     make(map[string]*user),
	}
	g.certPEM, err = keyCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	fake.googles[g.ProjectID] = g
	fake.mu.Unlock()
	t.Cleanup(func() {
		fake.mu.Lock()
		delete(fake.googles, g.ProjectID)
		fake.mu.Unlock()
	})
	return g
}

// keyCertificate wraps a signing key's public half in a self-signed
// certificate, as Google publishes its keys.
func keyCertificate(key *rsa.PrivateKey) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "securetoken.system.gserviceaccount.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(14 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// Options are the Admin SDK options for talking to the fake: an access
// token, as the real Identity Toolkit wants one for the revocation check.
func (g *Google) Options() []option.ClientOption {
	return []option.ClientOption{option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken}))}
}

// FakeEmulatorHost returns the host:port of a plain-HTTP server that
// answers the revocation check as the Firebase Auth emulator does, from
// the same users as the fake Identity Toolkit: set FIREBASE_AUTH_EMULATOR_HOST
// to it to see what the SDK accepts in emulator mode.
func (g *Google) FakeEmulatorHost() string {
	return fake.emulatorAddr
}

// Revoke revokes uid's tokens issued before the current second, as the
// Admin SDK's RevokeRefreshTokens does by setting validSince.
func (g *Google) Revoke(uid string) {
	g.update(uid, func(u *user) { u.validSince = time.Now().Unix() })
}

// Disable disables uid.
func (g *Google) Disable(uid string) {
	g.update(uid, func(u *user) { u.disabled = true })
}

// Delete deletes uid: the lookup no longer finds it.
func (g *Google) Delete(uid string) {
	g.update(uid, func(u *user) { u.deleted = true })
}

func (g *Google) update(uid string, f func(*user)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users[uid]
	if u == nil {
		u = &user{}
		g.users[uid] = u
	}
	f(u)
}

// serveKeys serves every Google's key as www.googleapis.com serves
// Firebase's: {kid: PEM certificate}, cacheable for max-age seconds.
func serveKeys(w http.ResponseWriter, _ *http.Request) {
	keys := make(map[string]string)
	fake.mu.Lock()
	for _, g := range fake.googles {
		keys[g.kid] = string(g.certPEM)
	}
	fake.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, must-revalidate, no-transform", int(keysMaxAge.Seconds())))
	json.NewEncoder(w).Encode(keys)
}

// lookup answers POST /v1/projects/{project}/accounts:lookup with
// {"localId": [uid]} as the Identity Toolkit does.
func lookup(w http.ResponseWriter, r *http.Request, requireAuth bool) {
	if requireAuth && r.Header.Get("Authorization") != "Bearer "+accessToken {
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request is missing required authentication credential.")
		return
	}
	fake.mu.Lock()
	g := fake.googles[r.PathValue("project")]
	fake.mu.Unlock()
	if g == nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "CONFIGURATION_NOT_FOUND")
		return
	}
	var req struct {
		LocalID []string `json:"localId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_JSON: "+err.Error())
		return
	}
	type account struct {
		LocalID     string `json:"localId"`
		Email       string `json:"email"`
		Disabled    bool   `json:"disabled,omitempty"`
		ValidSince  string `json:"validSince,omitempty"`
		CreatedAt   string `json:"createdAt"`
		LastLoginAt string `json:"lastLoginAt"`
	}
	resp := struct {
		Kind  string    `json:"kind"`
		Users []account `json:"users,omitempty"`
	}{Kind: "identitytoolkit#GetAccountInfoResponse"}
	created := strconv.FormatInt(time.Now().Add(-24*time.Hour).UnixMilli(), 10)
	g.mu.Lock()
	for _, uid := range req.LocalID {
		u := g.users[uid]
		if u == nil {
			u = &user{}
		}
		if u.deleted {
			continue
		}
		a := account{LocalID: uid, Email: strings.ToLower(uid) + "@example.com", Disabled: u.disabled, CreatedAt: created, LastLoginAt: created}
		if u.validSince != 0 {
			a.ValidSince = strconv.FormatInt(u.validSince, 10)
		}
		resp.Users = append(resp.Users, a)
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(resp)
}

// googleError writes an error as Google APIs do.
func googleError(w http.ResponseWriter, code int, status, message string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
}
