package googlepass

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultKeysURL is where Google publishes the keys that sign callbacks.
const DefaultKeysURL = "https://pay.google.com/gp/m/issuer/keys"

// MaxCallbackBytes bounds a callback body; Verify refuses larger ones.
// Google's are about 1 KiB: two signatures, a key and a short message.
const MaxCallbackBytes = 16 << 10

// ErrBadCallback is wrapped by Verify's errors when a body is not a valid
// callback for the issuer. The caller answers 400: Google would send the
// same body again.
var ErrBadCallback = errors.New("googlepass: not a valid Google Wallet callback")

// ErrKeysUnavailable is wrapped by Verify's errors when Google's signing
// keys cannot be fetched. The caller answers 503, so that Google retries.
var ErrKeysUnavailable = errors.New("googlepass: Google's callback signing keys unavailable")

// The parameters of Tink's PaymentMethodTokenRecipient that Google Wallet
// callbacks are signed with; the recipient id is the issuer id.
const (
	callbackSenderID = "GooglePayPasses"
	callbackProtocol = "ECv2SigningOnly"
)

const (
	// maxKeysBytes bounds the keys document; Google's holds a few keys of
	// about 150 bytes each.
	maxKeysBytes = 64 << 10
	// maxRootKeys bounds the root keys tried per callback: each is an
	// ECDSA verification per intermediate signature.
	maxRootKeys = 20
	// maxKeySignatures bounds the intermediate key's signatures, for the
	// same reason. Google sends one.
	maxKeySignatures = 8
	// defaultKeysAge is how long keys are kept when the response names no
	// max-age; minKeysAge and maxKeysAge clamp the max-age it names.
	defaultKeysAge = time.Hour
	minKeysAge     = time.Minute
	maxKeysAge     = 24 * time.Hour
	// refetchAge is how old cached keys must be before a callback that
	// none of them verifies makes the Verifier fetch them again: Google
	// rotates its keys, but forged callbacks must not make us hammer its
	// server.
	refetchAge = time.Minute
	// fetchFailureBackoff is how long a failed fetch stands before the
	// next is tried, for the same reason.
	fetchFailureBackoff = 10 * time.Second
	// keysFetchTimeout bounds a fetch whatever the Client's timeout: a
	// fetch outlives the Verify that started it when others wait for it.
	keysFetchTimeout = 10 * time.Second
	// maxErrorQuote bounds the bytes of a callback quoted in an error.
	maxErrorQuote = 40
)

// CallbackMessage is the verified message of a save or delete callback.
type CallbackMessage struct {
	ClassID, ObjectID string
	// Saved is true for a "save" event and false for "del".
	Saved bool
	// Expires is the message's expiry (expTimeMillis), in UTC. It orders
	// callbacks about one object (Pass.SavedAsOf).
	Expires time.Time
	// Count is the message's "count", 0 when absent.
	Count int64
	Nonce string
}

// VerifierConfig is what a Verifier needs.
type VerifierConfig struct {
	// IssuerID is the issuer the callbacks must be for (ValidIssuerID).
	IssuerID string
	// KeysURL is where Google's keys are fetched; empty means
	// DefaultKeysURL. It must be https unless its host is loopback.
	KeysURL string
	// Client fetches the keys; nil means a client with a 10 s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives key fetch failures; nil discards them.
	Logger *slog.Logger
}

// Verifier checks the callbacks Google Wallet sends when a member saves or
// deletes a pass: their signatures, with Google's keys, and that they are
// for the issuer. It fetches the keys when first needed and keeps them as
// long as Google's response allows. It is safe for concurrent use.
type Verifier struct {
	issuerID string
	keysURL  string
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger

	mu sync.Mutex
	// keys are the latest keys fetched; nil before the first fetch
	// succeeds.
	keys *callbackRootKeys
	// fetch is the fetch under way, which concurrent Verifies share; nil
	// when none is.
	fetch *keysFetch
	// fetchErr is the error of the latest fetch, nil when it succeeded,
	// and failedAt when it failed.
	fetchErr error
	failedAt time.Time
}

// callbackRootKeys are Google's root signing keys as one fetch returned
// them.
type callbackRootKeys struct {
	keys    []callbackRootKey
	fetched time.Time
	// fresh is when the response's max-age runs out.
	fresh time.Time
}

// callbackRootKey is one of Google's root signing keys.
type callbackRootKey struct {
	pub *ecdsa.PublicKey
	// expires is the key's keyExpiration; zero when it has none.
	expires time.Time
}

// keysFetch is a fetch of the keys; done is closed when keys or err is
// set.
type keysFetch struct {
	done chan struct{}
	keys *callbackRootKeys
	err  error
}

// NewVerifier returns a Verifier for cfg.IssuerID, or an error when the
// issuer id is not valid (wrapping loyalty.ErrInvalid) or the keys URL is
// not an absolute https URL (http only on a loopback host). It fetches
// nothing yet.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := ValidIssuerID(cfg.IssuerID); err != nil {
		return nil, err
	}
	if cfg.KeysURL == "" {
		cfg.KeysURL = DefaultKeysURL
	}
	u, err := url.Parse(cfg.KeysURL)
	if err != nil {
		return nil, fmt.Errorf("googlepass: callback keys URL: %w", err)
	}
	if u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return nil, fmt.Errorf("googlepass: callback keys URL %q: want an https URL (http only on a loopback host)", cfg.KeysURL)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{
		issuerID: cfg.IssuerID,
		keysURL:  cfg.KeysURL,
		client:   cfg.Client,
		now:      cfg.Now,
		log:      cfg.Logger,
	}, nil
}

// loopbackHost reports whether h, a URL's host name, is localhost or a
// loopback address.
func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// callbackBody is the JSON Google posts, in Tink's ECv2SigningOnly format.
type callbackBody struct {
	Signature              string `json:"signature"`
	IntermediateSigningKey *struct {
		SignedKey  string   `json:"signedKey"`
		Signatures []string `json:"signatures"`
	} `json:"intermediateSigningKey"`
	ProtocolVersion string `json:"protocolVersion"`
	SignedMessage   string `json:"signedMessage"`
}

// signedKeyJSON is an intermediate signing key's signedKey.
type signedKeyJSON struct {
	KeyValue      string    `json:"keyValue"`
	KeyExpiration jsonInt64 `json:"keyExpiration"`
}

// callbackMessageJSON is a callback's signedMessage.
type callbackMessageJSON struct {
	ClassID       string    `json:"classId"`
	ObjectID      string    `json:"objectId"`
	EventType     string    `json:"eventType"`
	ExpTimeMillis jsonInt64 `json:"expTimeMillis"`
	Count         jsonInt64 `json:"count"`
	Nonce         string    `json:"nonce"`
}

// Verify returns the message of a callback's body. It returns an error
// wrapping ErrBadCallback when the body is not a valid callback for the
// issuer: malformed or larger than MaxCallbackBytes, of another protocol
// version, with a signature that does not verify, an expired intermediate
// key or message, ids of another issuer or an unknown event type. It
// returns an error wrapping ErrKeysUnavailable when Google's keys cannot be
// fetched, or ctx ends while it waits for them (then the error wraps ctx's
// error too).
func (v *Verifier) Verify(ctx context.Context, body []byte) (CallbackMessage, error) {
	if len(body) > MaxCallbackBytes {
		return CallbackMessage{}, badCallback("body of %d bytes, more than %d", len(body), MaxCallbackBytes)
	}
	var cb callbackBody
	if err := json.Unmarshal(body, &cb); err != nil {
		return CallbackMessage{}, badCallback("body: %v", err)
	}
	if cb.ProtocolVersion != callbackProtocol {
		return CallbackMessage{}, badCallback("protocolVersion %q, want %q", clipForError(cb.ProtocolVersion, maxErrorQuote), callbackProtocol)
	}
	if cb.IntermediateSigningKey == nil || cb.IntermediateSigningKey.SignedKey == "" || cb.SignedMessage == "" {
		return CallbackMessage{}, badCallback("no intermediateSigningKey.signedKey or signedMessage")
	}
	if n := len(cb.IntermediateSigningKey.Signatures); n == 0 || n > maxKeySignatures {
		return CallbackMessage{}, badCallback("%d intermediate key signatures, want 1 to %d", n, maxKeySignatures)
	}
	keySigs := make([][]byte, len(cb.IntermediateSigningKey.Signatures))
	for i, s := range cb.IntermediateSigningKey.Signatures {
		sig, err := decodeBase64(s)
		if err != nil {
			return CallbackMessage{}, badCallback("intermediate key signature: %v", err)
		}
		keySigs[i] = sig
	}
	msgSig, err := decodeBase64(cb.Signature)
	if err != nil {
		return CallbackMessage{}, badCallback("signature: %v", err)
	}
	signedKey := cb.IntermediateSigningKey.SignedKey
	keyDigest := sha256.Sum256(lengthValues(callbackSenderID, callbackProtocol, signedKey))

	roots, err := v.rootKeys(ctx, 0)
	if err != nil {
		return CallbackMessage{}, err
	}
	if !rootSigned(roots, v.now(), keyDigest[:], keySigs) {
		// Google may have rotated its keys since we fetched them.
		again, err := v.rootKeys(ctx, refetchAge)
		if err != nil {
			return CallbackMessage{}, err
		}
		if again == roots || !rootSigned(again, v.now(), keyDigest[:], keySigs) {
			return CallbackMessage{}, badCallback("no Google root key verifies the intermediate signing key")
		}
	}

	// Only now that Google vouches for them are the key and the message
	// parsed.
	intermediate, err := parseSignedKey(signedKey, v.now())
	if err != nil {
		return CallbackMessage{}, err
	}
	msgDigest := sha256.Sum256(lengthValues(callbackSenderID, v.issuerID, callbackProtocol, cb.SignedMessage))
	if !ecdsa.VerifyASN1(intermediate, msgDigest[:], msgSig) {
		return CallbackMessage{}, badCallback("the intermediate signing key does not verify the message for issuer %s", v.issuerID)
	}
	return v.parseMessage(cb.SignedMessage)
}

// parseSignedKey returns the public key of an intermediate signing key's
// signedKey, or an error wrapping ErrBadCallback when it is malformed, not
// a P-256 key, or expired at now.
func parseSignedKey(signedKey string, now time.Time) (*ecdsa.PublicKey, error) {
	var sk signedKeyJSON
	if err := json.Unmarshal([]byte(signedKey), &sk); err != nil {
		return nil, badCallback("intermediate signedKey: %v", err)
	}
	if !sk.KeyExpiration.set {
		return nil, badCallback("intermediate signedKey has no keyExpiration")
	}
	if exp := time.UnixMilli(sk.KeyExpiration.n); !now.Before(exp) {
		return nil, badCallback("intermediate signing key expired at %s", exp.UTC().Format(time.RFC3339))
	}
	pub, err := parseP256Key(sk.KeyValue)
	if err != nil {
		return nil, badCallback("intermediate signedKey.keyValue: %v", err)
	}
	return pub, nil
}

// parseMessage returns the verified signedMessage as a CallbackMessage, or
// an error wrapping ErrBadCallback when it is malformed, expired, about
// another issuer's class or object, or of an unknown event type.
func (v *Verifier) parseMessage(signedMessage string) (CallbackMessage, error) {
	var m callbackMessageJSON
	if err := json.Unmarshal([]byte(signedMessage), &m); err != nil {
		return CallbackMessage{}, badCallback("signedMessage: %v", err)
	}
	if !m.ExpTimeMillis.set {
		return CallbackMessage{}, badCallback("signedMessage has no expTimeMillis")
	}
	exp := time.UnixMilli(m.ExpTimeMillis.n)
	if !v.now().Before(exp) {
		return CallbackMessage{}, badCallback("message expired at %s", exp.UTC().Format(time.RFC3339))
	}
	// Google signs for every issuer with the same keys: the ids must be
	// this issuer's, not only the recipient id signed over.
	prefix := v.issuerID + "."
	for _, id := range [...]struct{ name, value string }{{"classId", m.ClassID}, {"objectId", m.ObjectID}} {
		if len(id.value) <= len(prefix) || !strings.HasPrefix(id.value, prefix) {
			return CallbackMessage{}, badCallback("%s %q is not one of issuer %s", id.name, clipForError(id.value, maxErrorQuote), v.issuerID)
		}
	}
	var saved bool
	switch m.EventType {
	case "save":
		saved = true
	case "del":
	default:
		return CallbackMessage{}, badCallback("eventType %q, want \"save\" or \"del\"", clipForError(m.EventType, maxErrorQuote))
	}
	return CallbackMessage{
		ClassID:  m.ClassID,
		ObjectID: m.ObjectID,
		Saved:    saved,
		Expires:  exp.UTC(),
		Count:    m.Count.n,
		Nonce:    m.Nonce,
	}, nil
}

// badCallback returns an error wrapping ErrBadCallback.
func badCallback(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadCallback}, args...)...)
}

// lengthValues returns parts as Tink signs them: each as its length, a
// little-endian uint32, followed by its bytes.
func lengthValues(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// rootSigned reports whether one of sigs is an ECDSA signature of digest by
// one of the keys not expired at now.
func rootSigned(roots *callbackRootKeys, now time.Time, digest []byte, sigs [][]byte) bool {
	for _, k := range roots.keys {
		if !k.expires.IsZero() && !now.Before(k.expires) {
			continue
		}
		for _, sig := range sigs {
			if ecdsa.VerifyASN1(k.pub, digest, sig) {
				return true
			}
		}
	}
	return false
}

// decodeBase64 returns s decoded as standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// parseP256Key returns the key whose X.509 SubjectPublicKeyInfo s holds in
// base64, or an error when it is not a P-256 ECDSA key.
func parseP256Key(s string) (*ecdsa.PublicKey, error) {
	der, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 ECDSA key")
	}
	return ec, nil
}

// jsonInt64 is an integer Google writes either as a JSON number
// (expTimeMillis, count) or as a string of digits (keyExpiration); set
// reports whether it was present and not null.
type jsonInt64 struct {
	n   int64
	set bool
}

// UnmarshalJSON sets i from a JSON number or string of an integer. Its
// error does not quote b, which comes from the callback.
func (i *jsonInt64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not an integer")
	}
	i.n, i.set = n, true
	return nil
}
