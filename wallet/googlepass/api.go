package googlepass

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/api/walletobjects/v1"
)

// WalletAPI is the part of the Google Wallet REST API Treue writes loyalty
// classes and objects through. RESTClient implements it; LogAPI, the
// development default, logs what it would send.
//
// Errors from Google are *APIError values.
type WalletAPI interface {
	// InsertClass creates a class; an APIError with status 409 says it
	// exists.
	InsertClass(ctx context.Context, c *walletobjects.LoyaltyClass) error
	// UpdateClass replaces the class with c.Id.
	UpdateClass(ctx context.Context, c *walletobjects.LoyaltyClass) error
	// InsertObject creates an object; status 409 says it exists.
	InsertObject(ctx context.Context, o *walletobjects.LoyaltyObject) error
	// PatchObject updates the fields of the object with o.Id that o sets;
	// status 404 says there is no such object.
	PatchObject(ctx context.Context, o *walletobjects.LoyaltyObject) error
	// AddMessage adds m to the object's messages; a message of type
	// TEXT_AND_NOTIFY also notifies the phone.
	AddMessage(ctx context.Context, objectID string, m *walletobjects.Message) error
}

// APIError is an error answer of the Wallet REST API.
type APIError struct {
	// Op names the call: "patch object 3388….demo-cafe-m1".
	Op     string
	Status int
	// RetryAfter is the wait Google asked for with Retry-After (429, 503);
	// zero when it did not say.
	RetryAfter time.Duration
	// Message is Google's error message, clipped.
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("googlepass: %s: %d %s: %s", e.Op, e.Status, http.StatusText(e.Status), e.Message)
}

// Temporary reports whether the call may succeed when tried again: Google
// was rate limiting (429) or failing (5xx).
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// statusOf returns the HTTP status of an APIError in err's chain, or 0.
func statusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// maxRetryAfter bounds a wait Google asks for: a longer one is cut to it,
// so a bad header cannot park the sync for hours.
const maxRetryAfter = 5 * time.Minute

// parseRetryAfter returns the wait a Retry-After header value asks for at
// now: delay-seconds or an HTTP date, at most maxRetryAfter; zero when v is
// empty, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = maxRetryAfter
		if secs < int64(maxRetryAfter/time.Second) {
			d = time.Duration(secs) * time.Second
		}
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}
