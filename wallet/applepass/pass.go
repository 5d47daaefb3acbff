package applepass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Pass is the content of pass.json, as Apple's "Pass" reference names its
// keys: the subset a store card uses. Optional keys are left out when
// empty. Validate checks it against Apple's rules.
type Pass struct {
	// FormatVersion is always 1.
	FormatVersion      int    `json:"formatVersion"`
	PassTypeIdentifier string `json:"passTypeIdentifier"`
	SerialNumber       string `json:"serialNumber"`
	// TeamIdentifier is the 10-character team ID of the certificate that
	// signs the pass.
	TeamIdentifier string `json:"teamIdentifier"`
	// OrganizationName is shown in notifications and on the lock screen.
	OrganizationName string `json:"organizationName"`
	// Description is what VoiceOver reads for the pass.
	Description string `json:"description"`
	LogoText    string `json:"logoText,omitempty"`

	// BackgroundColor, ForegroundColor and LabelColor are CSS colors in
	// the form "rgb(0, 112, 74)".
	BackgroundColor string `json:"backgroundColor,omitempty"`
	ForegroundColor string `json:"foregroundColor,omitempty"`
	LabelColor      string `json:"labelColor,omitempty"`

	// WebServiceURL is where devices register for and fetch updates, with
	// AuthenticationToken as their credential; both or neither are set.
	WebServiceURL       string `json:"webServiceURL,omitempty"`
	AuthenticationToken string `json:"authenticationToken,omitempty"`

	// Barcodes are the codes the pass can show; Wallet shows the first
	// one the device supports.
	Barcodes []Barcode `json:"barcodes,omitempty"`
	// Barcode is the code for iOS 8 and earlier, which ignore Barcodes.
	Barcode *Barcode `json:"barcode,omitempty"`

	// The pass style: exactly one is set, and Treue makes only store
	// cards. The others are here so that Validate can reject them.
	StoreCard    *Fields `json:"storeCard,omitempty"`
	Coupon       *Fields `json:"coupon,omitempty"`
	EventTicket  *Fields `json:"eventTicket,omitempty"`
	Generic      *Fields `json:"generic,omitempty"`
	BoardingPass *Fields `json:"boardingPass,omitempty"`

	// SharingProhibited hides the share button (Wallet still lets people
	// send the .pkpass file by other means).
	SharingProhibited bool `json:"sharingProhibited,omitempty"`
	// ExpirationDate makes Wallet show the pass as expired from then on.
	ExpirationDate time.Time `json:"expirationDate,omitzero"`
	// Voided shows the pass as no longer valid.
	Voided bool `json:"voided,omitempty"`
	// RelevantDate puts the pass on the lock screen around that time
	// (superseded by relevantDates in iOS 18; enough for a store card).
	RelevantDate time.Time `json:"relevantDate,omitzero"`
}

// Fields are the groups of fields on the front and back of a pass.
type Fields struct {
	HeaderFields    []Field `json:"headerFields,omitempty"`
	PrimaryFields   []Field `json:"primaryFields,omitempty"`
	SecondaryFields []Field `json:"secondaryFields,omitempty"`
	AuxiliaryFields []Field `json:"auxiliaryFields,omitempty"`
	BackFields      []Field `json:"backFields,omitempty"`
}

// Field is one field of a pass (Apple's PassFieldContent).
type Field struct {
	// Key is unique among all fields of the pass.
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
	// Value is a string (a text or an ISO 8601 date with a time zone) or
	// a number.
	Value FieldValue `json:"value"`
	// ChangeMessage is the notification text Wallet shows when Value
	// changes in an update, with %@ standing for the new value; or a key
	// of pass.strings that holds such a text. Empty: no notification.
	ChangeMessage string `json:"changeMessage,omitempty"`

	// DateStyle and TimeStyle show Value as a date and time: one of the
	// PKDateStyle constants. Value must then be an ISO 8601 date-time with
	// a time zone.
	DateStyle string `json:"dateStyle,omitempty"`
	TimeStyle string `json:"timeStyle,omitempty"`
	// IsRelative shows the date relative to now ("in 3 days").
	IsRelative bool `json:"isRelative,omitempty"`
	// IgnoresTimeZone shows the date in the time zone written in Value
	// instead of the device's.
	IgnoresTimeZone bool `json:"ignoresTimeZone,omitempty"`

	// NumberStyle formats a number Value: one of the PKNumberStyle
	// constants.
	NumberStyle string `json:"numberStyle,omitempty"`
	// CurrencyCode shows a number Value as an amount of that ISO 4217
	// currency.
	CurrencyCode string `json:"currencyCode,omitempty"`

	// TextAlignment is one of the PKTextAlignment constants; Wallet
	// ignores it on primary and back fields.
	TextAlignment string `json:"textAlignment,omitempty"`
	// AttributedValue overrides Value on the back of the pass and may hold
	// <a href> links.
	AttributedValue FieldValue `json:"attributedValue,omitzero"`
	// DataDetectorTypes are the data detectors Wallet runs on a back
	// field's value: nil runs all of them, an empty non-nil slice none
	// (it is written as []), so that a card number is not taken for a
	// phone number.
	DataDetectorTypes []string `json:"dataDetectorTypes,omitzero"`
}

// Barcode is a code shown on the pass.
type Barcode struct {
	// Format is one of the PKBarcodeFormat constants.
	Format  string `json:"format"`
	Message string `json:"message"`
	// MessageEncoding is the IANA name of the encoding the message is
	// put in the code with, usually "iso-8859-1".
	MessageEncoding string `json:"messageEncoding"`
	// AltText is shown below the code, for people to read out or type.
	AltText string `json:"altText,omitempty"`
}

// Barcode formats.
const (
	BarcodeQR      = "PKBarcodeFormatQR"
	BarcodePDF417  = "PKBarcodeFormatPDF417"
	BarcodeAztec   = "PKBarcodeFormatAztec"
	BarcodeCode128 = "PKBarcodeFormatCode128"
)

// Field styles from Apple's enumerations.
const (
	DateStyleNone   = "PKDateStyleNone"
	DateStyleShort  = "PKDateStyleShort"
	DateStyleMedium = "PKDateStyleMedium"
	DateStyleLong   = "PKDateStyleLong"
	DateStyleFull   = "PKDateStyleFull"

	NumberStyleDecimal    = "PKNumberStyleDecimal"
	NumberStylePercent    = "PKNumberStylePercent"
	NumberStyleScientific = "PKNumberStyleScientific"
	NumberStyleSpellOut   = "PKNumberStyleSpellOut"

	TextAlignmentLeft    = "PKTextAlignmentLeft"
	TextAlignmentCenter  = "PKTextAlignmentCenter"
	TextAlignmentRight   = "PKTextAlignmentRight"
	TextAlignmentNatural = "PKTextAlignmentNatural"
)

// JSON returns p as pass.json. It returns a *ValidationError when p breaks
// a rule Validate checks, so that no invalid pass is ever signed.
func (p *Pass) JSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// FieldValue is a field's value: a string or a number. The zero value is
// unset. It marshals as a JSON string or number and unmarshals only from
// those.
type FieldValue struct {
	s     string
	isSet bool
	isNum bool // s holds the number in JSON form
}

// StringValue returns the field value s.
func StringValue(s string) FieldValue { return FieldValue{s: s, isSet: true} }

// IntValue returns the field value n, a JSON number.
func IntValue(n int64) FieldValue {
	return FieldValue{s: strconv.FormatInt(n, 10), isSet: true, isNum: true}
}

// DateValue returns the field value t as an ISO 8601 date-time with its
// time zone offset, the form Wallet reads dates in.
func DateValue(t time.Time) FieldValue { return StringValue(t.Format(time.RFC3339)) }

// IsZero reports whether v is unset.
func (v FieldValue) IsZero() bool { return !v.isSet }

// IsNumber reports whether v is a number.
func (v FieldValue) IsNumber() bool { return v.isNum }

// String returns v as written: the string, or the number in JSON form.
func (v FieldValue) String() string { return v.s }

// MarshalJSON writes v as a JSON string or number; unset is null.
func (v FieldValue) MarshalJSON() ([]byte, error) {
	switch {
	case !v.isSet:
		return []byte("null"), nil
	case v.isNum:
		return []byte(v.s), nil
	}
	return json.Marshal(v.s)
}

// UnmarshalJSON reads a JSON string or number. It returns an error for any
// other JSON value.
func (v *FieldValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = StringValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil || n == "" {
		return fmt.Errorf("field value %.20s: want a string or a number", b)
	}
	*v = FieldValue{s: n.String(), isSet: true, isNum: true}
	return nil
}
