package googlepass

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Account is the Google Cloud service account that signs save links for an
// issuer.
//
// Its String and GoString omit Key, so printing or logging an Account never
// shows key material.
type Account struct {
	// Email is the service account's address, the JWT issuer ("iss").
	Email string
	// KeyID identifies Key among the account's keys (the JWT header's
	// "kid"); empty leaves "kid" out.
	KeyID string
	// Key is the RSA key save links are signed with (RS256).
	Key *rsa.PrivateKey
	// TokenURI is where the account gets OAuth tokens for the Wallet REST
	// API; empty for the development account.
	TokenURI string
	// IssuerID is the Google Wallet issuer the account acts for, from
	// configuration: the key file does not name it.
	IssuerID string
}

// String returns the account's email, key id and issuer, never its key.
func (a Account) String() string {
	return fmt.Sprintf("googlepass.Account{Email: %q, KeyID: %q, IssuerID: %q}", a.Email, a.KeyID, a.IssuerID)
}

// GoString returns what String does, so %#v does not print the key either.
func (a Account) GoString() string { return a.String() }

// The development account: a key generated on first use and a made-up
// service account and issuer. Google accepts none of them: a save link
// signed with it opens Google's error page, but it has the shape of a real
// one and verifies against the key in DevKeyFile.
const (
	// DevIssuerID is a fake issuer id of the right shape (19 digits).
	// Google has not issued it to us and will not accept it.
	DevIssuerID = "3388000000000000000"
	// DevEmail is the made-up service account of the development account.
	DevEmail = "treue-dev@treue-dev.iam.gserviceaccount.com"
	// DevKeyFile is the development key's file (PKCS#8 PEM) in its
	// directory.
	DevKeyFile = "dev-google-key.pem"
)

// minRSABits is the smallest RSA key accepted. Google issues 2048-bit
// service account keys.
const minRSABits = 2048

// serviceAccountJSON is the part of a Google service account key file
// (as the Cloud console downloads it) that Account needs.
type serviceAccountJSON struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// ParseServiceAccount returns the account in jsonKey, a Google service
// account key file, acting for issuerID.
//
// It returns an error when jsonKey is not JSON, its type is not
// "service_account", client_email is missing or not an address,
// private_key is not a PEM PKCS#8 RSA key of at least 2048 bits,
// private_key_id holds other than ASCII letters, digits, '-' and '_',
// token_uri is set but not an https URL, or issuerID is not 1 to 19
// decimal digits (ValidIssuerID). No error contains any part of the key.
func ParseServiceAccount(jsonKey []byte, issuerID string) (Account, error) {
	if err := ValidIssuerID(issuerID); err != nil {
		return Account{}, fmt.Errorf("googlepass: service account: %w", err)
	}
	var f serviceAccountJSON
	if err := json.Unmarshal(jsonKey, &f); err != nil {
		// The decoder's messages may quote the input; say only where.
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return Account{}, fmt.Errorf("googlepass: service account key is not valid JSON (at byte %d)", syntax.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return Account{}, fmt.Errorf("googlepass: service account key: field %q is not a %s", typ.Field, typ.Type)
		default:
			return Account{}, errors.New("googlepass: service account key is not a JSON object")
		}
	}
	if f.Type != "service_account" {
		return Account{}, fmt.Errorf("googlepass: service account key: type is %q, want \"service_account\"", clipForError(f.Type, 40))
	}
	if !plausibleEmail(f.ClientEmail) {
		return Account{}, fmt.Errorf("googlepass: service account key: client_email %q is not an address", clipForError(f.ClientEmail, 80))
	}
	if !validKeyID(f.PrivateKeyID) {
		return Account{}, errors.New("googlepass: service account key: private_key_id holds characters other than ASCII letters, digits, '-' and '_'")
	}
	if f.TokenURI != "" {
		u, err := url.Parse(f.TokenURI)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return Account{}, fmt.Errorf("googlepass: service account key: token_uri %q is not an https URL", clipForError(f.TokenURI, 80))
		}
	}
	key, err := parseRSAKeyPEM([]byte(f.PrivateKey))
	if err != nil {
		return Account{}, fmt.Errorf("googlepass: service account key: private_key: %w", err)
	}
	return Account{
		Email:    f.ClientEmail,
		KeyID:    f.PrivateKeyID,
		Key:      key,
		TokenURI: f.TokenURI,
		IssuerID: issuerID,
	}, nil
}

// LoadOrCreateDevAccount returns the development account, its key read
// from DevKeyFile in dir; created reports whether the key was generated
// (RSA-2048) and written now because the file was missing or did not hold
// a valid key.
//
// The account has Email DevEmail, IssuerID DevIssuerID, no TokenURI and a
// KeyID derived from the key (devKeyID). It creates dir (0700) if missing
// and writes the key 0600 into a temporary file that it then moves into
// place, so the file is never seen half written; when processes start
// together, the first to publish its key wins and the others load it. It
// returns an error when dir cannot be created or written.
func LoadOrCreateDevAccount(dir string) (acct Account, created bool, err error) {
	path := filepath.Join(dir, DevKeyFile)
	if key, err := loadDevKey(path); err == nil {
		return devAccount(key), false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Account{}, false, fmt.Errorf("googlepass: dev account: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, minRSABits)
	if err != nil {
		return Account{}, false, fmt.Errorf("googlepass: dev account: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Account{}, false, fmt.Errorf("googlepass: dev account: %w", err)
	}
	tmp, err := writeDevKeyTemp(dir, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return Account{}, false, fmt.Errorf("googlepass: dev account: %w", err)
	}
	defer os.Remove(tmp) // fails harmlessly once the file has been renamed
	// Link publishes the file only if none is there, so of two processes
	// creating it at once, one wins and the other loads its key.
	switch err := os.Link(tmp, path); {
	case err == nil:
		return devAccount(key), true, nil
	case errors.Is(err, fs.ErrExist):
		if theirs, err := loadDevKey(path); err == nil {
			return devAccount(theirs), false, nil
		}
		// An invalid file: replace it.
	}
	// Replacing an invalid file, or a file system without hard links.
	if err := os.Rename(tmp, path); err != nil {
		return Account{}, false, fmt.Errorf("googlepass: dev account: %w", err)
	}
	return devAccount(key), true, nil
}

// devAccount returns the development account with key.
func devAccount(key *rsa.PrivateKey) Account {
	return Account{Email: DevEmail, KeyID: devKeyID(&key.PublicKey), Key: key, IssuerID: DevIssuerID}
}

// devKeyID returns the development key's id: the first 8 bytes of the
// SHA-256 hash of pub's PKIX DER form, in hex (16 characters).
func devKeyID(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Unreachable for an RSA key; an empty id leaves "kid" out.
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// loadDevKey returns the key in the PEM file at path, or an error when the
// file cannot be read or holds no valid key.
func loadDevKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := parseRSAKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// writeDevKeyTemp writes data to a new file (0600) in dir and returns its path,
// or an error when it cannot; it removes the file after a failed write.
func writeDevKeyTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+DevKeyFile+".*.tmp") // CreateTemp makes it 0600
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// parseRSAKeyPEM returns the RSA key in the first PEM block of data. It
// returns an error when there is no PEM block, the block is not PKCS#8,
// the key is not RSA or is shorter than minRSABits. Errors quote nothing
// of data.
func parseRSAKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	// The block's type is not quoted: it would put key headers into logs.
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS#8 private key")
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, want RSA", k)
	}
	if bits := key.N.BitLen(); bits < minRSABits {
		return nil, fmt.Errorf("RSA key of %d bits, want at least %d", bits, minRSABits)
	}
	return key, nil
}

// plausibleEmail reports whether s looks like a service account address:
// one '@' with text on both sides, at most 254 bytes, no spaces, controls
// or quotes.
func plausibleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 || strings.Count(s, "@") != 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validKeyID reports whether id may be a key id: at most 128 ASCII
// letters, digits, '-' and '_'. Google's are 40 hex digits.
func validKeyID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clipForError returns s cut to at most n bytes, with "…" appended when cut.
func clipForError(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
