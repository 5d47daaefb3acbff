package googlepass

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/treue/treue/loyalty"
)

// maxIssuerIDLen bounds an issuer id: Google issues them as int64 numbers,
// at most 19 digits.
const maxIssuerIDLen = 19

// maxIDSuffix bounds the part of a class or object id Treue chooses. Google
// documents no limit; ids travel in every save link and API path, so they
// are kept short.
const maxIDSuffix = 100

// ValidIssuerID returns an error wrapping loyalty.ErrInvalid unless id is
// an issuer id as Google issues them: 1 to 19 decimal digits.
func ValidIssuerID(id string) error {
	if id == "" || len(id) > maxIssuerIDLen || strings.TrimLeft(id, "0123456789") != "" {
		return fmt.Errorf("%w: google wallet issuer id %q: want the 1 to %d digit number Google issued",
			loyalty.ErrInvalid, id, maxIssuerIDLen)
	}
	return nil
}

// ClassID returns the id of program programID's loyalty class:
// "<issuerID>.<programID>", with programID made safe as idSuffix does.
// issuerID is used as given; check it once with ValidIssuerID.
func ClassID(issuerID, programID string) string {
	return issuerID + "." + idSuffix(programID)
}

// ObjectID returns the id of member memberID's loyalty object in program
// programID: "<issuerID>.<programID>-<memberID>", the part after the issuer
// made safe as idSuffix does. issuerID is used as given; check it once with
// ValidIssuerID.
func ObjectID(issuerID, programID, memberID string) string {
	return issuerID + "." + idSuffix(programID+"-"+memberID)
}

// idSuffix returns s as the part of a Google Wallet id after the issuer id,
// which may hold only ASCII letters, digits, '.', '_' and '-': s itself when
// it is safe and at most maxIDSuffix bytes long. Otherwise every other
// character becomes '_', the result is cut to leave room, and "_" and 16 hex
// digits of s's SHA-256 hash are appended, so that different ids stay
// different ("a b" and "a_b", two long ids sharing a prefix).
func idSuffix(s string) string {
	var b strings.Builder
	changed := false
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('_')
		changed = true
	}
	safe := b.String()
	if !changed && len(safe) <= maxIDSuffix {
		return safe
	}
	sum := sha256.Sum256([]byte(s))
	tag := "_" + hex.EncodeToString(sum[:8])
	if len(safe) > maxIDSuffix-len(tag) {
		safe = safe[:maxIDSuffix-len(tag)] // ASCII only: cuts no character
	}
	return safe + tag
}
