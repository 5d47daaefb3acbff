package fakegoogle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// CallbackProtocol is the protocolVersion of Google Wallet callbacks and of
// the root keys that sign them.
const CallbackProtocol = "ECv2SigningOnly"

// callbackSenderID is the sender id Google signs callbacks under.
const callbackSenderID = "GooglePayPasses"

// CallbackSigner signs callbacks the way Google does, with its own root and
// intermediate keys (ECDSA P-256), and serves its root key as Google's keys
// endpoint does. It is safe for concurrent use.
type CallbackSigner struct {
	mu           sync.Mutex
	root         *ecdsa.PrivateKey
	intermediate *ecdsa.PrivateKey
	// interExpiry is the intermediate key's keyExpiration.
	interExpiry time.Time
	// signedKey and keySignature are the intermediate key as Google sends
	// it, signed by root.
	signedKey    string
	keySignature string

	// rootProtocol and rootExpiry are how the keys handler publishes root;
	// a zero rootExpiry omits keyExpiration.
	rootProtocol string
	rootExpiry   time.Time
	published    []*CallbackSigner
	cacheControl string
	failKeys     bool
	fetches      int
}

// NewCallbackSigner returns a signer with new root and intermediate keys.
// The intermediate key expires an hour from now (SetIntermediateExpiry);
// the keys handler publishes the root key for ECv2SigningOnly, expiring a
// year from now (SetRootKey), with "Cache-Control: max-age=3600". It
// returns an error only when key generation fails.
func NewCallbackSigner() (*CallbackSigner, error) {
	s := &CallbackSigner{
		interExpiry:  time.Now().Add(time.Hour),
		rootProtocol: CallbackProtocol,
		rootExpiry:   time.Now().AddDate(1, 0, 0),
		cacheControl: "max-age=3600",
	}
	if err := s.newKeys(); err != nil {
		return nil, err
	}
	return s, nil
}

// newKeys replaces s's root and intermediate keys; s.mu is held or s is
// not shared yet.
func (s *CallbackSigner) newKeys() error {
	root, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	intermediate, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	s.root, s.intermediate = root, intermediate
	return s.signIntermediate()
}

// signIntermediate makes s.signedKey from the intermediate key and its
// expiry, and signs it with the root key; s.mu is held.
func (s *CallbackSigner) signIntermediate() error {
	spki, err := x509.MarshalPKIXPublicKey(&s.intermediate.PublicKey)
	if err != nil {
		return err
	}
	signedKey, err := json.Marshal(struct {
		KeyValue      string `json:"keyValue"`
		KeyExpiration string `json:"keyExpiration"`
	}{base64.StdEncoding.EncodeToString(spki), strconv.FormatInt(s.interExpiry.UnixMilli(), 10)})
	if err != nil {
		return err
	}
	sig, err := signECDSA(s.root, callbackSenderID, CallbackProtocol, string(signedKey))
	if err != nil {
		return err
	}
	s.signedKey, s.keySignature = string(signedKey), sig
	return nil
}

// SetIntermediateExpiry makes the intermediate key expire at t (its
// keyExpiration), for tests whose clock is not the real one; the root key
// signs it again. It returns an error only when signing fails.
func (s *CallbackSigner) SetIntermediateExpiry(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interExpiry = t
	return s.signIntermediate()
}

// SetRootKey sets how the keys handler publishes the root key: under
// protocolVersion, expiring at expires; a zero expires publishes it
// without keyExpiration. Verifiers must ignore keys of other protocol
// versions and expired ones.
func (s *CallbackSigner) SetRootKey(protocolVersion string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rootProtocol, s.rootExpiry = protocolVersion, expires
}

// Publish makes the keys handler serve other's root key too, after s's,
// as other publishes it (SetRootKey): Google serves several keys while it
// rotates them.
func (s *CallbackSigner) Publish(other *CallbackSigner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, other)
}

// SetCacheControl sets the keys handler's Cache-Control header; "" omits
// it.
func (s *CallbackSigner) SetCacheControl(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cacheControl = v
}

// FailKeys makes the keys handler answer 503 Service Unavailable while
// fail is true, as Google's server might when it is down. Those requests
// count as fetches too.
func (s *CallbackSigner) FailKeys(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failKeys = fail
}

// SignKey returns the root key's signature of signedKey, an intermediate
// key's signedKey, as a callback's intermediateSigningKey.signatures holds
// it. It lets tests replay a callback Google sent, whose message its own
// intermediate key signed, under s's root key in place of Google's. It
// returns an error only when signing fails.
func (s *CallbackSigner) SignKey(signedKey string) (string, error) {
	s.mu.Lock()
	root := s.root
	s.mu.Unlock()
	return signECDSA(root, callbackSenderID, CallbackProtocol, signedKey)
}

// Rotate gives s a new root key and a new intermediate key signed by it,
// expiring when the old one did. The keys handler serves the new root key
// only (and those Published). It returns an error only when key generation
// fails.
func (s *CallbackSigner) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newKeys()
}

// publishedKey is a root key as the keys endpoint serves it.
type publishedKey struct {
	KeyValue        string `json:"keyValue"`
	ProtocolVersion string `json:"protocolVersion"`
	KeyExpiration   string `json:"keyExpiration,omitempty"`
}

// publishedKey returns s's root key as the keys handler serves it.
func (s *CallbackSigner) publishedKey() (publishedKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spki, err := x509.MarshalPKIXPublicKey(&s.root.PublicKey)
	if err != nil {
		return publishedKey{}, err
	}
	k := publishedKey{KeyValue: base64.StdEncoding.EncodeToString(spki), ProtocolVersion: s.rootProtocol}
	if !s.rootExpiry.IsZero() {
		k.KeyExpiration = strconv.FormatInt(s.rootExpiry.UnixMilli(), 10)
	}
	return k, nil
}

// KeysHandler returns a handler that serves s's root key, and those of the
// signers s Publishes, as https://pay.google.com/gp/m/issuer/keys serves
// Google's: {"keys":[{"keyValue":…,"protocolVersion":…,"keyExpiration":…}]}
// with s's Cache-Control header. It counts the requests it gets
// (KeyFetches) and answers only GET.
func (s *CallbackSigner) KeysHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.fetches++
		fail, cacheControl := s.failKeys, s.cacheControl
		signers := append([]*CallbackSigner{s}, s.published...)
		s.mu.Unlock()

		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if fail {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		// Each signer is locked on its own, so that signers publishing
		// each other cannot deadlock.
		var doc struct {
			Keys []publishedKey `json:"keys"`
		}
		for _, signer := range signers {
			k, err := signer.publishedKey()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			doc.Keys = append(doc.Keys, k)
		}
		body, err := json.Marshal(doc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		w.Write(body)
	})
}

// KeyFetches returns how many requests the keys handler has had.
func (s *CallbackSigner) KeyFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Callback is a callback's signed message, as Google sends it.
type Callback struct {
	ClassID, ObjectID string
	// EventType is "save" or "del".
	EventType string
	// ExpTimeMillis is when the message expires, in milliseconds since
	// the Unix epoch.
	ExpTimeMillis int64
	// Count is omitted from the message when 0.
	Count int64
	// Nonce is omitted from the message when empty.
	Nonce string
}

// callbackMessage is the JSON of a Callback, its fields in Google's order.
type callbackMessage struct {
	ClassID       string `json:"classId"`
	ObjectID      string `json:"objectId"`
	EventType     string `json:"eventType"`
	ExpTimeMillis int64  `json:"expTimeMillis"`
	Count         int64  `json:"count,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
}

// callbackBody is the JSON Google posts to the callback URL.
type callbackBody struct {
	Signature              string          `json:"signature"`
	IntermediateSigningKey intermediateKey `json:"intermediateSigningKey"`
	ProtocolVersion        string          `json:"protocolVersion"`
	SignedMessage          string          `json:"signedMessage"`
}

// intermediateKey is a callback's intermediateSigningKey.
type intermediateKey struct {
	SignedKey  string   `json:"signedKey"`
	Signatures []string `json:"signatures"`
}

// Sign returns the body Google would POST to issuerID's callback URL for
// c: c as the signedMessage, signed by the intermediate key for recipient
// issuerID, and the intermediate key signed by the root key. It checks
// nothing of c, so tests can sign what Google never would. It returns an
// error only when signing fails.
func (s *CallbackSigner) Sign(issuerID string, c Callback) ([]byte, error) {
	msg, err := json.Marshal(callbackMessage(c))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	intermediate, signedKey, keySignature := s.intermediate, s.signedKey, s.keySignature
	s.mu.Unlock()
	sig, err := signECDSA(intermediate, callbackSenderID, issuerID, CallbackProtocol, string(msg))
	if err != nil {
		return nil, err
	}
	return json.Marshal(callbackBody{
		Signature: sig,
		IntermediateSigningKey: intermediateKey{
			SignedKey:  signedKey,
			Signatures: []string{keySignature},
		},
		ProtocolVersion: CallbackProtocol,
		SignedMessage:   string(msg),
	})
}

// signECDSA returns the base64 ASN.1 DER ECDSA signature by key of the
// SHA-256 hash of parts as Tink's PaymentMethodTokenUtil.toLengthValue
// joins them: each as its length, a 4-byte little-endian integer, and its
// bytes.
func signECDSA(key *ecdsa.PrivateKey, parts ...string) (string, error) {
	var b []byte
	for _, p := range parts {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	digest := sha256.Sum256(b)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("fakegoogle: signing: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
