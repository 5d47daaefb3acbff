package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/proto/treue/v1/treuev1connect"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and its key into dir, as PEM files, and returns their paths and a pool
// that trusts the certificate.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "treued test " + name},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// startTreuedTLS starts treued with a fresh self-signed certificate and
// returns its https URL and a pool that trusts it.
func startTreuedTLS(t *testing.T, env map[string]string) (string, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, roots := selfSigned(t, t.TempDir(), "server")
	full := map[string]string{"TREUE_TLS_CERT_FILE": certFile, "TREUE_TLS_KEY_FILE": keyFile}
	for k, v := range env {
		full[k] = v
	}
	base, out := startTreued(t, full)
	if !strings.Contains(out.String(), "tls=true") || !strings.Contains(out.String(), "serving HTTPS") {
		t.Fatalf("start-up log does not say TLS:\n%s", out)
	}
	return strings.Replace(base, "http://", "https://", 1), roots
}

// tlsClient trusts roots and speaks the given protocols.
func tlsClient(roots *x509.CertPool, http1, http2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(http1)
	tr.Protocols.SetHTTP2(http2)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// enroll posts AccountService.Enroll for the dev user uid as Connect JSON,
// with extra headers, and returns the response (body read and closed).
func enroll(t *testing.T, hc *http.Client, base, uid string, extra map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/treue.v1.AccountService/Enroll", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer dev:"+uid)
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Enroll: %s %s", res.Status, body.String())
	}
	return res
}

// checkHardening fails unless res carries the headers every answer gets,
// and HSTS exactly when wantHSTS.
func checkHardening(t *testing.T, what string, res *http.Response, wantHSTS bool) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s: %q, want %q", what, k, got, want)
		}
	}
	got := res.Header.Get("Strict-Transport-Security")
	switch {
	case wantHSTS && got != "max-age=63072000; includeSubDomains":
		t.Errorf("%s: Strict-Transport-Security %q, want max-age=63072000; includeSubDomains", what, got)
	case !wantHSTS && got != "":
		t.Errorf("%s: Strict-Transport-Security %q over plain HTTP", what, got)
	}
}

func TestTLSServesHTTP2AndHTTP1(t *testing.T) {
	base, roots := startTreuedTLS(t, nil)

	res := enroll(t, tlsClient(roots, false, true), base, "alice", nil)
	if res.ProtoMajor != 2 || res.TLS == nil || res.TLS.NegotiatedProtocol != "h2" {
		t.Errorf("HTTP/2 client: %s, ALPN %q", res.Proto, res.TLS.NegotiatedProtocol)
	}
	checkHardening(t, "HTTPS, HTTP/2", res, true)

	res = enroll(t, tlsClient(roots, true, false), base, "bob", nil)
	if res.ProtoMajor != 1 || res.ProtoMinor != 1 {
		t.Errorf("HTTP/1.1 client: %s", res.Proto)
	}
	checkHardening(t, "HTTPS, HTTP/1.1", res, true)

	// gRPC needs HTTP/2: over TLS it gets it by ALPN.
	card, err := treuev1connect.NewCardServiceClient(tlsClient(roots, true, true), base, devAuth("alice"), connect.WithGRPC()).
		GetCard(context.Background(), connect.NewRequest(&treuev1.GetCardRequest{}))
	if err != nil {
		t.Fatalf("gRPC over TLS: %v", err)
	}
	if card.Msg.GetCard().GetCardNumber() == "" {
		t.Error("gRPC over TLS: no card")
	}

	// No TLS 1.1 or older.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}}}
	if res, err := old.Get(base + "/"); err == nil {
		res.Body.Close()
		t.Error("TLS 1.1 client was served")
	}
	// A client that does not trust the certificate is refused by its
	// own side: the server offers no other.
	if res, err := http.Get(base + "/"); err == nil {
		res.Body.Close()
		t.Error("client without the test root was served")
	}
}

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	plain, _ := startTreued(t, nil)
	trusting, _ := startTreued(t, map[string]string{"TREUE_TRUST_PROXY_HEADERS": "true"})
	https := map[string]string{"X-Forwarded-Proto": "https"}
	cases := []struct {
		name     string
		base     string
		headers  map[string]string
		wantHSTS bool
	}{
		{"plain", plain, nil, false},
		{"plain, X-Forwarded-Proto https not trusted", plain, https, false},
		{"trusting proxy, no X-Forwarded-Proto", trusting, nil, false},
		{"trusting proxy, X-Forwarded-Proto http", trusting, map[string]string{"X-Forwarded-Proto": "http"}, false},
		{"trusting proxy, X-Forwarded-Proto https", trusting, https, true},
		{"trusting proxy, X-Forwarded-Proto HTTPS, http", trusting, map[string]string{"X-Forwarded-Proto": "HTTPS, http"}, true},
	}
	for i, c := range cases {
		res := enroll(t, http.DefaultClient, c.base, "u"+string(rune('a'+i)), c.headers)
		checkHardening(t, c.name, res, c.wantHSTS)
	}

	// Every answer of the mux: errors, and the wallets' web services.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/no/such/path"},
		{http.MethodPost, "/treue.v1.CardService/GetCard"}, // no credentials
		{http.MethodPost, "/passkit/v1/log"},
		{http.MethodPost, "/google-wallet/callbacks"},
	} {
		req, _ := http.NewRequest(r.method, trusting+r.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		checkHardening(t, r.method+" "+r.path+" ("+res.Status+")", res, true)
	}
}

func TestTLSBadConfigFailsAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certA, keyA, _ := selfSigned(t, dir, "a")
	_, keyB, _ := selfSigned(t, dir, "b")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		cert, key string
		wantInErr []string
	}{
		{"only the certificate", certA, "", []string{"TREUE_TLS_CERT_FILE and TREUE_TLS_KEY_FILE go together"}},
		{"only the key", "", keyA, []string{"TREUE_TLS_CERT_FILE and TREUE_TLS_KEY_FILE go together"}},
		{"the wrong key", certA, keyB, []string{"TREUE_TLS_CERT_FILE", "TREUE_TLS_KEY_FILE", "private key does not match public key"}},
		{"a missing certificate", filepath.Join(dir, "missing.crt"), keyA, []string{"TREUE_TLS_CERT_FILE", "no such file"}},
		{"a file that is no PEM", garbage, keyA, []string{"TREUE_TLS_CERT_FILE", "PEM"}},
		{"key and certificate swapped", keyA, certA, []string{"TREUE_TLS_CERT_FILE"}},
	}
	for i, c := range cases {
		env := map[string]string{
			"TREUE_ADDR":          "127.0.0.1:0",
			"TREUE_DATA_DIR":      filepath.Join(dir, "data", string(rune('a'+i))),
			"TREUE_TLS_CERT_FILE": c.cert,
			"TREUE_TLS_KEY_FILE":  c.key,
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var out syncBuffer
		err := run(ctx, nil, func(k string) string { return env[k] }, &out)
		cancel()
		if err == nil {
			t.Errorf("%s: treued started and stopped without an error", c.name)
			continue
		}
		for _, want := range c.wantInErr {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", c.name, err, want)
			}
		}
		if strings.Contains(out.String(), "treued listening") {
			t.Errorf("%s: treued listened before failing:\n%s", c.name, out.String())
		}
		t.Logf("%s: %v", c.name, err)
	}
}
