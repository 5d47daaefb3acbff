package loyalty

import (
	"context"
	"time"
)

// Purpose is what a member agrees to, one consent record at a time.
type Purpose string

// The purposes Treue asks consent for.
const (
	// PurposeTransactionalPush: pushes about the member's own account
	// (points earned, challenge completed, tier change, reminders). Sent
	// unless the member withdrew it.
	PurposeTransactionalPush Purpose = "transactional_push"
	// PurposeMarketingPush: offers and news by push. Only with a grant.
	PurposeMarketingPush Purpose = "marketing_push"
	// PurposePersonalisedOffers: offers chosen from the purchase history.
	// Only with a grant.
	PurposePersonalisedOffers Purpose = "personalised_offers"
	// PurposeBirthday: keeping the birthday for the birthday reward. Only
	// with a grant.
	PurposeBirthday Purpose = "birthday"
	// PurposeProfile: keeping the member's name and e-mail address. Only
	// with a grant.
	PurposeProfile Purpose = "profile"
)

// Purposes are every Purpose, in the order the app lists them.
var Purposes = []Purpose{PurposeTransactionalPush, PurposeMarketingPush, PurposePersonalisedOffers, PurposeBirthday, PurposeProfile}

// GrantedByDefault reports whether p counts as granted while the member
// has recorded nothing for it.
func (p Purpose) GrantedByDefault() bool { return p == PurposeTransactionalPush }

// Limits of consent records.
const (
	// MaxConsentTextVersionLen bounds a consent text id such as
	// "push-2026-11".
	MaxConsentTextVersionLen = 64
	// MaxConsentSourceLen bounds a source such as "app" or "till".
	MaxConsentSourceLen = 32
	// MaxConsentRecords bounds a member's consent history per purpose;
	// SetConsent returns ErrLimit beyond it.
	MaxConsentRecords = 200
)

// Consent is one append-only record: at At, the member granted or
// withdrew Purpose, having been shown the text TextVersion, through Source.
type Consent struct {
	// Seq is the store's id of the record, increasing.
	Seq         int64
	ProgramID   string
	MemberID    string
	Purpose     Purpose
	Granted     bool
	TextVersion string
	Source      string
	At          time.Time
}

// ConsentState is a member's consent for one purpose as of now: the
// newest record, or the purpose's default when there is none.
type ConsentState struct {
	Purpose Purpose
	Granted bool
	// Latest is the newest record; zero Seq when none was recorded.
	Latest Consent
}

// ConsentStore is the part of a Tx that keeps consent records.
type ConsentStore interface {
	// AppendConsent writes c and sets c.Seq.
	AppendConsent(ctx context.Context, c *Consent) error
	// Consents returns the member's consent records, oldest first.
	Consents(ctx context.Context, programID, memberID string) ([]Consent, error)
}

// CurrentConsents returns the state of every purpose from records, oldest
// first.
func CurrentConsents(records []Consent) []ConsentState {
	latest := map[Purpose]Consent{}
	for _, r := range records {
		latest[r.Purpose] = r
	}
	states := make([]ConsentState, 0, len(Purposes))
	for _, p := range Purposes {
		st := ConsentState{Purpose: p, Granted: p.GrantedByDefault()}
		if r, ok := latest[p]; ok {
			st.Granted, st.Latest = r.Granted, r
		}
		states = append(states, st)
	}
	return states
}
