package loyalty

import "time"

// Identity is a signed-in user, as their verified ID token says.
type Identity struct {
	// UID is the Firebase user id.
	UID string
	// AuthTime is when the user last signed in (not when the token was
	// refreshed); zero when unknown, as for dev tokens.
	AuthTime time.Time
}
