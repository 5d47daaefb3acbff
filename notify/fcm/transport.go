package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The Firebase Admin SDK retries on its own, and that cannot be configured
// from outside: messaging.NewClient wraps its HTTP client in
// internal.WithDefaultRetryConfig (firebase.google.com/go/v4@v4.19.0,
// internal/http_client.go), which retries
//
//   - every transport error, including one reading the response body, and
//   - HTTP 503 (not 500, not 429),
//
// up to 4 times per message, after 0s, 1s, 2s and 4s or the response's
// Retry-After when larger (up to 2 minutes each; a longer Retry-After
// ends the retries). Every message of a SendEach call goes through this
// loop. On top of our own retries a 503 would be sent up to
// 5 × (1+MaxRetries) times and a Send could block for many minutes,
// without our backoff, jitter, token bucket or counters seeing it.
//
// So the SDK never sees anything it would retry: retryGuard, the
// outermost transport of the SDK's HTTP client, reads each response body
// itself, turns a transport error into a synthetic 502 response with
// status UNAVAILABLE, and renumbers a 503 to 500 (the JSON body, and so
// the SDK's error code UNAVAILABLE, stays as FCM sent it). It records what
// it changed in the header statusHeader, so classify still sees the real
// status. The one remaining SDK retry path is a transport error after ctx
// ended, which the SDK returns at once as ctx.Err(). With the guard each
// push makes at most 1+MaxRetries HTTP requests, each bounded by
// RequestTimeout, with at most MaxBackoff between them.

// statusHeader carries the status FCM sent when retryGuard changed it, or
// "network" on a response retryGuard made up for a transport error.
const statusHeader = "X-Treue-Fcm-Status"

// maxResponseBody bounds what retryGuard reads of a response; FCM's are
// well under 1 KiB.
const maxResponseBody = 1 << 20

// retryGuard keeps the SDK from retrying (see above) and bounds each
// request by timeout.
type retryGuard struct {
	base    http.RoundTripper
	timeout time.Duration
}

// RoundTrip implements http.RoundTripper. It returns an error only when
// the request's context ended.
func (g *retryGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	if g.timeout > 0 {
		ctx, cancel := context.WithTimeout(parent, g.timeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	resp, err := g.base.RoundTrip(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		resp.Body.Close()
	}
	if err != nil {
		if parent.Err() != nil {
			return nil, err
		}
		return networkResponse(req, err), nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	if resp.StatusCode == http.StatusServiceUnavailable {
		resp.Header.Set(statusHeader, strconv.Itoa(resp.StatusCode))
		resp.StatusCode = http.StatusInternalServerError
		resp.Status = "500 Internal Server Error (503 from FCM)"
	}
	return resp, nil
}

// networkResponse returns a 502 response with a Google API error of status
// UNAVAILABLE describing err.
func networkResponse(req *http.Request, err error) *http.Response {
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	e.Error.Code = http.StatusBadGateway
	e.Error.Message = "network error: " + err.Error()
	e.Error.Status = "UNAVAILABLE"
	body, _ := json.Marshal(e)
	return &http.Response{
		Status:     "502 Bad Gateway (network error)",
		StatusCode: http.StatusBadGateway,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Content-Type": {"application/json"},
			statusHeader:   {"network"},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
