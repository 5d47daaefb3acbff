package googlepass_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/treue/treue/wallet/googlepass"
)

// accountTestKeys are RSA-2048 keys shared by this package's tests, made
// once: [0] signs, [1] is the wrong key.
var accountTestKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// accountTestIssuer is the issuer id the tests' accounts act for.
const accountTestIssuer = "3388000000000012345"

// pkcs8PEM returns key as a PKCS#8 PEM block.
func pkcs8PEM(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// serviceAccountKeyFile returns a service account key file as Google's
// console downloads it, for key, after edit has changed its fields.
func serviceAccountKeyFile(t testing.TB, key any, edit func(map[string]any)) []byte {
	t.Helper()
	f := map[string]any{
		"type":                        "service_account",
		"project_id":                  "treue-test",
		"private_key_id":              "0123456789abcdef0123456789abcdef01234567",
		"private_key":                 pkcs8PEM(t, key),
		"client_email":                "wallet@treue-test.iam.gserviceaccount.com",
		"client_id":                   "101234567890123456789",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}
	if edit != nil {
		edit(f)
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseServiceAccount(t *testing.T) {
	t.Parallel()
	key := accountTestKeys()[0]
	acct, err := googlepass.ParseServiceAccount(serviceAccountKeyFile(t, key, nil), accountTestIssuer)
	if err != nil {
		t.Fatal(err)
	}
	want := googlepass.Account{
		Email:    "wallet@treue-test.iam.gserviceaccount.com",
		KeyID:    "0123456789abcdef0123456789abcdef01234567",
		Key:      acct.Key,
		TokenURI: "https://oauth2.googleapis.com/token",
		IssuerID: accountTestIssuer,
	}
	if acct != want {
		t.Errorf("ParseServiceAccount = %v, want %v", acct, want)
	}
	if acct.Key == nil || !acct.Key.Equal(key) {
		t.Error("ParseServiceAccount returned another key than the file's")
	}
	// The account signs.
	if _, err := googlepass.NewSigner(acct, nil); err != nil {
		t.Errorf("NewSigner(parsed account) = %v", err)
	}
}

func TestParseServiceAccountErrors(t *testing.T) {
	t.Parallel()
	key := accountTestKeys()[0]
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	set := func(field string, v any) func(map[string]any) {
		return func(f map[string]any) { f[field] = v }
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	// A key file whose PEM body was damaged: its text must not leak.
	damaged := strings.Replace(pkcs8PEM(t, key), "\n", "\n!!", 3)

	tests := []struct {
		name     string
		file     []byte
		issuerID string
		want     string // in the error
	}{
		{"not JSON", []byte("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"), accountTestIssuer, "not valid JSON"},
		{"JSON array", []byte(`["service_account"]`), accountTestIssuer, "not a JSON object"},
		{"wrong type", serviceAccountKeyFile(t, key, set("type", "authorized_user")), accountTestIssuer, `type is "authorized_user"`},
		{"no type", serviceAccountKeyFile(t, key, func(f map[string]any) { delete(f, "type") }), accountTestIssuer, "type"},
		{"missing email", serviceAccountKeyFile(t, key, func(f map[string]any) { delete(f, "client_email") }), accountTestIssuer, "client_email"},
		{"email without @", serviceAccountKeyFile(t, key, set("client_email", "wallet")), accountTestIssuer, "client_email"},
		{"email with space", serviceAccountKeyFile(t, key, set("client_email", "wal let@x.iam.gserviceaccount.com")), accountTestIssuer, "client_email"},
		{"missing key", serviceAccountKeyFile(t, key, func(f map[string]any) { delete(f, "private_key") }), accountTestIssuer, "no PEM block"},
		{"key not PEM", serviceAccountKeyFile(t, key, set("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")), accountTestIssuer, "no PEM block"},
		{"damaged PEM", serviceAccountKeyFile(t, key, set("private_key", damaged)), accountTestIssuer, "private_key"},
		{"PKCS#1 PEM", serviceAccountKeyFile(t, key, set("private_key", pkcs1)), accountTestIssuer, "not a PKCS#8"},
		{"EC key", serviceAccountKeyFile(t, ecKey, nil), accountTestIssuer, "want RSA"},
		{"1024-bit key", serviceAccountKeyFile(t, smallKey, nil), accountTestIssuer, "at least 2048"},
		{"key is a number", serviceAccountKeyFile(t, key, set("private_key", 42)), accountTestIssuer, `"private_key" is not a string`},
		{"bad key id", serviceAccountKeyFile(t, key, set("private_key_id", "ab cd")), accountTestIssuer, "private_key_id"},
		{"http token_uri", serviceAccountKeyFile(t, key, set("token_uri", "http://oauth2.googleapis.com/token")), accountTestIssuer, "token_uri"},
		{"empty issuer", serviceAccountKeyFile(t, key, nil), "", "issuer id"},
		{"issuer with letters", serviceAccountKeyFile(t, key, nil), "3388x", "issuer id"},
		{"issuer with dot", serviceAccountKeyFile(t, key, nil), "3388.1", "issuer id"},
		{"issuer too long", serviceAccountKeyFile(t, key, nil), "12345678901234567890", "issuer id"},
		{"negative issuer", serviceAccountKeyFile(t, key, nil), "-3388", "issuer id"},
	}
	keyText := pkcs8PEM(t, key)
	keyBody := strings.Split(keyText, "\n")[1] // first line of base64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			acct, err := googlepass.ParseServiceAccount(tt.file, tt.issuerID)
			if err == nil {
				t.Fatalf("ParseServiceAccount = %v, nil; want an error", acct)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not mention %q", msg, tt.want)
			}
			for _, secret := range []string{"PRIVATE KEY", keyBody, keyBody[:16], "MIIE"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains key material %q", msg, secret)
				}
			}
		})
	}
}

func TestAccountStringHidesKey(t *testing.T) {
	t.Parallel()
	key := accountTestKeys()[0]
	acct := googlepass.Account{Email: "a@b.iam.gserviceaccount.com", KeyID: "k1", Key: key, IssuerID: accountTestIssuer}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, acct)
		if strings.Contains(out, key.D.String()) || strings.Contains(out, key.Primes[0].String()) || strings.Contains(out, key.N.String()) {
			t.Errorf("Sprintf(%q, acct) prints the key: %s", format, out)
		}
		if !strings.Contains(out, acct.Email) {
			t.Errorf("Sprintf(%q, acct) = %s, want the email", format, out)
		}
	}
}

func TestLoadOrCreateDevAccount(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state", "google")
	first, created, err := googlepass.LoadOrCreateDevAccount(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first LoadOrCreateDevAccount: created = false")
	}
	if first.Email != googlepass.DevEmail || first.IssuerID != googlepass.DevIssuerID || first.TokenURI != "" {
		t.Errorf("dev account = %v, want email %s, issuer %s and no token URI", first, googlepass.DevEmail, googlepass.DevIssuerID)
	}
	if googlepass.DevEmail != "treue-dev@treue-dev.iam.gserviceaccount.com" || googlepass.DevIssuerID != "3388000000000000000" {
		t.Errorf("DevEmail, DevIssuerID = %s, %s", googlepass.DevEmail, googlepass.DevIssuerID)
	}
	if first.Key == nil || first.Key.N.BitLen() != 2048 {
		t.Fatalf("dev key is not RSA-2048")
	}
	if len(first.KeyID) != 16 {
		t.Errorf("dev KeyID = %q, want 16 hex digits", first.KeyID)
	}
	path := filepath.Join(dir, googlepass.DevKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has mode %v, want 0600", googlepass.DevKeyFile, perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("dir holds %d files, want only %s (temporary files left?)", len(entries), googlepass.DevKeyFile)
	}

	second, created, err := googlepass.LoadOrCreateDevAccount(dir)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second LoadOrCreateDevAccount: created = true")
	}
	if !second.Key.Equal(first.Key) || second.KeyID != first.KeyID || second.Email != first.Email || second.IssuerID != first.IssuerID {
		t.Errorf("second dev account %v differs from the first %v", second, first)
	}
	if _, err := googlepass.NewSigner(second, []string{"http://localhost:8080"}); err != nil {
		t.Errorf("NewSigner(dev account) = %v", err)
	}
}

func TestLoadOrCreateDevAccountReplacesInvalidKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, googlepass.DevKeyFile)
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acct, created, err := googlepass.LoadOrCreateDevAccount(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a directory holding an invalid key")
	}
	again, created, err := googlepass.LoadOrCreateDevAccount(dir)
	if err != nil || created || !again.Key.Equal(acct.Key) {
		t.Errorf("reloading the replaced key: created %v, same key %v, err %v", created, err == nil && again.Key.Equal(acct.Key), err)
	}
}

func TestLoadOrCreateDevAccountConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 4
	accts := make([]googlepass.Account, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { accts[i], _, errs[i] = googlepass.LoadOrCreateDevAccount(dir) })
	}
	wg.Wait()
	onDisk, created, err := googlepass.LoadOrCreateDevAccount(dir)
	if err != nil || created {
		t.Fatalf("loading after concurrent creation: created %v, err %v", created, err)
	}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		} else if !accts[i].Key.Equal(onDisk.Key) {
			t.Errorf("caller %d got a key other than the one on disk", i)
		}
	}
}
