package applepass

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/treue/treue/loyalty"
)

// CardPass is what a member's store card pass is made from.
type CardPass struct {
	Card   loyalty.CardState
	Design loyalty.PassDesign // the program's; defaults are applied here
	// TimeZone is the program's IANA time zone, which expiry dates are
	// shown in; empty means loyalty.DefaultTimeZone.
	TimeZone      string
	PassTypeID    string
	TeamID        string
	Serial        string
	AuthToken     string
	WebServiceURL string // empty: the pass is never updated (no webServiceURL/authenticationToken)
	// HolderName is shown only when the member consented; empty leaves it out.
	HolderName string
}

// cardTexts are the texts of a store card in one locale. Those with %s
// take the program's name or point name.
type cardTexts struct {
	description  string // program name
	tier         string
	holder       string
	expiring     string // point name
	expiresOn    string
	cardNumber   string
	howToCollect string // point name
	help         string // point name, program name
}

var cardTextsByLocale = map[loyalty.Locale]cardTexts{
	loyalty.LocaleDE: {
		description:  "Kundenkarte von %s",
		tier:         "Status",
		holder:       "Name",
		expiring:     "Verfallende %s",
		expiresOn:    "Verfallen am",
		cardNumber:   "Kartennummer",
		howToCollect: "So sammelst du %s",
		help:         "Zeig beim Bezahlen den Code auf dieser Karte, dann bekommst du %s gutgeschrieben. Prämien und deinen Verlauf findest du in der App von %s.",
	},
	loyalty.LocaleEN: {
		description:  "%s loyalty card",
		tier:         "Tier",
		holder:       "Name",
		expiring:     "Expiring %s",
		expiresOn:    "Expire on",
		cardNumber:   "Card number",
		howToCollect: "How to collect %s",
		help:         "Show the code on this card when you pay to collect %s. Find rewards and your history in the %s app.",
	},
}

// Field keys of a store card.
const (
	fieldBalance        = "balance"
	fieldTier           = "tier"
	fieldHolder         = "holder"
	fieldExpiringPoints = "expiringPoints"
	fieldExpiry         = "expiry"
	fieldCardNumber     = "cardNumber"
	fieldHelp           = "help"
)

// NewCardPass returns the validated pass.json content of a member's store
// card: the balance as the primary field, the tier (and the holder's name)
// as secondary fields, the next points to expire and their date as
// auxiliary fields, the card number and how to collect points on the back,
// and the card number as a barcode in the design's format with a QR code as
// fallback. Texts are in the member's locale; the changeMessages are
// pass.strings keys (see Localizations).
//
// It returns an error wrapping loyalty.ErrInvalid when in.Design is
// malformed, an error for an unknown in.TimeZone, and a *ValidationError
// when the pass breaks a rule of Validate, such as a missing identifier.
func NewCardPass(in CardPass) (*Pass, error) {
	c := in.Card
	design := in.Design.WithDefaults(c.ProgramName)
	if err := design.Validate(); err != nil {
		return nil, err
	}
	tz := in.TimeZone
	if tz == "" {
		tz = loyalty.DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	txt, ok := cardTextsByLocale[c.Locale]
	if !ok {
		txt = cardTextsByLocale[loyalty.DefaultLocale]
	}
	points := pointNameIn(c.PointName, c.Locale)

	p := &Pass{
		FormatVersion:      1,
		PassTypeIdentifier: in.PassTypeID,
		SerialNumber:       in.Serial,
		TeamIdentifier:     in.TeamID,
		OrganizationName:   c.ProgramName,
		Description:        fmt.Sprintf(txt.description, c.ProgramName),
		LogoText:           design.LogoText,
		BackgroundColor:    rgbColor(design.BackgroundColor),
		ForegroundColor:    rgbColor(design.ForegroundColor),
		LabelColor:         rgbColor(design.LabelColor),
		SharingProhibited:  true,
	}
	if in.WebServiceURL != "" {
		p.WebServiceURL, p.AuthenticationToken = in.WebServiceURL, in.AuthToken
	}
	p.Barcodes = cardBarcodes(design.BarcodeFormat, c.CardNumber)
	for i := range p.Barcodes {
		if p.Barcodes[i].Format != BarcodeCode128 {
			legacy := p.Barcodes[i]
			p.Barcode = &legacy
			break
		}
	}

	f := &Fields{
		PrimaryFields: []Field{{
			Key: fieldBalance, Label: upperFirst(points), Value: IntValue(c.Balance),
			NumberStyle: NumberStyleDecimal, ChangeMessage: keyBalanceChanged,
		}},
		SecondaryFields: []Field{{
			Key: fieldTier, Label: txt.tier, Value: StringValue(c.TierName.In(c.Locale)),
			ChangeMessage: keyTierChanged,
		}},
		BackFields: []Field{
			{
				Key: fieldCardNumber, Label: txt.cardNumber, Value: StringValue(loyalty.GroupCardNumber(c.CardNumber)),
				DataDetectorTypes: []string{}, // not a phone number
			},
			{
				Key: fieldHelp, Label: fmt.Sprintf(txt.howToCollect, points),
				Value: StringValue(fmt.Sprintf(txt.help, points, c.ProgramName)),
			},
		},
	}
	if in.HolderName != "" {
		f.SecondaryFields = append(f.SecondaryFields, Field{
			Key: fieldHolder, Label: txt.holder, Value: StringValue(in.HolderName),
			TextAlignment: TextAlignmentRight,
		})
	}
	if c.NextExpiryPoints > 0 && !c.NextExpiry.IsZero() {
		f.AuxiliaryFields = []Field{
			{
				Key: fieldExpiringPoints, Label: fmt.Sprintf(txt.expiring, points),
				Value: IntValue(c.NextExpiryPoints), NumberStyle: NumberStyleDecimal,
			},
			{
				// Points expire at the start of a day in the program's
				// time zone: shown as that day wherever the phone is.
				Key: fieldExpiry, Label: txt.expiresOn, Value: DateValue(c.NextExpiry.In(loc)),
				DateStyle: DateStyleMedium, TimeStyle: DateStyleNone, IgnoresTimeZone: true,
				TextAlignment: TextAlignmentRight,
			},
		}
	}
	p.StoreCard = f
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// cardBarcodes returns the barcodes of a card numbered number: in the
// design's format (loyalty.PassDesign.BarcodeFormat) and, unless that is
// QR, as a QR code for devices that cannot show it.
func cardBarcodes(format, number string) []Barcode {
	code := func(f string) Barcode {
		return Barcode{Format: f, Message: number, MessageEncoding: "iso-8859-1", AltText: loyalty.GroupCardNumber(number)}
	}
	var first string
	switch format {
	case "pdf417":
		first = BarcodePDF417
	case "aztec":
		first = BarcodeAztec
	case "code128":
		first = BarcodeCode128
	default:
		return []Barcode{code(BarcodeQR)}
	}
	return []Barcode{code(first), code(BarcodeQR)}
}

// rgbColor returns the "#rrggbb" color hex as "rgb(r, g, b)". hex must be
// valid (loyalty.PassDesign.Validate checks it).
func rgbColor(hex string) string {
	var r, g, b uint8
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return hex // left for Validate to report
	}
	return fmt.Sprintf("rgb(%d, %d, %d)", r, g, b)
}

// upperFirst returns s with its first letter in upper case: "stars" as a
// label reads "Stars".
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
