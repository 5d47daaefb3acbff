package googlepass

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/treue/treue/loyalty"
)

// googleID is what Google allows in a class or object id.
var googleID = regexp.MustCompile(`^[0-9]+\.[A-Za-z0-9._-]+$`)

func TestClassID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tests := []struct {
		name, programID, want string
	}{
		{"safe", "demo-cafe", "123.demo-cafe"},
		{"dots and underscores kept", "a.b_c-D9", "123.a.b_c-D9"},
		{"at the bound", strings.Repeat("x", maxIDSuffix), "123." + strings.Repeat("x", maxIDSuffix)},
		{"space", "café treue", "123.caf__treue_" + hashTag("café treue")},
		{"slash", "a/b", "123.a_b_" + hashTag("a/b")},
		{"too long", long, "123." + long[:maxIDSuffix-17] + "_" + hashTag(long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ClassID("123", tt.programID)
			if got != tt.want {
				t.Errorf("ClassID(123, %q) = %q, want %q", tt.programID, got, tt.want)
			}
			if !googleID.MatchString(got) || len(got)-len("123.") > maxIDSuffix {
				t.Errorf("ClassID(123, %q) = %q: not a Google id of at most %d characters after the issuer", tt.programID, got, maxIDSuffix)
			}
		})
	}
}

// hashTag returns the 16 hex digits idSuffix appends to a changed s.
func hashTag(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func TestIDsStayDistinct(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 150)
	pairs := [][2]string{
		{"a b", "a_b"},
		{"a b", "a/b"},
		{long + "1", long + "2"},
		{"ä", "ö"},
	}
	for _, p := range pairs {
		if a, b := ClassID("1", p[0]), ClassID("1", p[1]); a == b {
			t.Errorf("ClassID of %q and %q are both %q", p[0], p[1], a)
		}
	}
}

func TestObjectID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		programID, memberID, want string
	}{
		{"demo-cafe", "m_2x7k9", "3388000000012345678.demo-cafe-m_2x7k9"},
		{"demo-cafe", "m 1", "3388000000012345678.demo-cafe-m_1_" + hashTag("demo-cafe-m 1")},
	}
	for _, tt := range tests {
		got := ObjectID(testIssuerID, tt.programID, tt.memberID)
		if got != tt.want {
			t.Errorf("ObjectID(%q, %q) = %q, want %q", tt.programID, tt.memberID, got, tt.want)
		}
		if !googleID.MatchString(got) {
			t.Errorf("ObjectID(%q, %q) = %q: not a Google id", tt.programID, tt.memberID, got)
		}
	}
	long := ObjectID("1", strings.Repeat("p", 64), strings.Repeat("m", 64))
	if len(long)-len("1.") > maxIDSuffix || !googleID.MatchString(long) {
		t.Errorf("long ObjectID = %q (%d characters)", long, len(long))
	}
}

func TestValidIssuerID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id string
		ok bool
	}{
		{"3388000000012345678", true},
		{"1", true},
		{"", false},
		{"12345678901234567890", false}, // 20 digits
		{"3388.1", false},
		{"-1", false},
		{" 1", false},
		{"１２", false}, // full-width digits
		{"abc", false},
	}
	for _, tt := range tests {
		err := ValidIssuerID(tt.id)
		if tt.ok && err != nil {
			t.Errorf("ValidIssuerID(%q) = %v, want nil", tt.id, err)
		}
		if !tt.ok && !errors.Is(err, loyalty.ErrInvalid) {
			t.Errorf("ValidIssuerID(%q) = %v, want loyalty.ErrInvalid", tt.id, err)
		}
	}
}
