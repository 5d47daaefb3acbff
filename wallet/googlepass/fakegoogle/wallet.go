package fakegoogle

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// The OAuth grant and scope a service account uses for the Wallet API.
const (
	jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	issuerScope    = "https://www.googleapis.com/auth/wallet_object.issuer"
	apiPrefix      = "/walletobjects/v1/"
	// TokenPath is where the server sells OAuth tokens.
	TokenPath = "/token"
)

// Request is a Wallet API request the server answered.
type Request struct {
	Method string
	// Path is the URL path, unescaped: /walletobjects/v1/loyaltyObject/ID.
	Path   string
	Body   []byte
	Status int
	At     time.Time
}

// Wallet is a Google Wallet REST API server for loyalty classes and
// objects, with the OAuth token endpoint of the service accounts it
// knows. It checks what Google checks at the wire: bearer tokens it sold,
// assertions signed RS256 by a known account for the issuer scope, paths,
// methods and JSON bodies; it keeps classes and objects, merges PATCHes
// field by field, and answers errors in Google's format. It is safe for
// concurrent use.
type Wallet struct {
	*httptest.Server

	mu        sync.Mutex
	accounts  map[string]*rsa.PublicKey
	tokens    map[string]bool
	classes   map[string]map[string]json.RawMessage
	objects   map[string]map[string]json.RawMessage
	messages  map[string][]json.RawMessage
	requests  []Request
	faults    []fault
	tokenBuys int
}

// fault is an error answer queued for the next API request.
type fault struct {
	status     int
	retryAfter string
}

// NewWallet starts a Wallet server; close it with Close.
func NewWallet() *Wallet {
	w := &Wallet{
		accounts: make(map[string]*rsa.PublicKey),
		tokens:   make(map[string]bool),
		classes:  make(map[string]map[string]json.RawMessage),
		objects:  make(map[string]map[string]json.RawMessage),
		messages: make(map[string][]json.RawMessage),
	}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	return w
}

// Endpoint returns the API's base URL, to configure the client with.
func (w *Wallet) Endpoint() string { return w.URL + "/" }

// TokenURL returns the OAuth token endpoint's URL.
func (w *Wallet) TokenURL() string { return w.URL + TokenPath }

// AddAccount lets the service account email, whose key is pub, buy tokens.
func (w *Wallet) AddAccount(email string, pub *rsa.PublicKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.accounts[email] = pub
}

// Fail makes the next n API requests fail with status and, when not empty,
// a Retry-After header.
func (w *Wallet) Fail(n, status int, retryAfter string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		w.faults = append(w.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// PutObject stores an object as Google does when a user saves it from a
// link: obj is its JSON, with its "id".
func (w *Wallet) PutObject(obj []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return err
	}
	var id string
	if err := json.Unmarshal(fields["id"], &id); err != nil || id == "" {
		return fmt.Errorf("fakegoogle: object without an id")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.objects[id] = fields
	return nil
}

// Object returns the stored object's JSON and whether it exists.
func (w *Wallet) Object(id string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.objects[id]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(o)
	return b, true
}

// Class returns the stored class's JSON and whether it exists.
func (w *Wallet) Class(id string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.classes[id]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(c)
	return b, true
}

// Messages returns the messages added to an object, oldest first.
func (w *Wallet) Messages(objectID string) []json.RawMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]json.RawMessage(nil), w.messages[objectID]...)
}

// Requests returns the API requests answered so far, token purchases
// left out.
func (w *Wallet) Requests() []Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Request(nil), w.requests...)
}

// TokenPurchases returns how many tokens were sold.
func (w *Wallet) TokenPurchases() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tokenBuys
}

func (w *Wallet) serve(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		w.serveToken(rw, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(rw, http.StatusBadRequest, "unreadable body")
		return
	}
	status := w.serveAPI(rw, r, body)
	w.mu.Lock()
	w.requests = append(w.requests, Request{Method: r.Method, Path: r.URL.Path, Body: body, Status: status, At: time.Now()})
	w.mu.Unlock()
}

// serveAPI answers an API request and returns its status.
func (w *Wallet) serveAPI(rw http.ResponseWriter, r *http.Request, body []byte) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !w.tokens[auth] {
		return writeError(rw, http.StatusUnauthorized, "Request had invalid authentication credentials.")
	}
	if len(w.faults) > 0 {
		f := w.faults[0]
		w.faults = w.faults[1:]
		if f.retryAfter != "" {
			rw.Header().Set("Retry-After", f.retryAfter)
		}
		return writeError(rw, f.status, "injected failure")
	}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		return writeError(rw, http.StatusNotFound, "no such API")
	}
	kind, id, _ := strings.Cut(rest, "/")
	id, action, _ := strings.Cut(id, "/")
	var store map[string]map[string]json.RawMessage
	switch kind {
	case "loyaltyClass":
		store = w.classes
	case "loyaltyObject":
		store = w.objects
	default:
		return writeError(rw, http.StatusNotFound, "no such resource type")
	}
	var fields map[string]json.RawMessage
	if len(body) > 0 {
		if err := json.Unmarshal(body, &fields); err != nil {
			return writeError(rw, http.StatusBadRequest, "Invalid JSON payload received.")
		}
	}
	switch {
	case id == "" && r.Method == http.MethodPost:
		var newID string
		if err := json.Unmarshal(fields["id"], &newID); err != nil || newID == "" {
			return writeError(rw, http.StatusBadRequest, "Resource id is required.")
		}
		if _, exists := store[newID]; exists {
			return writeError(rw, http.StatusConflict, "Resource already exists.")
		}
		store[newID] = fields
		return writeJSON(rw, fields)
	case id == "":
		return writeError(rw, http.StatusMethodNotAllowed, "method not allowed")
	}
	cur, exists := store[id]
	if !exists {
		return writeError(rw, http.StatusNotFound, "Resource not found.")
	}
	switch {
	case action == "addMessage" && r.Method == http.MethodPost && kind == "loyaltyObject":
		msg, ok := fields["message"]
		if !ok {
			return writeError(rw, http.StatusBadRequest, "message is required")
		}
		w.messages[id] = append(w.messages[id], msg)
		return writeJSON(rw, map[string]any{"resource": cur})
	case action != "":
		return writeError(rw, http.StatusNotFound, "no such method")
	case r.Method == http.MethodGet:
		return writeJSON(rw, cur)
	case r.Method == http.MethodPut:
		store[id] = fields
		return writeJSON(rw, fields)
	case r.Method == http.MethodPatch:
		// A null removes the field, as in Google's PATCH.
		for k, v := range fields {
			if v == nil || string(v) == "null" {
				delete(cur, k)
				continue
			}
			cur[k] = v
		}
		return writeJSON(rw, cur)
	}
	return writeError(rw, http.StatusMethodNotAllowed, "method not allowed")
}

// serveToken sells a bearer token for a JWT bearer assertion (RFC 7523)
// signed RS256 by a known account for the issuer scope and this endpoint.
func (w *Wallet) serveToken(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != jwtBearerGrant {
		writeTokenError(rw, "unsupported_grant_type")
		return
	}
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
	}
	if err := verifyRS256(r.PostForm.Get("assertion"), &claims, func(iss string) *rsa.PublicKey {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.accounts[iss]
	}); err != nil {
		writeTokenError(rw, "invalid_grant")
		return
	}
	now := time.Now().Unix()
	if !strings.Contains(" "+claims.Scope+" ", " "+issuerScope+" ") || claims.Aud != w.TokenURL() ||
		claims.Exp < now || claims.Iat > now+60 || claims.Exp-claims.Iat > 3600 {
		writeTokenError(rw, "invalid_grant")
		return
	}
	buf := make([]byte, 16)
	rand.Read(buf)
	token := "ya29.fake-" + hex.EncodeToString(buf)
	w.mu.Lock()
	w.tokens[token] = true
	w.tokenBuys++
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3599})
}

// verifyRS256 checks a compact JWT signed RS256 by the key keyOf returns
// for its "iss", and decodes its claims into claims.
func verifyRS256(token string, claims any, keyOf func(iss string) *rsa.PublicKey) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	head, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return err
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(head, &h) != nil || h.Alg != "RS256" {
		return fmt.Errorf("alg is not RS256")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var iss struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &iss); err != nil {
		return err
	}
	key := keyOf(iss.Iss)
	if key == nil {
		return fmt.Errorf("unknown account")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	return json.Unmarshal(payload, claims)
}

// googleStatus maps HTTP statuses to the status names Google's errors
// carry.
var googleStatus = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusUnauthorized:        "UNAUTHENTICATED",
	http.StatusForbidden:           "PERMISSION_DENIED",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusConflict:            "ALREADY_EXISTS",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

// writeError answers status with a body in Google's error format and
// returns status.
func writeError(rw http.ResponseWriter, status int, message string) int {
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(map[string]any{"error": map[string]any{
		"code":    status,
		"message": message,
		"status":  googleStatus[status],
		"errors":  []map[string]string{{"message": message, "domain": "global", "reason": strings.ToLower(googleStatus[status])}},
	}})
	return status
}

// writeJSON answers 200 with v and returns 200.
func writeJSON(rw http.ResponseWriter, v any) int {
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(rw).Encode(v)
	return http.StatusOK
}

// writeTokenError answers an OAuth error (RFC 6749 section 5.2).
func writeTokenError(rw http.ResponseWriter, code string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(rw).Encode(map[string]string{"error": code})
}

// ObjectPath returns the path of an object as Request.Path has it.
func ObjectPath(id string) string { return apiPrefix + "loyaltyObject/" + id }
