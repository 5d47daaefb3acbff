// Package fakefcm is a local Firebase Cloud Messaging server for tests. It
// speaks the FCM HTTP v1 wire format over HTTP/2 and TLS, checks the bearer
// token, records the messages it accepts and can be told to refuse tokens
// or to fail the next requests, so that code using the Firebase Admin SDK
// (or package fcm) runs unchanged against it.
//
//	srv := fakefcm.New()
//	defer srv.Close()
//	sender, err := fcm.New(ctx, fcm.Config{ProjectID: "demo-test", Options: srv.Options()})
//
// The wire format follows
// https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send
// and the error codes
// https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode.
package fakefcm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

// Received is one message the server accepted.
type Received struct {
	// Project is the project in the request path.
	Project string
	// Name is the name the server answered with:
	// projects/{project}/messages/{n}.
	Name string
	// ValidateOnly: the request asked only to validate the message.
	ValidateOnly bool
	// Exactly one of Token, Topic and Condition is set.
	Token     string
	Topic     string
	Condition string
	// Title and Body are the notification's.
	Title string
	Body  string
	Data  map[string]string
	// CollapseKey, TTL and Priority are the Android options (TTL is 0
	// when the message has none).
	CollapseKey string
	TTL         time.Duration
	Priority    string
	// APNSHeaders and WebpushHeaders are the platforms' header maps.
	APNSHeaders    map[string]string
	WebpushHeaders map[string]string
	// Message is the message as the client sent it, for anything not
	// above.
	Message json.RawMessage
	// At is when the request arrived.
	At time.Time
	// Proto is the request's HTTP protocol: "HTTP/2.0".
	Proto string
}

// Server is a fake FCM server. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, https://127.0.0.1:port.
	URL string
	// Token is the OAuth2 access token the server requires as
	// "Authorization: Bearer <Token>".
	Token string

	ts       *httptest.Server
	client   *http.Client
	requests atomic.Int64
	nextID   atomic.Int64

	mu           sync.Mutex
	messages     []Received
	unregistered map[string]bool
	failLeft     int
	failStatus   int
	failAfter    time.Duration
}

// New starts a server on a loopback port with HTTP/2 and a self-signed
// certificate. Close it when done.
func New() *Server {
	s := &Server{Token: "fake-" + randomHex(16), unregistered: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", s.send)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", "", 0)
	})
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	s.ts.EnableHTTP2 = true
	// Quiet "TLS handshake error … use of closed network connection" from
	// connections still opening when the test closes the server.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts.StartTLS()
	s.URL = s.ts.URL
	s.client = &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.Token, TokenType: "Bearer"}),
		Base:   s.ts.Client().Transport,
	}}
	return s
}

// Close shuts the server down and closes the client's idle connections.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client that trusts the server's certificate,
// speaks HTTP/2 and sends "Authorization: Bearer <Token>" with every
// request (through an oauth2.Transport with a static token source).
func (s *Server) Client() *http.Client { return s.client }

// Options returns the client options that point the Firebase Admin SDK at
// the server: the endpoint URL+"/v1" and Client. With an HTTP client
// given, the SDK looks for no credentials.
func (s *Server) Options() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL + "/v1"),
		option.WithHTTPClient(s.client),
	}
}

// Messages returns the accepted messages in the order they arrived.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// Requests returns how many requests the server received, failed ones
// included.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Unregister makes later sends to tokens fail with 404 NOT_FOUND and the
// FCM error code UNREGISTERED.
func (s *Server) Unregister(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		s.unregistered[t] = true
	}
}

// FailNext makes the next n requests fail with the HTTP status, before any
// other check, with a Retry-After header (in whole seconds, rounded up)
// when retryAfter > 0. The body carries FCM's status and error code for
// the status: 429 RESOURCE_EXHAUSTED/QUOTA_EXCEEDED, 503
// UNAVAILABLE/UNAVAILABLE, 500 INTERNAL/INTERNAL, 400
// INVALID_ARGUMENT/INVALID_ARGUMENT, 401 UNAUTHENTICATED/THIRD_PARTY_AUTH_ERROR,
// 403 PERMISSION_DENIED/SENDER_ID_MISMATCH, 404 NOT_FOUND/UNREGISTERED,
// any other UNKNOWN/UNSPECIFIED_ERROR. FailNext replaces failures still
// pending from an earlier call.
func (s *Server) FailNext(n int, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failStatus, s.failAfter = n, status, retryAfter
}

// Reset forgets the accepted messages, the unregistered tokens, pending
// failures and the request count.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
	s.unregistered = map[string]bool{}
	s.failLeft = 0
	s.requests.Store(0)
}

// failure returns the status and Retry-After of a failure FailNext asked
// for, or 0.
func (s *Server) failure() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft <= 0 {
		return 0, 0
	}
	s.failLeft--
	return s.failStatus, s.failAfter
}

// failures maps an HTTP status to FCM's status, error code and message.
var failures = map[int][3]string{
	http.StatusBadRequest:          {"INVALID_ARGUMENT", "INVALID_ARGUMENT", "Request contains an invalid argument."},
	http.StatusUnauthorized:        {"UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS or Web Push Service"},
	http.StatusForbidden:           {"PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"},
	http.StatusNotFound:            {"NOT_FOUND", "UNREGISTERED", "Requested entity was not found."},
	http.StatusTooManyRequests:     {"RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded for quota metric 'Send requests' of service 'fcm.googleapis.com'."},
	http.StatusInternalServerError: {"INTERNAL", "INTERNAL", "Internal error encountered."},
	http.StatusServiceUnavailable:  {"UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."},
}

// sendRequest is the body of messages:send.
type sendRequest struct {
	ValidateOnly bool                       `json:"validate_only"`
	Message      map[string]json.RawMessage `json:"message"`
}

// messageFields are the fields of an FCM v1 Message.
var messageFields = map[string]bool{
	"name": true, "data": true, "notification": true, "android": true, "webpush": true,
	"apns": true, "fcm_options": true, "token": true, "topic": true, "condition": true,
}

// message is the part of a Message the server reads.
type message struct {
	Data         map[string]string `json:"data"`
	Notification *struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"notification"`
	Android *struct {
		CollapseKey string `json:"collapse_key"`
		Priority    string `json:"priority"`
		TTL         string `json:"ttl"`
	} `json:"android"`
	APNS *struct {
		Headers map[string]string `json:"headers"`
	} `json:"apns"`
	Webpush *struct {
		Headers map[string]string `json:"headers"`
	} `json:"webpush"`
	Token     *string `json:"token"`
	Topic     *string `json:"topic"`
	Condition *string `json:"condition"`
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if status, after := s.failure(); status != 0 {
		f, ok := failures[status]
		if !ok {
			f = [3]string{"UNKNOWN", "UNSPECIFIED_ERROR", http.StatusText(status)}
		}
		writeError(w, status, f[0], f[2], f[1], after)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			"", 0)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.", "", 0)
		return
	}
	var req sendRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), "", 0)
		return
	}
	for k := range req.Message {
		if !messageFields[k] {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
				fmt.Sprintf("Invalid JSON payload received. Unknown name %q at 'message': Cannot find field.", k), "", 0)
			return
		}
	}
	raw, _ := json.Marshal(req.Message)
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), "INVALID_ARGUMENT", 0)
		return
	}
	if msg := invalid(&m); msg != "" {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg, "INVALID_ARGUMENT", 0)
		return
	}
	rec := Received{
		Project:      r.PathValue("project"),
		ValidateOnly: req.ValidateOnly,
		Data:         m.Data,
		Message:      raw,
		At:           at,
		Proto:        r.Proto,
	}
	rec.Token, rec.Topic, rec.Condition = deref(m.Token), deref(m.Topic), deref(m.Condition)
	if m.Notification != nil {
		rec.Title, rec.Body = m.Notification.Title, m.Notification.Body
	}
	if a := m.Android; a != nil {
		rec.CollapseKey, rec.Priority = a.CollapseKey, a.Priority
		if a.TTL != "" {
			secs, err := strconv.ParseFloat(strings.TrimSuffix(a.TTL, "s"), 64)
			if err != nil || !strings.HasSuffix(a.TTL, "s") || secs < 0 {
				writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
					fmt.Sprintf("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), Field 'ttl', Illegal duration format; duration must end with 's' %q", a.TTL),
					"INVALID_ARGUMENT", 0)
				return
			}
			rec.TTL = time.Duration(secs * float64(time.Second))
		}
	}
	if m.APNS != nil {
		rec.APNSHeaders = m.APNS.Headers
	}
	if m.Webpush != nil {
		rec.WebpushHeaders = m.Webpush.Headers
	}

	s.mu.Lock()
	if rec.Token != "" && s.unregistered[rec.Token] {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED", 0)
		return
	}
	rec.Name = fmt.Sprintf("projects/%s/messages/%d", rec.Project, s.nextID.Add(1))
	s.messages = append(s.messages, rec)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	fmt.Fprintf(w, "{\n  \"name\": %q\n}\n", rec.Name)
}

// invalid returns why FCM would refuse m with INVALID_ARGUMENT, or "".
func invalid(m *message) string {
	targets := 0
	for _, t := range []*string{m.Token, m.Topic, m.Condition} {
		if t != nil {
			targets++
		}
	}
	switch {
	case targets == 0:
		return "Recipient of the message is not set."
	case targets > 1:
		return "Invalid value at 'message': oneof field 'target' is already set."
	case m.Token != nil && !validToken(*m.Token):
		return "The registration token is not a valid FCM registration token"
	}
	for k := range m.Data {
		l := strings.ToLower(k)
		if k == "" || l == "from" || l == "message_type" || strings.HasPrefix(l, "google") || strings.HasPrefix(l, "gcm") {
			return fmt.Sprintf("Invalid data payload key: %q", k)
		}
	}
	return ""
}

// validToken reports whether t looks like a registration token: not
// empty, letters, digits and "-_:." only.
func validToken(t string) bool {
	if t == "" {
		return false
	}
	for _, c := range t {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_:.", c)
		if !ok {
			return false
		}
	}
	return true
}

// writeError writes a Google API error, with an FcmError detail when
// fcmCode is set and a Retry-After header when after > 0.
func writeError(w http.ResponseWriter, code int, status, message, fcmCode string, after time.Duration) {
	type detail struct {
		Type      string `json:"@type"`
		ErrorCode string `json:"errorCode"`
	}
	var e struct {
		Error struct {
			Code    int      `json:"code"`
			Message string   `json:"message"`
			Status  string   `json:"status"`
			Details []detail `json:"details,omitempty"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message, e.Error.Status = code, message, status
	if fcmCode != "" {
		e.Error.Details = []detail{{Type: "type.googleapis.com/google.firebase.fcm.v1.FcmError", ErrorCode: fcmCode}}
	}
	b, _ := json.MarshalIndent(e, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if after > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((after+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
