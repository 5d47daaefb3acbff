// Package redact is the one place that turns secrets and personal data into
// forms fit for logs, so that logs carry no tokens, keys, full card numbers
// or personal data (GDPR data minimisation).
//
// The rule: any log attribute, and any error text that may end up in a
// log, that carries one of these values goes through this package:
//
//   - device and push tokens (FCM registration tokens, APNs push tokens,
//     Apple Wallet device library identifiers): [Token], "tok:1a2b3c4d";
//   - card numbers: [Card], "…0008";
//   - Firebase uids: [UID], "uid:1a2b3c4d";
//   - e-mail addresses: [Email], and people's names: [Name], both
//     "[redacted]";
//   - API keys of tills and operators: [Key], "key:[redacted]".
//
// [TokensIn] and [HexTokensIn] redact tokens inside a longer text, such as
// an error message of a library or a URL path.
//
// Values that are pseudonymous already are logged as they are: member ids
// (correlate log lines about a member by them), program, till and operator
// ids, pass serial numbers and Google Wallet object ids (issuer, program
// and member id).
//
// Every form of an empty value is "", so a log line still shows that a
// value was missing.
package redact

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Redacted stands for a value of which a log shows nothing.
const Redacted = "[redacted]"

// tag returns prefix and the first 8 hex digits of v's SHA-256, or "" for
// an empty v.
func tag(prefix, v string) string {
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	return prefix + hex.EncodeToString(sum[:4])
}

// Token returns the loggable form of a device or push token: "tok:" and
// the first 8 hex digits of the token's SHA-256. The form is the same in
// every process and on every replica, so log lines about one device can
// be correlated, and it cannot be used to push to the device. Tokens are
// long random strings, so the form does not reveal the token.
func Token(t string) string { return tag("tok:", t) }

// UID returns the loggable form of a Firebase uid: "uid:" and the first 8
// hex digits of its SHA-256, stable like Token's. It is a pseudonym, not
// anonymous: uids from a small set can be told apart by hashing each
// candidate (Firebase's own uids are 28 random characters; prefer the
// member id in logs where there is one).
func UID(uid string) string { return tag("uid:", uid) }

// Card returns the loggable form of a card number as typed, scanned or
// stored: "…" and its last 4 digits, spaces and dashes left out
// ("9276 0000 0000 0008" gives "…0008"). Anything with fewer than 8
// digits or with other characters gives "…" alone: it is a mistyped
// number whose last digits would be most of it, or not a card number.
func Card(n string) string {
	if n == "" {
		return ""
	}
	digits := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c == ' ' || c == '-':
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		default:
			return "…"
		}
	}
	if len(digits) < 8 {
		return "…"
	}
	return "…" + string(digits[len(digits)-4:])
}

// Email returns the loggable form of an e-mail address: Redacted. Logs do
// not need the address, not even its domain; correlate by member id.
func Email(e string) string { return whole(e) }

// Name returns the loggable form of a person's name: Redacted.
func Name(n string) string { return whole(n) }

// Key returns the loggable form of an API key: "key:[redacted]". Unlike a
// token it shows no hash: keys may be as short as 12 characters, and
// even part of a hash would let whoever reads the logs test guesses
// offline. A key that was accepted is known by its till or operator id.
func Key(k string) string {
	if k == "" {
		return ""
	}
	return "key:" + Redacted
}

// whole returns Redacted, or "" for an empty v.
func whole(v string) string {
	if v == "" {
		return ""
	}
	return Redacted
}

// TokensIn returns s with each of tokens replaced by its Token form where
// it occurs, for a text that may quote a token: an error message of a
// library, a URL path. A token shorter than 16 bytes is replaced only
// where no ASCII letter or digit comes right before or after it, so that
// it does not mangle the words it is part of. Empty tokens are ignored.
func TokensIn(s string, tokens ...string) string {
	for _, t := range tokens {
		if t == "" {
			continue
		}
		var b strings.Builder
		from := 0 // s[:from] is written or copied to b
		for at := 0; ; {
			i := strings.Index(s[at:], t)
			if i < 0 {
				break
			}
			i += at
			end := i + len(t)
			if len(t) < minHexToken && (i > 0 && alnum(s[i-1]) || end < len(s) && alnum(s[end])) {
				at = i + 1 // part of a longer word; look again after its first byte
				continue
			}
			b.WriteString(s[from:i])
			b.WriteString(Token(t))
			from, at = end, end
		}
		b.WriteString(s[from:])
		s = b.String()
	}
	return s
}

// alnum reports whether c is an ASCII letter or digit.
func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// minHexToken is the shortest run of hex digits HexTokensIn takes for a
// token, and the length from which TokensIn replaces a token anywhere.
const minHexToken = 16

// HexTokensIn returns s with every run of 16 or more hex digits replaced
// by its Token form: APNs push tokens and the device library identifiers
// of Apple Wallet look so, and so do card numbers. It is for text whose
// tokens are not known, such as the log messages devices send.
func HexTokensIn(s string) string {
	var b strings.Builder
	start := -1 // start of the current run of hex digits
	flush := func(end int) {
		if start < 0 {
			return
		}
		if run := s[start:end]; len(run) >= minHexToken {
			b.WriteString(Token(run))
		} else {
			b.WriteString(run)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(c)
	}
	flush(len(s))
	return b.String()
}
