package redact_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/treue/treue/redact"
)

// sha8 returns the first 8 hex digits of s's SHA-256.
func sha8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

func TestRedactForms(t *testing.T) {
	t.Parallel()
	const fcmToken = "eXaMpLe-InStAnCe:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"
	for _, c := range []struct {
		name, got, want string
	}{
		{"Token", redact.Token(fcmToken), "tok:" + sha8(fcmToken)},
		{"Token of an APNs token", redact.Token("00aa11bb22cc33dd44ee55ff66778899"), "tok:" + sha8("00aa11bb22cc33dd44ee55ff66778899")},
		{"Token empty", redact.Token(""), ""},
		{"UID", redact.UID("kR3x9QmZpVhY2sLwTnB8aC7dEfG1"), "uid:" + sha8("kR3x9QmZpVhY2sLwTnB8aC7dEfG1")},
		{"UID empty", redact.UID(""), ""},
		{"Card", redact.Card("9276000000000008"), "…0008"},
		{"Card grouped", redact.Card("9276 0000 0000 0008"), "…0008"},
		{"Card with dashes", redact.Card("9276-0000-0000-0008"), "…0008"},
		{"Card of 8 digits", redact.Card("12345678"), "…5678"},
		{"Card of 7 digits", redact.Card("1234567"), "…"},
		{"Card not a number", redact.Card("anna@example.com"), "…"},
		{"Card with a letter", redact.Card("9276 0000 0000 000x"), "…"},
		{"Card empty", redact.Card(""), ""},
		{"Email", redact.Email("anna@example.com"), "[redacted]"},
		{"Email empty", redact.Email(""), ""},
		{"Name", redact.Name("Anna Schmidt"), "[redacted]"},
		{"Name empty", redact.Name(""), ""},
		{"Key", redact.Key("demo-store-key"), "key:[redacted]"},
		{"Key empty", redact.Key(""), ""},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestRedactStable: the forms that are hashes are the same for the same
// value and differ for different values, so log lines can be correlated.
func TestRedactStable(t *testing.T) {
	t.Parallel()
	for _, f := range []func(string) string{redact.Token, redact.UID} {
		v := "a-token"
		if first, again := f(v), f(strings.Clone(v)); again != first {
			t.Errorf("forms of the same value differ: %q, %q", first, again)
		}
	}
	if redact.Token("a-token") == redact.Token("b-token") || redact.UID("u1") == redact.UID("u2") {
		t.Error("forms of different values are equal")
	}
	if strings.TrimPrefix(redact.Token("x"), "tok:") != strings.TrimPrefix(redact.UID("x"), "uid:") {
		t.Error("Token and UID hash differently")
	}
	if redact.Key("key-one-123456") != redact.Key("key-two-123456") {
		t.Error("Key shows something of the key")
	}
}

// TestRedactHidesValues: no form holds the value or a sizeable part of it.
func TestRedactHidesValues(t *testing.T) {
	t.Parallel()
	values := []struct {
		name string
		f    func(string) string
		v    string
	}{
		{"Token", redact.Token, "fcm-token-of-annas-phone-0123456789"},
		{"UID", redact.UID, "firebase-uid-of-anna"},
		{"Card", redact.Card, "9276123456789013"},
		{"Email", redact.Email, "anna.schmidt@example.com"},
		{"Name", redact.Name, "Anna Schmidt"},
		{"Key", redact.Key, "till-key-0123456789"},
	}
	for _, c := range values {
		got := c.f(c.v)
		for i := 0; i+5 <= len(c.v); i++ {
			if part := c.v[i : i+5]; strings.Contains(got, part) {
				t.Errorf("%s(%q) = %q holds %q", c.name, c.v, got, part)
			}
		}
	}
}

func TestRedactTokensIn(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	msg := `Post "https://api.push.apple.com/3/device/` + tok + `": dial tcp: i/o timeout (` + tok + `)`
	got := redact.TokensIn(msg, "", tok, "not-in-there")
	if strings.Contains(got, tok) || strings.Count(got, redact.Token(tok)) != 2 {
		t.Errorf("TokensIn = %q, want both tokens as %s", got, redact.Token(tok))
	}
	if got := redact.TokensIn("nothing to hide", ""); got != "nothing to hide" {
		t.Errorf("TokensIn with an empty token = %q, want the text unchanged", got)
	}
	for _, c := range []struct{ in, tok, want string }{
		{"/passkit/v1/devices/a/registrations/pass.x/a1", "a", "/passkit/v1/devices/" + redact.Token("a") + "/registrations/pass.x/a1"},
		{"aa", "a", "aa"},
		{"token xyz-1", "xyz-1", "token " + redact.Token("xyz-1")},
		{"xyz-1xyz-1", "xyz-1", "xyz-1xyz-1"},
		{"(xyz-1)axyz-1", "xyz-1", "(" + redact.Token("xyz-1") + ")axyz-1"},
		{"glued0123456789abcdef0123456789", "0123456789abcdef", "glued" + redact.Token("0123456789abcdef") + "0123456789"},
		{`"dXk3:APA91b" is not valid`, "dXk3:APA91b", `"` + redact.Token("dXk3:APA91b") + `" is not valid`},
	} {
		if got := redact.TokensIn(c.in, c.tok); got != c.want {
			t.Errorf("TokensIn(%q, %q) = %q, want %q", c.in, c.tok, got, c.want)
		}
	}
}

func TestRedactHexTokensIn(t *testing.T) {
	t.Parallel()
	const device = "8b4e2b3c9d0f4a1e8b4e2b3c9d0f4a1e"
	const push = "00AA11BB22CC33DD44EE55FF66778899AABBCCDDEEFF00112233445566778899"
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"no tokens here, only cafe and 2026", "no tokens here, only cafe and 2026"},
		{"[Web service error] https://treue.example/passkit/v1/devices/" + device + "/registrations/pass.x/7Q2M",
			"[Web service error] https://treue.example/passkit/v1/devices/" + redact.Token(device) + "/registrations/pass.x/7Q2M"},
		{push, redact.Token(push)},
		{"token=" + push + ".", "token=" + redact.Token(push) + "."},
		{"15 digits 123456789012345 stay", "15 digits 123456789012345 stay"},
		{"card 9276000000000008 goes", "card " + redact.Token("9276000000000008") + " goes"},
		{"ümlaut " + device + " ü", "ümlaut " + redact.Token(device) + " ü"},
	} {
		if got := redact.HexTokensIn(c.in); got != c.want {
			t.Errorf("HexTokensIn(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestRedactInLogs: the forms go into slog's text and JSON output as they
// are, and match what the log scanners of other tests look for.
func TestRedactInLogs(t *testing.T) {
	t.Parallel()
	var text, js bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&text, nil), slog.NewJSONHandler(&js, nil)} {
		slog.New(h).Info("x", "token", redact.Token("t"), "uid", redact.UID("u"), "card", redact.Card("9276000000000008"),
			"email", redact.Email("a@b.c"), "key", redact.Key("k"))
	}
	if !regexp.MustCompile(`token=tok:[0-9a-f]{8} uid=uid:[0-9a-f]{8} card=…0008 email=\[redacted\] key=key:\[redacted\]`).MatchString(text.String()) {
		t.Errorf("text log %q", text.String())
	}
	if !regexp.MustCompile(`"token":"tok:[0-9a-f]{8}","uid":"uid:[0-9a-f]{8}","card":"…0008","email":"\[redacted\]","key":"key:\[redacted\]"`).MatchString(js.String()) {
		t.Errorf("JSON log %q", js.String())
	}
}
