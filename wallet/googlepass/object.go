package googlepass

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/loyalty"
)

// AppLinks are the links a loyalty object carries back into the app.
type AppLinks struct {
	// AppURI opens the program's app (or its web page) on the member's
	// card; empty leaves the object without links.
	AppURI string
}

// Ids of the modules a loyalty object carries, for template overrides.
const (
	moduleExpiry = "expiry"
	moduleAppURI = "app"
)

// Texts of a loyalty object. Google recommends at most 9 characters for a
// points label and 35 for a module header.
var (
	tierLabel    = loyalty.Text{DE: "Status", EN: "Tier"}
	openAppLabel = loyalty.Text{DE: "Treue-App öffnen", EN: "Open the app"}
)

// NewLoyaltyObject returns the loyalty object of the card st of program p
// for the issuer issuerID, to insert or update through the Wallet API: its
// id (ObjectID) and class (ClassID), state ACTIVE, the card number as
// account id and as a barcode in the design's format (its digits in groups
// of four beneath), the balance as loyalty points labelled with the
// program's point name, the tier as secondary loyalty points, the next
// points to expire and their date (in p's time zone) as a text module when
// any are due, and a link to links.AppURI when it is set.
//
// Labels and texts are German by default with English translations, so
// Wallet shows them in the phone's language; where Google has no localized
// variant (the tier's name, the plain label, header and body fields) they
// are in the member's locale st.Locale. The object has no account name:
// Treue shows no personal name on a pass the member did not consent to.
//
// p is expected to be valid (loyalty.Program.Validate) and issuerID to
// pass ValidIssuerID; NewLoyaltyObject checks neither. An unknown time
// zone, which Validate refuses, shows dates in loyalty.DefaultTimeZone.
func NewLoyaltyObject(issuerID string, p loyalty.Program, st loyalty.CardState, links AppLinks) *walletobjects.LoyaltyObject {
	design := p.Pass.WithDefaults(p.Name)
	points := pointNames(st.PointName)
	o := &walletobjects.LoyaltyObject{
		Id:        ObjectID(issuerID, p.ID, st.MemberID),
		ClassId:   ClassID(issuerID, p.ID),
		State:     objectStateActive,
		AccountId: st.CardNumber,
		Barcode: &walletobjects.Barcode{
			Type:          barcodeType(design.BarcodeFormat),
			Value:         st.CardNumber,
			AlternateText: loyalty.GroupCardNumber(st.CardNumber),
		},
		LoyaltyPoints: &walletobjects.LoyaltyPoints{
			Label:          upperFirst(points.In(st.Locale)),
			LocalizedLabel: localizedText(loyalty.Text{DE: upperFirst(points.DE), EN: upperFirst(points.EN)}),
			// A balance of 0 is shown as 0, not left out.
			Balance: &walletobjects.LoyaltyPointsBalance{Int: st.Balance, ForceSendFields: []string{"Int"}},
		},
	}
	if tier := st.TierName.In(st.Locale); tier != "" {
		o.SecondaryLoyaltyPoints = &walletobjects.LoyaltyPoints{
			Label:          tierLabel.In(st.Locale),
			LocalizedLabel: localizedText(tierLabel),
			Balance:        &walletobjects.LoyaltyPointsBalance{String: tier},
		}
	}
	if st.NextExpiryPoints > 0 && !st.NextExpiry.IsZero() {
		header, body := expiryTexts(points, st.NextExpiryPoints, st.NextExpiry.In(programLocation(p.TimeZone)))
		o.TextModulesData = []*walletobjects.TextModuleData{{
			Id:              moduleExpiry,
			Header:          header.In(st.Locale),
			LocalizedHeader: localizedText(header),
			Body:            body.In(st.Locale),
			LocalizedBody:   localizedText(body),
		}}
	}
	if links.AppURI != "" {
		o.LinksModuleData = &walletobjects.LinksModuleData{Uris: []*walletobjects.Uri{{
			Id:                   moduleAppURI,
			Uri:                  links.AppURI,
			Description:          openAppLabel.In(st.Locale),
			LocalizedDescription: localizedText(openAppLabel),
		}}}
	}
	return o
}

// barcodeType returns Google's barcode type for a design's barcode format
// (loyalty.PassDesign.BarcodeFormat): QR_CODE for qr and for anything it
// does not know.
func barcodeType(format string) string {
	switch format {
	case "pdf417":
		return "PDF_417"
	case "aztec":
		return "AZTEC"
	case "code128":
		return "CODE_128"
	default:
		return "QR_CODE"
	}
}

// pointNames returns what a program calls its points in German and
// English: English falls back to German as loyalty.Text.In does, and a
// program that names none has Punkte and points.
func pointNames(t loyalty.Text) loyalty.Text {
	if t.DE == "" && t.EN == "" {
		return loyalty.Text{DE: "Punkte", EN: "points"}
	}
	if t.DE == "" {
		t.DE = t.EN
	}
	if t.EN == "" {
		t.EN = t.DE
	}
	return t
}

// expiryTexts returns the header and body of the text module announcing
// that n points, called points, expire on the day of at:
// "50 Sterne verfallen am 1. Februar 2027".
func expiryTexts(points loyalty.Text, n int64, at time.Time) (header, body loyalty.Text) {
	header = loyalty.Text{DE: "Verfallende " + upperFirst(points.DE), EN: "Expiring " + points.EN}
	body = loyalty.Text{
		DE: fmt.Sprintf("%s %s verfallen am %d. %s %d", loyalty.GroupThousands(n, "."), points.DE, at.Day(), monthsDE[at.Month()-1], at.Year()),
		EN: fmt.Sprintf("%s %s expire on %d %s %d", loyalty.GroupThousands(n, ","), points.EN, at.Day(), at.Month(), at.Year()),
	}
	return header, body
}

var monthsDE = [12]string{
	"Januar", "Februar", "März", "April", "Mai", "Juni",
	"Juli", "August", "September", "Oktober", "November", "Dezember",
}

// programLocation returns the time zone named tz, loyalty.DefaultTimeZone
// when tz is empty or unknown, and UTC when that is unknown too (no tzdata).
func programLocation(tz string) *time.Location {
	for _, name := range []string{tz, loyalty.DefaultTimeZone} {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
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
