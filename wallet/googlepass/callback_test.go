package googlepass_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/store/storetest"
	"github.com/treue/treue/wallet/googlepass"
	"github.com/treue/treue/wallet/googlepass/fakegoogle"
)

const (
	callbackTestIssuer = "3388000000012345678"
	// callbackTestOtherIssuer is another issuer; Google signs its
	// callbacks with the same keys.
	callbackTestOtherIssuer = "3388000000087654321"
)

// callbackTestStart is when the simulated clock of the callback tests
// starts.
var callbackTestStart = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// callbackEnv is a Verifier for callbackTestIssuer and the fake Google
// whose keys it fetches.
type callbackEnv struct {
	google *fakegoogle.CallbackSigner
	keys   *httptest.Server
	clock  *storetest.Clock
	v      *googlepass.Verifier
}

// newCallbackSigner returns a signer whose keys outlive the callback tests'
// simulated clock: the intermediate key expires two days after
// callbackTestStart, the root key a year after.
func newCallbackSigner(t testing.TB) *fakegoogle.CallbackSigner {
	t.Helper()
	s, err := fakegoogle.NewCallbackSigner()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIntermediateExpiry(callbackTestStart.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.SetRootKey(fakegoogle.CallbackProtocol, callbackTestStart.AddDate(1, 0, 0))
	return s
}

// newCallbackEnv returns a Verifier fetching the keys of a new signer from
// a test server, on a simulated clock at callbackTestStart.
func newCallbackEnv(t testing.TB) *callbackEnv {
	t.Helper()
	e := &callbackEnv{google: newCallbackSigner(t), clock: storetest.NewClock(callbackTestStart)}
	e.keys = httptest.NewServer(e.google.KeysHandler())
	t.Cleanup(e.keys.Close)
	e.v = newTestVerifier(t, e.keys.URL, e.clock)
	return e
}

// newTestVerifier returns a Verifier for callbackTestIssuer that fetches
// its keys from keysURL.
func newTestVerifier(t testing.TB, keysURL string, clock *storetest.Clock) *googlepass.Verifier {
	t.Helper()
	v, err := googlepass.NewVerifier(googlepass.VerifierConfig{
		IssuerID: callbackTestIssuer,
		KeysURL:  keysURL,
		Now:      clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// callback returns a valid callback message about a member's object,
// expiring an hour after the simulated clock's now.
func (e *callbackEnv) callback(eventType string) fakegoogle.Callback {
	return fakegoogle.Callback{
		ClassID:       callbackTestIssuer + ".demo-cafe",
		ObjectID:      callbackTestIssuer + ".demo-cafe-m-1001",
		EventType:     eventType,
		ExpTimeMillis: e.clock.Now().Add(time.Hour).UnixMilli(),
		Count:         1,
		Nonce:         "2a1c3a2e-8f3c-4b9e-9a59-4c0e5f1b7d20",
	}
}

// sign returns c signed by s for callbackTestIssuer.
func sign(t testing.TB, s *fakegoogle.CallbackSigner, c fakegoogle.Callback) []byte {
	t.Helper()
	body, err := s.Sign(callbackTestIssuer, c)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// editBody returns body with edit applied to its top-level JSON object.
func editBody(t testing.TB, body []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyCallback(t *testing.T) {
	tests := []struct {
		name string
		// body returns the callback to verify; nil means a save callback.
		body func(t *testing.T, e *callbackEnv) []byte
		want func(e *callbackEnv) googlepass.CallbackMessage
	}{
		{
			name: "save",
		},
		{
			name: "del",
			body: func(t *testing.T, e *callbackEnv) []byte { return sign(t, e.google, e.callback("del")) },
			want: func(e *callbackEnv) googlepass.CallbackMessage {
				m := wantMessage(e)
				m.Saved = false
				return m
			},
		},
		{
			name: "no count or nonce",
			body: func(t *testing.T, e *callbackEnv) []byte {
				c := e.callback("save")
				c.Count, c.Nonce = 0, ""
				return sign(t, e.google, c)
			},
			want: func(e *callbackEnv) googlepass.CallbackMessage {
				m := wantMessage(e)
				m.Count, m.Nonce = 0, ""
				return m
			},
		},
		{
			// One valid signature of the intermediate key is enough.
			name: "bogus intermediate signature first",
			body: func(t *testing.T, e *callbackEnv) []byte {
				var other struct {
					ISK struct {
						Signatures []string `json:"signatures"`
					} `json:"intermediateSigningKey"`
				}
				if err := json.Unmarshal(sign(t, newCallbackSigner(t), e.callback("save")), &other); err != nil {
					t.Fatal(err)
				}
				return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
					isk := m["intermediateSigningKey"].(map[string]any)
					isk["signatures"] = append([]any{other.ISK.Signatures[0]}, isk["signatures"].([]any)...)
				})
			},
		},
		{
			// Google serves several keys while it rotates them.
			name: "root among several keys",
			body: func(t *testing.T, e *callbackEnv) []byte {
				other := newCallbackSigner(t)
				other.Publish(e.google)
				srv := httptest.NewServer(other.KeysHandler())
				t.Cleanup(srv.Close)
				e.v = newTestVerifier(t, srv.URL, e.clock)
				return sign(t, e.google, e.callback("save"))
			},
		},
		{
			name: "root key without keyExpiration",
			body: func(t *testing.T, e *callbackEnv) []byte {
				e.google.SetRootKey(fakegoogle.CallbackProtocol, time.Time{})
				return sign(t, e.google, e.callback("save"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCallbackEnv(t)
			var body []byte
			if tt.body != nil {
				body = tt.body(t, e)
			} else {
				body = sign(t, e.google, e.callback("save"))
			}
			got, err := e.v.Verify(context.Background(), body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := wantMessage(e)
			if tt.want != nil {
				want = tt.want(e)
			}
			if got != want {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

// wantMessage returns the CallbackMessage of e.callback("save") signed at
// the clock's now.
func wantMessage(e *callbackEnv) googlepass.CallbackMessage {
	c := e.callback("save")
	return googlepass.CallbackMessage{
		ClassID:  c.ClassID,
		ObjectID: c.ObjectID,
		Saved:    true,
		Expires:  time.UnixMilli(c.ExpTimeMillis).UTC(),
		Count:    c.Count,
		Nonce:    c.Nonce,
	}
}

func TestVerifyBadCallback(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T, e *callbackEnv) []byte
	}{
		{"tampered signedMessage", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				m["signedMessage"] = strings.Replace(m["signedMessage"].(string), `"save"`, `"del"`, 1)
			})
		}},
		{"tampered signedKey", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				isk := m["intermediateSigningKey"].(map[string]any)
				var sk map[string]any
				if err := json.Unmarshal([]byte(isk["signedKey"].(string)), &sk); err != nil {
					t.Fatal(err)
				}
				sk["keyExpiration"] = strconv.FormatInt(callbackTestStart.AddDate(10, 0, 0).UnixMilli(), 10)
				b, _ := json.Marshal(sk)
				isk["signedKey"] = string(b)
			})
		}},
		{"tampered signature", func(t *testing.T, e *callbackEnv) []byte {
			other := sign(t, e.google, e.callback("del"))
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				var o map[string]any
				if err := json.Unmarshal(other, &o); err != nil {
					t.Fatal(err)
				}
				m["signature"] = o["signature"]
			})
		}},
		{"signed by another root", func(t *testing.T, e *callbackEnv) []byte {
			return sign(t, newCallbackSigner(t), e.callback("save"))
		}},
		{"intermediate key expired", func(t *testing.T, e *callbackEnv) []byte {
			if err := e.google.SetIntermediateExpiry(callbackTestStart.Add(-time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			return sign(t, e.google, e.callback("save"))
		}},
		{"intermediate key expiring now", func(t *testing.T, e *callbackEnv) []byte {
			if err := e.google.SetIntermediateExpiry(callbackTestStart); err != nil {
				t.Fatal(err)
			}
			return sign(t, e.google, e.callback("save"))
		}},
		{"message expired", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ExpTimeMillis = callbackTestStart.Add(-time.Millisecond).UnixMilli()
			return sign(t, e.google, c)
		}},
		{"message expiring now", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ExpTimeMillis = callbackTestStart.UnixMilli()
			return sign(t, e.google, c)
		}},
		{"expTimeMillis zero", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ExpTimeMillis = 0
			return sign(t, e.google, c)
		}},
		{"wrong protocolVersion", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				m["protocolVersion"] = "ECv2"
			})
		}},
		{"no protocolVersion", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				delete(m, "protocolVersion")
			})
		}},
		{"no intermediateSigningKey", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				delete(m, "intermediateSigningKey")
			})
		}},
		{"no intermediate signatures", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				m["intermediateSigningKey"].(map[string]any)["signatures"] = []any{}
			})
		}},
		{"signature not base64", func(t *testing.T, e *callbackEnv) []byte {
			return editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) {
				m["signature"] = "not base64!"
			})
		}},
		{"objectId of another issuer", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ObjectID = callbackTestOtherIssuer + ".demo-cafe-m-1001"
			return sign(t, e.google, c)
		}},
		{"classId of another issuer", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ClassID = callbackTestOtherIssuer + ".demo-cafe"
			return sign(t, e.google, c)
		}},
		{"objectId of an issuer our id prefixes", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ObjectID = callbackTestIssuer + "9.demo-cafe-m-1001"
			return sign(t, e.google, c)
		}},
		{"objectId without suffix", func(t *testing.T, e *callbackEnv) []byte {
			c := e.callback("save")
			c.ObjectID = callbackTestIssuer + "."
			return sign(t, e.google, c)
		}},
		{"signed for another issuer", func(t *testing.T, e *callbackEnv) []byte {
			body, err := e.google.Sign(callbackTestOtherIssuer, e.callback("save"))
			if err != nil {
				t.Fatal(err)
			}
			return body
		}},
		{"unknown eventType", func(t *testing.T, e *callbackEnv) []byte {
			return sign(t, e.google, e.callback("update"))
		}},
		{"oversized body", func(t *testing.T, e *callbackEnv) []byte {
			body := sign(t, e.google, e.callback("save"))
			return append(body, bytes.Repeat([]byte(" "), googlepass.MaxCallbackBytes+1-len(body))...)
		}},
		{"not JSON", func(t *testing.T, e *callbackEnv) []byte {
			return []byte("eventType=save")
		}},
		{"empty", func(t *testing.T, e *callbackEnv) []byte {
			return nil
		}},
		{"root key of another protocol ignored", func(t *testing.T, e *callbackEnv) []byte {
			e.google.SetRootKey("ECv2", callbackTestStart.AddDate(1, 0, 0))
			// A valid key besides, so that there are keys to fetch.
			e.google.Publish(newCallbackSigner(t))
			return sign(t, e.google, e.callback("save"))
		}},
		{"expired root key ignored", func(t *testing.T, e *callbackEnv) []byte {
			e.google.SetRootKey(fakegoogle.CallbackProtocol, callbackTestStart.Add(-time.Second))
			e.google.Publish(newCallbackSigner(t))
			return sign(t, e.google, e.callback("save"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCallbackEnv(t)
			got, err := e.v.Verify(context.Background(), tt.body(t, e))
			if !errors.Is(err, googlepass.ErrBadCallback) || errors.Is(err, googlepass.ErrKeysUnavailable) {
				t.Fatalf("Verify = %+v, %v; want an ErrBadCallback error", got, err)
			}
			if got != (googlepass.CallbackMessage{}) {
				t.Errorf("Verify returned message %+v with its error", got)
			}
		})
	}
}

// TestVerifyRootKeyExpiresWhileCached checks that a cached root key is not
// used past its keyExpiration.
func TestVerifyRootKeyExpiresWhileCached(t *testing.T) {
	e := newCallbackEnv(t)
	e.google.SetRootKey(fakegoogle.CallbackProtocol, callbackTestStart.Add(30*time.Second))
	e.google.Publish(newCallbackSigner(t))
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); err != nil {
		t.Fatalf("Verify before the root key expires: %v", err)
	}
	e.clock.Advance(40 * time.Second)
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); !errors.Is(err, googlepass.ErrBadCallback) {
		t.Fatalf("Verify after the root key expired = %v, want ErrBadCallback", err)
	}
}

// TestVerifyErrorsClipped checks that errors quote no more than a little
// of what the callback's sender chose.
func TestVerifyErrorsClipped(t *testing.T) {
	long := strings.Repeat("x", 5000)
	e := newCallbackEnv(t)
	for name, body := range map[string][]byte{
		"protocolVersion": editBody(t, sign(t, e.google, e.callback("save")), func(m map[string]any) { m["protocolVersion"] = long }),
		"eventType":       sign(t, e.google, e.callback(long)),
		"objectId": func() []byte {
			c := e.callback("save")
			c.ObjectID = long
			return sign(t, e.google, c)
		}(),
	} {
		_, err := e.v.Verify(context.Background(), body)
		if !errors.Is(err, googlepass.ErrBadCallback) {
			t.Fatalf("%s: Verify = %v, want ErrBadCallback", name, err)
		}
		if len(err.Error()) > 200 {
			t.Errorf("%s: error of %d bytes: %.300s", name, len(err.Error()), err)
		}
	}
}

func TestVerifyKeysUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>maintenance</html>"))
		}},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[],"padding":"`))
			w.Write(bytes.Repeat([]byte("x"), 64<<10))
			w.Write([]byte(`"}`))
		}},
		{"no keys", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[]}`))
		}},
		{"no key of the protocol", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[{"keyValue":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE","protocolVersion":"ECv1"}]}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			e := newCallbackEnv(t)
			v := newTestVerifier(t, srv.URL, e.clock)
			_, err := v.Verify(context.Background(), sign(t, e.google, e.callback("save")))
			if !errors.Is(err, googlepass.ErrKeysUnavailable) || errors.Is(err, googlepass.ErrBadCallback) {
				t.Fatalf("Verify = %v, want an ErrKeysUnavailable error", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		e := newCallbackEnv(t)
		v := newTestVerifier(t, srv.URL, e.clock)
		_, err := v.Verify(context.Background(), sign(t, e.google, e.callback("save")))
		if !errors.Is(err, googlepass.ErrKeysUnavailable) {
			t.Fatalf("Verify = %v, want an ErrKeysUnavailable error", err)
		}
	})
}

// TestVerifyKeysDownThenUp checks that a failed fetch is retried, but not
// at once for every callback.
func TestVerifyKeysDownThenUp(t *testing.T) {
	e := newCallbackEnv(t)
	e.google.FailKeys(true)
	body := sign(t, e.google, e.callback("save"))
	for range 3 {
		if _, err := e.v.Verify(context.Background(), body); !errors.Is(err, googlepass.ErrKeysUnavailable) {
			t.Fatalf("Verify while the keys are down = %v, want ErrKeysUnavailable", err)
		}
	}
	if n := e.google.KeyFetches(); n != 1 {
		t.Errorf("%d key fetches right after a failure, want 1", n)
	}
	e.google.FailKeys(false)
	e.clock.Advance(15 * time.Second)
	if _, err := e.v.Verify(context.Background(), body); err != nil {
		t.Fatalf("Verify once the keys are back: %v", err)
	}
	if n := e.google.KeyFetches(); n != 2 {
		t.Errorf("%d key fetches, want 2", n)
	}
}

// TestVerifyStaleKeys checks that cached keys stand in for a day when
// Google's server is down.
func TestVerifyStaleKeys(t *testing.T) {
	e := newCallbackEnv(t)
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); err != nil {
		t.Fatal(err)
	}
	e.google.FailKeys(true)
	e.clock.Advance(2 * time.Hour) // past max-age
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); err != nil {
		t.Fatalf("Verify with stale keys: %v", err)
	}
	if n := e.google.KeyFetches(); n != 2 {
		t.Errorf("%d key fetches, want 2", n)
	}
	e.clock.Advance(23 * time.Hour) // 25 h after the fetch
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); !errors.Is(err, googlepass.ErrKeysUnavailable) {
		t.Fatalf("Verify with day-old keys = %v, want ErrKeysUnavailable", err)
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	e := newCallbackEnv(t)
	ctx := context.Background()
	if _, err := e.v.Verify(ctx, sign(t, e.google, e.callback("save"))); err != nil {
		t.Fatal(err)
	}
	if err := e.google.Rotate(); err != nil {
		t.Fatal(err)
	}

	// Keys fetched less than a minute ago are not fetched again.
	e.clock.Advance(30 * time.Second)
	if _, err := e.v.Verify(ctx, sign(t, e.google, e.callback("save"))); !errors.Is(err, googlepass.ErrBadCallback) {
		t.Fatalf("Verify under new keys 30 s after the fetch = %v, want ErrBadCallback", err)
	}
	if n := e.google.KeyFetches(); n != 1 {
		t.Fatalf("%d key fetches, want 1", n)
	}

	e.clock.Advance(time.Minute)
	if _, err := e.v.Verify(ctx, sign(t, e.google, e.callback("del"))); err != nil {
		t.Fatalf("Verify under new keys after refetch: %v", err)
	}
	if n := e.google.KeyFetches(); n != 2 {
		t.Fatalf("%d key fetches, want 2", n)
	}

	// A forged callback right after does not fetch again.
	forged := sign(t, newCallbackSigner(t), e.callback("save"))
	for range 5 {
		if _, err := e.v.Verify(ctx, forged); !errors.Is(err, googlepass.ErrBadCallback) {
			t.Fatalf("Verify forged = %v, want ErrBadCallback", err)
		}
	}
	if n := e.google.KeyFetches(); n != 2 {
		t.Errorf("%d key fetches after forged callbacks, want 2", n)
	}
}

// TestVerifyKeyRotationKeysDown checks that a callback no cached key
// verifies is answered as a transient failure when the keys cannot be
// fetched again: Google may have rotated them.
func TestVerifyKeyRotationKeysDown(t *testing.T) {
	e := newCallbackEnv(t)
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); err != nil {
		t.Fatal(err)
	}
	if err := e.google.Rotate(); err != nil {
		t.Fatal(err)
	}
	e.google.FailKeys(true)
	e.clock.Advance(2 * time.Minute)
	if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); !errors.Is(err, googlepass.ErrKeysUnavailable) {
		t.Fatalf("Verify = %v, want ErrKeysUnavailable", err)
	}
}

func TestVerifyKeysCache(t *testing.T) {
	tests := []struct {
		cacheControl string
		maxAge       time.Duration
	}{
		{"max-age=3600", time.Hour},
		{"public, max-age=600, must-revalidate", 10 * time.Minute},
		{"", time.Hour},
		{"no-cache", time.Hour},
		{"max-age=5", time.Minute},
		{"max-age=172800", 24 * time.Hour},
		{"max-age=99999999999999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.cacheControl, func(t *testing.T) {
			e := newCallbackEnv(t)
			e.google.SetCacheControl(tt.cacheControl)
			verify := func() {
				t.Helper()
				if _, err := e.v.Verify(context.Background(), sign(t, e.google, e.callback("save"))); err != nil {
					t.Fatal(err)
				}
			}
			for range 10 {
				verify()
			}
			if n := e.google.KeyFetches(); n != 1 {
				t.Fatalf("%d key fetches for 10 callbacks, want 1", n)
			}
			e.clock.Advance(tt.maxAge - time.Second)
			verify()
			if n := e.google.KeyFetches(); n != 1 {
				t.Fatalf("%d key fetches within max-age, want 1", n)
			}
			e.clock.Advance(time.Second)
			verify()
			verify()
			if n := e.google.KeyFetches(); n != 2 {
				t.Fatalf("%d key fetches after max-age, want 2", n)
			}
		})
	}
}

func TestVerifyConcurrentShareFetch(t *testing.T) {
	e := newCallbackEnv(t)
	bodies := make([][]byte, 50)
	for i := range bodies {
		event := "save"
		if i%2 == 1 {
			event = "del"
		}
		bodies[i] = sign(t, e.google, e.callback(event))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(bodies))
	for i, body := range bodies {
		wg.Go(func() {
			_, errs[i] = e.v.Verify(context.Background(), body)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := e.google.KeyFetches(); n != 1 {
		t.Errorf("%d key fetches for %d concurrent callbacks, want 1", n, len(bodies))
	}
}

// TestVerifyContextCanceled checks that a Verify waiting for the keys
// returns when its context ends, and that the fetch it started still
// serves the next Verify.
func TestVerifyContextCanceled(t *testing.T) {
	e := newCallbackEnv(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		e.google.KeysHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// Cleanups run last first: the handler returns before srv.Close
	// waits for it.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	v := newTestVerifier(t, srv.URL, e.clock)
	body := sign(t, e.google, e.callback("save"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(ctx, body)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(err, googlepass.ErrKeysUnavailable) {
		t.Fatalf("Verify with canceled context = %v, want context.Canceled and ErrKeysUnavailable", err)
	}
	releaseOnce.Do(func() { close(release) })
	if _, err := v.Verify(context.Background(), body); err != nil {
		t.Fatalf("Verify after the fetch: %v", err)
	}
	if n := e.google.KeyFetches(); n != 1 {
		t.Errorf("%d key fetches, want 1", n)
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name   string
		cfg    googlepass.VerifierConfig
		wantOK bool
	}{
		{"default URL", googlepass.VerifierConfig{IssuerID: callbackTestIssuer}, true},
		{"https", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "https://keys.example/issuer/keys"}, true},
		{"http on 127.0.0.1", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "http://127.0.0.1:8080/keys"}, true},
		{"http on ::1", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "http://[::1]:8080/keys"}, true},
		{"http on localhost", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "http://localhost/keys"}, true},
		{"http elsewhere", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "http://keys.example/keys"}, false},
		{"other scheme", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "ftp://keys.example/keys"}, false},
		{"relative", googlepass.VerifierConfig{IssuerID: callbackTestIssuer, KeysURL: "/keys"}, false},
		{"no issuer", googlepass.VerifierConfig{}, false},
		{"bad issuer", googlepass.VerifierConfig{IssuerID: "issuer-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := googlepass.NewVerifier(tt.cfg)
			if tt.wantOK && (err != nil || v == nil) {
				t.Errorf("NewVerifier = %v, %v; want a Verifier", v, err)
			}
			if !tt.wantOK && err == nil {
				t.Errorf("NewVerifier succeeded, want an error")
			}
		})
	}
}

// TestVerifyGoogleCallback checks Verify against a callback Google sent: a
// delete for issuer 3388000000022141777, published in the tests of
// github.com/edutap-eu/edutap.wallet_google. Its message and intermediate
// key are Google's bytes, signed by Google; only the intermediate key's
// signature is the fake's, since Google's root key is not at hand.
func TestVerifyGoogleCallback(t *testing.T) {
	const (
		issuer = "3388000000022141777"
		// The strings are as Google sent them, "=" escaped as \u003d.
		signedKey     = `{"keyValue":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKb256ssDdmf7DokZ7jsMtAvjiTX2HF1ay8QR1sSA+gFpC/ChhRwVdMEVJTaoAP1MIH38QWtqShiQ63zROaKtgQ\u003d\u003d","keyExpiration":"1759996807000"}`
		signedMessage = `{"classId":"3388000000022141777.lib.edutap.eu","objectId":"3388000000022141777.6b4cbd15-0de7-4fe8-95f6-995a51b4595e.object","eventType":"del","expTimeMillis":1759331348143,"count":1,"nonce":"1a9e3df0-ec10-4a17-8b39-89d2d7f48e3b"}`
		signature     = "MEUCIQC+xKva1ydmNwJJiP2HJJWsteUe02ztTDKExzcWIpmlywIgJwD4HUYvZJg/cr1OL21vVKr0b2ZXt79NblCQ1V18zsc="
	)
	google := newCallbackSigner(t)
	google.SetRootKey(fakegoogle.CallbackProtocol, time.Time{})
	keySig, err := google.SignKey(signedKey)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{
		"signature": signature,
		"intermediateSigningKey": map[string]any{
			"signedKey":  signedKey,
			"signatures": []string{keySig},
		},
		"protocolVersion": "ECv2SigningOnly",
		"signedMessage":   signedMessage,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(google.KeysHandler())
	t.Cleanup(srv.Close)
	// 88 s before the message expires.
	clock := storetest.NewClock(time.Date(2025, 10, 1, 10, 1, 0, 0, time.UTC))
	newVerifier := func(issuerID string) *googlepass.Verifier {
		v, err := googlepass.NewVerifier(googlepass.VerifierConfig{IssuerID: issuerID, KeysURL: srv.URL, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	got, err := newVerifier(issuer).Verify(context.Background(), body)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := googlepass.CallbackMessage{
		ClassID:  "3388000000022141777.lib.edutap.eu",
		ObjectID: "3388000000022141777.6b4cbd15-0de7-4fe8-95f6-995a51b4595e.object",
		Saved:    false,
		Expires:  time.UnixMilli(1759331348143).UTC(),
		Count:    1,
		Nonce:    "1a9e3df0-ec10-4a17-8b39-89d2d7f48e3b",
	}
	if got != want {
		t.Errorf("Verify = %+v, want %+v", got, want)
	}

	// Google signed the message for its recipient only.
	if _, err := newVerifier(callbackTestIssuer).Verify(context.Background(), body); !errors.Is(err, googlepass.ErrBadCallback) {
		t.Errorf("Verify for another issuer = %v, want ErrBadCallback", err)
	}
}
