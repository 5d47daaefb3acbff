package googlepass

import (
	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/loyalty"
)

// Values of Google Wallet enums Treue sets.
const (
	reviewUnderReview  = "UNDER_REVIEW"
	oneUserAllDevices  = "ONE_USER_ALL_DEVICES"
	objectStateActive  = "ACTIVE"
	languageDefault    = "de" // the language of every LocalizedString's defaultValue
	languageTranslated = "en"
)

// ClassURLs are where Google finds what a loyalty class points to.
type ClassURLs struct {
	// Logo is the program logo's https URL; Google requires one.
	Logo string
	// Callback receives Google's save and delete callbacks (Handler);
	// empty leaves the class without callbacks.
	Callback string
}

// NewLoyaltyClass returns program p's loyalty class for the issuer
// issuerID, to insert or update through the Wallet API: its id (ClassID),
// the program's name as issuer and program name, the logo at urls.Logo,
// the callback URL urls.Callback, the design's background color (defaults
// applied), the card number label in German and English, status
// UNDER_REVIEW (which Google asks for on every insert and update), and one
// user per object on all of that user's devices. Smart Tap stays off.
//
// The class has no rewards tier: Google keeps the tier on the class, the
// same for every member, so the member's tier goes on the object
// (NewLoyaltyObject). Nor has it an account name label: objects carry no
// holder name.
//
// p is expected to be valid (loyalty.Program.Validate) and issuerID to
// pass ValidIssuerID; NewLoyaltyClass checks neither.
func NewLoyaltyClass(issuerID string, p loyalty.Program, urls ClassURLs) *walletobjects.LoyaltyClass {
	design := p.Pass.WithDefaults(p.Name)
	c := &walletobjects.LoyaltyClass{
		Id:          ClassID(issuerID, p.ID),
		IssuerName:  p.Name,
		ProgramName: p.Name,
		ProgramLogo: &walletobjects.Image{
			SourceUri: &walletobjects.ImageUri{Uri: urls.Logo},
			ContentDescription: localizedText(loyalty.Text{
				DE: "Logo von " + p.Name,
				EN: p.Name + " logo",
			}),
		},
		HexBackgroundColor:                     design.BackgroundColor,
		AccountIdLabel:                         cardNumberLabel.DE,
		LocalizedAccountIdLabel:                localizedText(cardNumberLabel),
		ReviewStatus:                           reviewUnderReview,
		MultipleDevicesAndHoldersAllowedStatus: oneUserAllDevices,
	}
	if urls.Callback != "" {
		c.CallbackOptions = &walletobjects.CallbackOptions{Url: urls.Callback}
	}
	return c
}

// cardNumberLabel labels the account id, which is the card number. Google
// recommends at most 15 characters.
var cardNumberLabel = loyalty.Text{DE: "Kartennummer", EN: "Card number"}

// localizedText returns t as a Google LocalizedString: German as the
// default value, which Wallet shows in any language without a translation,
// and English, when t has it, as the one translation.
func localizedText(t loyalty.Text) *walletobjects.LocalizedString {
	s := &walletobjects.LocalizedString{
		DefaultValue: &walletobjects.TranslatedString{Language: languageDefault, Value: t.DE},
	}
	if t.EN != "" {
		s.TranslatedValues = []*walletobjects.TranslatedString{{Language: languageTranslated, Value: t.EN}}
	}
	return s
}
