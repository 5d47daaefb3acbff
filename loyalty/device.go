package loyalty

import (
	"context"
	"time"
)

// Platform is the kind of app a device runs.
type Platform string

// The platforms the app runs on.
const (
	PlatformIOS     Platform = "ios"
	PlatformAndroid Platform = "android"
	PlatformWeb     Platform = "web"
)

// Limits of device registrations.
const (
	// MaxDevicesPerMember bounds a member's registered devices; registering
	// one more removes the one seen longest ago.
	MaxDevicesPerMember = 10
	// MaxPushTokenLen bounds an FCM registration token.
	MaxPushTokenLen = 4096
	// MaxAppVersionLen bounds the app version string.
	MaxAppVersionLen = 64
)

// Device is an app installation a member receives pushes on.
type Device struct {
	ProgramID string
	MemberID  string
	// Token is the FCM registration token, unique per program: registering
	// it for another member moves it.
	Token      string
	Platform   Platform
	Locale     Locale
	AppVersion string
	// TimeZone is the device's IANA time zone; empty means the program's.
	TimeZone     string
	RegisteredAt time.Time
	// SeenAt is when the app last registered the token.
	SeenAt time.Time
}

// DeviceStore is the part of a Tx that keeps devices.
type DeviceStore interface {
	// PutDevice creates d, or updates the device with d's token in d's
	// program (moving it to d.MemberID and keeping its RegisteredAt).
	PutDevice(ctx context.Context, d Device) error
	// Devices returns the member's devices, most recently seen first.
	Devices(ctx context.Context, programID, memberID string) ([]Device, error)
	// DeleteDevice removes the member's device with token and reports
	// whether there was one.
	DeleteDevice(ctx context.Context, programID, memberID, token string) (bool, error)
	// DeleteDeviceTokens removes the program's devices with these tokens,
	// whoever they belong to, and returns how many it removed.
	DeleteDeviceTokens(ctx context.Context, programID string, tokens []string) (int, error)
}

// Recipient is what a push to a member needs: the member (with their
// locale), their devices, their consents and the program's time zone.
type Recipient struct {
	Member   Member
	Devices  []Device
	Consents []ConsentState
	// ProgramName and TimeZone are the program's; TimeZone is never empty.
	ProgramName string
	TimeZone    string
}

// Consented reports whether the member's consent for p is granted.
func (r Recipient) Consented(p Purpose) bool {
	for _, c := range r.Consents {
		if c.Purpose == p {
			return c.Granted
		}
	}
	return p.GrantedByDefault()
}
