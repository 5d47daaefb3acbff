package applepass

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ValidationError is a rule of pass.json a Pass breaks.
type ValidationError struct {
	// Key is the path of the key in pass.json, such as
	// "storeCard.primaryFields[0].value"; empty for the file as a whole.
	Key    string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Key == "" {
		return "pass.json: " + e.Reason
	}
	return "pass.json " + e.Key + ": " + e.Reason
}

// Limits Validate enforces. Apple documents how many fields a store card
// shows in each area; the limits on back fields and on the file's size are
// ours, to keep passes small and their back readable.
const (
	MaxHeaderFields  = 3
	MaxPrimaryFields = 1
	// MaxSecondaryAuxiliaryFields bounds secondary and auxiliary fields
	// together.
	MaxSecondaryAuxiliaryFields = 4
	MaxBackFields               = 20
	// MaxPassJSON bounds the size of pass.json in bytes.
	MaxPassJSON = 64 << 10
	// MinAuthTokenLen is the shortest authenticationToken Wallet accepts.
	MinAuthTokenLen = 16
)

var (
	passTypeIDPattern = regexp.MustCompile(`^pass(\.[A-Za-z0-9-]+)+$`)
	// Serial numbers appear in the web service's URL paths.
	serialPattern   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	teamIDPattern   = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	rgbPattern      = regexp.MustCompile(`^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

var (
	barcodeFormats = stringSet(BarcodeQR, BarcodePDF417, BarcodeAztec, BarcodeCode128)
	dateStyles     = stringSet(DateStyleNone, DateStyleShort, DateStyleMedium, DateStyleLong, DateStyleFull)
	numberStyles   = stringSet(NumberStyleDecimal, NumberStylePercent, NumberStyleScientific, NumberStyleSpellOut)
	textAlignments = stringSet(TextAlignmentLeft, TextAlignmentCenter, TextAlignmentRight, TextAlignmentNatural)
	dataDetectors  = stringSet("PKDataDetectorTypePhoneNumber", "PKDataDetectorTypeLink",
		"PKDataDetectorTypeAddress", "PKDataDetectorTypeCalendarEvent")
)

func stringSet(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// Validate returns a *ValidationError naming the first key of p that breaks
// Apple's rules for pass.json (or the limits above), nil when p can be
// signed:
//   - formatVersion is 1; passTypeIdentifier ("pass.…"), serialNumber
//     (1–128 letters, digits, '.', '_', '-'), teamIdentifier (10 upper-case
//     letters or digits), organizationName and description are set;
//   - colors are "rgb(r, g, b)" with components 0–255;
//   - webServiceURL and authenticationToken are both set or both empty; the
//     token has at least MinAuthTokenLen printable ASCII characters; the
//     URL is https, or http on a loopback host for development (Wallet
//     accepts http only on a device with "Allow HTTP Services" turned on
//     in its developer settings), without query or fragment;
//   - barcodes have a known format, a message and an encoding; a Code128
//     message is printable ASCII, an iso-8859-1 message only Latin-1; the
//     legacy barcode is not Code128, which iOS 8 cannot show;
//   - the pass has exactly one style, storeCard, with at most
//     MaxHeaderFields header, MaxPrimaryFields primary,
//     MaxSecondaryAuxiliaryFields secondary and auxiliary together and
//     MaxBackFields back fields;
//   - field keys are set and unique across all fields; values are set;
//     styles, alignments and data detectors come from Apple's
//     enumerations; a date field's value is an ISO 8601 date-time with a
//     time zone; numberStyle and currencyCode go with number values only;
//     a changeMessage holds no format verb but %@ (and %%);
//   - pass.json is at most MaxPassJSON bytes.
func (p *Pass) Validate() error {
	if err := p.validateHeader(); err != nil {
		return err
	}
	if err := p.validateWebService(); err != nil {
		return err
	}
	for i, b := range p.Barcodes {
		if err := b.validate(fmt.Sprintf("barcodes[%d]", i)); err != nil {
			return err
		}
	}
	if p.Barcode != nil {
		if err := p.Barcode.validate("barcode"); err != nil {
			return err
		}
		if p.Barcode.Format == BarcodeCode128 {
			return passInvalid("barcode.format", "%s cannot be the legacy barcode: iOS 8 and earlier cannot show it", BarcodeCode128)
		}
	}
	if err := p.validateStyle(); err != nil {
		return err
	}
	if err := p.StoreCard.validate("storeCard"); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return passInvalid("", "%v", err)
	}
	if len(b) > MaxPassJSON {
		return passInvalid("", "%d bytes, at most %d", len(b), MaxPassJSON)
	}
	return nil
}

func passInvalid(key, format string, args ...any) *ValidationError {
	return &ValidationError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// validateHeader checks the identifying keys and the colors.
func (p *Pass) validateHeader() error {
	switch {
	case p.FormatVersion != 1:
		return passInvalid("formatVersion", "is %d, must be 1", p.FormatVersion)
	case !passTypeIDPattern.MatchString(p.PassTypeIdentifier):
		return passInvalid("passTypeIdentifier", "%q: want a pass type identifier such as pass.com.example.loyalty", p.PassTypeIdentifier)
	case !serialPattern.MatchString(p.SerialNumber):
		return passInvalid("serialNumber", "%q: want 1 to 128 letters, digits, '.', '_' or '-'", p.SerialNumber)
	case !teamIDPattern.MatchString(p.TeamIdentifier):
		return passInvalid("teamIdentifier", "%q: want the 10-character team ID", p.TeamIdentifier)
	case strings.TrimSpace(p.OrganizationName) == "":
		return passInvalid("organizationName", "missing")
	case strings.TrimSpace(p.Description) == "":
		return passInvalid("description", "missing")
	}
	for _, c := range []struct{ key, v string }{
		{"backgroundColor", p.BackgroundColor}, {"foregroundColor", p.ForegroundColor}, {"labelColor", p.LabelColor},
	} {
		if c.v != "" && !validRGB(c.v) {
			return passInvalid(c.key, "%q: want rgb(r, g, b) with components 0 to 255", c.v)
		}
	}
	return nil
}

func validRGB(s string) bool {
	m := rgbPattern.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	for _, c := range m[1:] {
		if n, err := strconv.Atoi(c); err != nil || n > 255 {
			return false
		}
	}
	return true
}

// validateWebService checks webServiceURL and authenticationToken.
func (p *Pass) validateWebService() error {
	switch {
	case p.WebServiceURL == "" && p.AuthenticationToken == "":
		return nil
	case p.WebServiceURL == "":
		return passInvalid("webServiceURL", "missing: authenticationToken is set")
	case p.AuthenticationToken == "":
		return passInvalid("authenticationToken", "missing: webServiceURL is set")
	case len(p.AuthenticationToken) < MinAuthTokenLen:
		return passInvalid("authenticationToken", "%d characters, at least %d", len(p.AuthenticationToken), MinAuthTokenLen)
	}
	for _, r := range p.AuthenticationToken {
		if r < 0x21 || r > 0x7e {
			return passInvalid("authenticationToken", "may hold only printable ASCII characters without spaces")
		}
	}
	u, err := url.Parse(p.WebServiceURL)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return passInvalid("webServiceURL", "%q: want an absolute https URL", p.WebServiceURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(p.WebServiceURL, "?"):
		return passInvalid("webServiceURL", "%q: want no user, query or fragment", p.WebServiceURL)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return passInvalid("webServiceURL", "%q: http only on a loopback host, for development: use https", p.WebServiceURL)
	default:
		return passInvalid("webServiceURL", "%q: want an absolute https URL", p.WebServiceURL)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (b *Barcode) validate(key string) error {
	switch {
	case !barcodeFormats[b.Format]:
		return passInvalid(key+".format", "%q: want %s, %s, %s or %s", b.Format, BarcodeQR, BarcodePDF417, BarcodeAztec, BarcodeCode128)
	case b.Message == "":
		return passInvalid(key+".message", "missing")
	case b.MessageEncoding == "":
		return passInvalid(key+".messageEncoding", "missing: want iso-8859-1")
	}
	for _, r := range b.Message {
		switch {
		case b.Format == BarcodeCode128 && (r < 0x20 || r > 0x7e):
			return passInvalid(key+".message", "%s holds only printable ASCII, not %q", BarcodeCode128, r)
		case strings.EqualFold(b.MessageEncoding, "iso-8859-1") && r > 0xff:
			return passInvalid(key+".message", "%q is not in iso-8859-1", r)
		}
	}
	return nil
}

// validateStyle checks that the pass has one style, a store card.
func (p *Pass) validateStyle() error {
	var styles []string
	for _, s := range []struct {
		key string
		f   *Fields
	}{
		{"storeCard", p.StoreCard}, {"coupon", p.Coupon}, {"eventTicket", p.EventTicket},
		{"generic", p.Generic}, {"boardingPass", p.BoardingPass},
	} {
		if s.f != nil {
			styles = append(styles, s.key)
		}
	}
	switch {
	case len(styles) == 0:
		return passInvalid("storeCard", "missing: a pass needs exactly one style")
	case len(styles) > 1:
		return passInvalid(styles[1], "a pass has exactly one style, and %s is set", styles[0])
	case styles[0] != "storeCard":
		return passInvalid(styles[0], "only storeCard passes are made here")
	}
	return nil
}

// validate checks the fields of a store card found under key.
func (f *Fields) validate(key string) error {
	switch {
	case len(f.HeaderFields) > MaxHeaderFields:
		return passInvalid(key+".headerFields", "%d fields, a store card shows at most %d", len(f.HeaderFields), MaxHeaderFields)
	case len(f.PrimaryFields) > MaxPrimaryFields:
		return passInvalid(key+".primaryFields", "%d fields, a store card shows at most %d", len(f.PrimaryFields), MaxPrimaryFields)
	case len(f.SecondaryFields)+len(f.AuxiliaryFields) > MaxSecondaryAuxiliaryFields:
		return passInvalid(key+".auxiliaryFields", "%d secondary and auxiliary fields, a store card shows at most %d",
			len(f.SecondaryFields)+len(f.AuxiliaryFields), MaxSecondaryAuxiliaryFields)
	case len(f.BackFields) > MaxBackFields:
		return passInvalid(key+".backFields", "%d fields, at most %d", len(f.BackFields), MaxBackFields)
	}
	seen := map[string]string{}
	for _, area := range []struct {
		name   string
		fields []Field
	}{
		{"headerFields", f.HeaderFields}, {"primaryFields", f.PrimaryFields}, {"secondaryFields", f.SecondaryFields},
		{"auxiliaryFields", f.AuxiliaryFields}, {"backFields", f.BackFields},
	} {
		for i, fd := range area.fields {
			path := fmt.Sprintf("%s.%s[%d]", key, area.name, i)
			if prev, ok := seen[fd.Key]; ok {
				return passInvalid(path+".key", "%q is also the key of %s: keys must be unique", fd.Key, prev)
			}
			seen[fd.Key] = path
			if err := fd.validate(path); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks one field found under path.
func (f *Field) validate(path string) error {
	switch {
	case f.Key == "":
		return passInvalid(path+".key", "missing")
	case f.Value.IsZero():
		return passInvalid(path+".value", "missing: want a string or a number")
	case f.DateStyle != "" && !dateStyles[f.DateStyle]:
		return passInvalid(path+".dateStyle", "%q is not a PKDateStyle", f.DateStyle)
	case f.TimeStyle != "" && !dateStyles[f.TimeStyle]:
		return passInvalid(path+".timeStyle", "%q is not a PKDateStyle", f.TimeStyle)
	case (f.IsRelative || f.IgnoresTimeZone) && f.DateStyle == "" && f.TimeStyle == "":
		return passInvalid(path, "isRelative and ignoresTimeZone need a dateStyle or timeStyle")
	case f.NumberStyle != "" && !numberStyles[f.NumberStyle]:
		return passInvalid(path+".numberStyle", "%q is not a PKNumberStyle", f.NumberStyle)
	case f.NumberStyle != "" && !f.Value.IsNumber():
		return passInvalid(path+".value", "numberStyle needs a number value")
	case f.CurrencyCode != "" && !currencyPattern.MatchString(f.CurrencyCode):
		return passInvalid(path+".currencyCode", "%q is not an ISO 4217 code", f.CurrencyCode)
	case f.CurrencyCode != "" && !f.Value.IsNumber():
		return passInvalid(path+".value", "currencyCode needs a number value")
	case f.TextAlignment != "" && !textAlignments[f.TextAlignment]:
		return passInvalid(path+".textAlignment", "%q is not a PKTextAlignment", f.TextAlignment)
	case !utf8.ValidString(f.Label) || !utf8.ValidString(f.Value.String()):
		return passInvalid(path, "label and value must be UTF-8")
	}
	if f.DateStyle != "" || f.TimeStyle != "" {
		if f.Value.IsNumber() || !isISODateTime(f.Value.String()) {
			return passInvalid(path+".value", "%q: a date field needs an ISO 8601 date-time with a time zone", f.Value)
		}
	}
	if bad := badFormatVerb(f.ChangeMessage); bad != "" {
		return passInvalid(path+".changeMessage", "%q: only %%@ may stand for the value, not %s", f.ChangeMessage, bad)
	}
	for i, d := range f.DataDetectorTypes {
		if !dataDetectors[d] {
			return passInvalid(fmt.Sprintf("%s.dataDetectorTypes[%d]", path, i), "%q is not a PKDataDetectorType", d)
		}
	}
	return nil
}

// isISODateTime reports whether s is an ISO 8601 date-time with a time
// zone, with or without seconds.
func isISODateTime(s string) bool {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// badFormatVerb returns the first format verb in msg other than %@ and %%,
// or "".
func badFormatVerb(msg string) string {
	for i := 0; i < len(msg); i++ {
		if msg[i] != '%' {
			continue
		}
		if i+1 < len(msg) && (msg[i+1] == '@' || msg[i+1] == '%') {
			i++
			continue
		}
		end := min(i+2, len(msg))
		return msg[i:end]
	}
	return ""
}
