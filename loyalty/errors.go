package loyalty

import (
	"errors"
	"fmt"
)

// The kinds of error the Service returns. Every error from this package wraps
// exactly one of them; the text after the kind is safe to show to a client.
var (
	// ErrInvalid: the input is malformed or out of range.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound: the thing named does not exist (in the caller's program).
	ErrNotFound = errors.New("not found")
	// ErrNotEnrolled: the signed-in user has no membership in the program.
	ErrNotEnrolled = errors.New("not enrolled")
	// ErrInsufficientPoints: the balance does not cover the spend.
	ErrInsufficientPoints = errors.New("insufficient points")
	// ErrConflict: the request contradicts an earlier one, such as an
	// idempotency key reused with other parameters or a receipt posted twice.
	ErrConflict = errors.New("conflict")
	// ErrFailedPrecondition: the request is well formed but the state does not
	// allow it, such as a voucher already used.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnauthenticated: the credentials are missing or wrong.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrLimit: a per-member limit is reached, such as the number of
	// consent records.
	ErrLimit = errors.New("limit reached")
)

// errorf returns an error that wraps kind, with a message safe for clients.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}
