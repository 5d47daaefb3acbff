package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/treue/treue/gamification"
)

// ExportFormat names the export document's format; it changes when a field
// changes meaning or goes away (new fields do not change it).
const ExportFormat = "treue-export/1"

// Export is the document of everything Treue holds about one member (GDPR
// Art. 15 and 20). Its JSON form is what PrivacyService.ExportMyData
// returns; README.md, "Data export", documents every field. Times are
// RFC 3339 in UTC, amounts in minor units, texts in German and English.
type Export struct {
	Format     string           `json:"format"`
	ExportedAt time.Time        `json:"exported_at"`
	Program    ExportProgram    `json:"program"`
	Profile    ExportProfile    `json:"profile"`
	Account    ExportAccount    `json:"account"`
	Ledger     []ExportEntry    `json:"ledger"`
	Purchases  []ExportPurchase `json:"purchases"`
	PointLots  []ExportLot      `json:"point_lots"`
	Vouchers   []Voucher        `json:"vouchers"`
	Holds      []Hold           `json:"holds"`
	Game       ExportGame       `json:"gamification"`
	Bonuses    []ExportGrant    `json:"bonuses_granted"`
	Consents   ExportConsent    `json:"consents"`
	Devices    []ExportDevice   `json:"devices"`
	Pushes     []ExportPush     `json:"push_messages"`
	Wallet     []ExportPass     `json:"wallet_passes"`
	// PendingCardUpdates are card updates not yet delivered to the app.
	PendingCardUpdates []ExportCardUpdate `json:"pending_card_updates"`
}

// ExportProgram names the program.
type ExportProgram struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ExportProfile is the membership.
type ExportProfile struct {
	MemberID   string    `json:"member_id"`
	CardNumber string    `json:"card_number"`
	SignInID   string    `json:"sign_in_id"`
	Locale     Locale    `json:"locale"`
	Name       string    `json:"name,omitempty"`
	Email      string    `json:"email,omitempty"`
	Birthday   string    `json:"birthday,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at"`
}

// ExportAccount is the points balance.
type ExportAccount struct {
	Balance   int64     `json:"balance"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ExportEntry is one ledger entry with its reason in both languages.
type ExportEntry struct {
	ID           int64       `json:"id"`
	Kind         EntryKind   `json:"kind"`
	Points       int64       `json:"points"`
	BalanceAfter int64       `json:"balance_after"`
	At           time.Time   `json:"at"`
	PurchaseID   string      `json:"purchase_id,omitempty"`
	RewardID     string      `json:"reward_id,omitempty"`
	Reason       Text        `json:"reason"`
	Detail       EntryDetail `json:"detail"`
}

// ExportLot is a lot of points and when it expires.
type ExportLot struct {
	ID          int64     `json:"id"`
	EntryID     int64     `json:"entry_id"`
	PurchaseID  string    `json:"purchase_id,omitempty"`
	Points      int64     `json:"points"`
	Remaining   int64     `json:"remaining"`
	AvailableAt time.Time `json:"available_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// ExportPurchase is a purchase posted by a till.
type ExportPurchase struct {
	ID             string     `json:"id"`
	TillID         string     `json:"till_id"`
	ReceiptID      string     `json:"receipt_id,omitempty"`
	AmountMinor    int64      `json:"amount_minor"`
	Currency       string     `json:"currency"`
	Points         int64      `json:"points"`
	ReturnedMinor  int64      `json:"returned_minor"`
	ReversedPoints int64      `json:"reversed_points"`
	Lines          []LineItem `json:"lines"`
	At             time.Time  `json:"at"`
}

// ExportGame is the gamification state.
type ExportGame struct {
	ReferralCode string                                 `json:"referral_code,omitempty"`
	Tier         gamification.TierState                 `json:"tier"`
	Qualifying   int64                                  `json:"qualifying_points"`
	Segments     []string                               `json:"segments,omitempty"`
	Challenges   map[string]gamification.ChallengeState `json:"challenges,omitempty"`
	Stamps       map[string]int64                       `json:"stamps,omitempty"`
	Progress     []gamification.Progress                `json:"progress,omitempty"`
	// Referred says whether the member enrolled with another member's
	// code (whose member it was is that member's data).
	Referred          bool `json:"referred"`
	ReferralSettled   bool `json:"referral_settled"`
	ReferralsRewarded int  `json:"referrals_rewarded"`
}

// ExportGrant is a bonus granted once.
type ExportGrant struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// ExportConsent is the consents now and every record.
type ExportConsent struct {
	Current []ExportConsentState  `json:"current"`
	History []ExportConsentRecord `json:"history"`
}

// ExportConsentState is one purpose's consent now.
type ExportConsentState struct {
	Purpose Purpose `json:"purpose"`
	Granted bool    `json:"granted"`
}

// ExportConsentRecord is one grant or withdrawal.
type ExportConsentRecord struct {
	Purpose     Purpose   `json:"purpose"`
	Granted     bool      `json:"granted"`
	TextVersion string    `json:"text_version"`
	Source      string    `json:"source"`
	At          time.Time `json:"at"`
}

// ExportDevice is a device the member gets pushes on.
type ExportDevice struct {
	Token        string    `json:"fcm_token"`
	Platform     Platform  `json:"platform"`
	Locale       Locale    `json:"locale"`
	AppVersion   string    `json:"app_version"`
	TimeZone     string    `json:"time_zone,omitempty"`
	RegisteredAt time.Time `json:"registered_at"`
	SeenAt       time.Time `json:"seen_at"`
}

// ExportPush is a push message queued or sent.
type ExportPush struct {
	Kind      string            `json:"kind"`
	Title     Text              `json:"title"`
	Body      Text              `json:"body"`
	Data      map[string]string `json:"data,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	State     string            `json:"state"`
	SentAt    time.Time         `json:"sent_at,omitzero"`
	Reason    string            `json:"reason,omitempty"`
}

// ExportPass is a wallet pass.
type ExportPass struct {
	Wallet        WalletKind               `json:"wallet"`
	ID            string                   `json:"id"`
	CreatedAt     time.Time                `json:"created_at"`
	Saved         bool                     `json:"saved,omitempty"`
	Registrations []ExportPassRegistration `json:"registrations,omitempty"`
}

// ExportPassRegistration is a device registered for a pass's updates.
type ExportPassRegistration struct {
	DeviceID  string    `json:"device_id"`
	PushToken string    `json:"push_token"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportCardUpdate is a card update in the outbox.
type ExportCardUpdate struct {
	Version   int64           `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	Card      json.RawMessage `json:"card"`
}

// Export returns everything Treue holds about the customer. It returns
// ErrNotEnrolled without a membership.
func (s *Service) Export(ctx context.Context, c Customer) (Export, error) {
	var (
		d MemberData
		p Program
	)
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		if p, err = tx.Program(ctx, m.ProgramID); err != nil {
			return err
		}
		d, err = tx.MemberData(ctx, m.ProgramID, m.ID)
		return err
	})
	if err != nil {
		return Export{}, err
	}
	return exportOf(p, d, s.now()), nil
}

// exportOf returns the export document of d, a member of p, made at now.
func exportOf(p Program, d MemberData, now time.Time) Export {
	m := d.Member
	x := Export{
		Format:     ExportFormat,
		ExportedAt: now,
		Program:    ExportProgram{ID: p.ID, Name: p.Name},
		Profile: ExportProfile{
			MemberID: m.ID, CardNumber: m.CardNumber, SignInID: m.FirebaseUID, Locale: m.Locale,
			Name: m.Name, Email: m.Email, EnrolledAt: m.CreatedAt,
		},
		Account:   ExportAccount{Balance: d.Account.Balance, Version: d.Account.Version, UpdatedAt: d.Account.UpdatedAt},
		Ledger:    make([]ExportEntry, 0, len(d.Entries)),
		Purchases: make([]ExportPurchase, 0, len(d.Purchases)),
		PointLots: make([]ExportLot, 0, len(d.Lots)),
		Vouchers:  nonNil(d.Vouchers),
		Holds:     nonNil(d.Holds),
		Game:      exportGame(d.GameState),
		Bonuses:   make([]ExportGrant, 0, len(d.Grants)),
		Consents: ExportConsent{
			Current: make([]ExportConsentState, 0, len(Purposes)),
			History: make([]ExportConsentRecord, 0, len(d.Consents)),
		},
		Devices:            make([]ExportDevice, 0, len(d.Devices)),
		Pushes:             make([]ExportPush, 0, len(d.Pushes)),
		Wallet:             make([]ExportPass, 0, len(d.WalletPasses)),
		PendingCardUpdates: make([]ExportCardUpdate, 0, len(d.CardChanges)),
	}
	if b := birthdayOf(d.GameState.Birthday); !b.IsZero() {
		x.Profile.Birthday = fmt.Sprintf("--%02d-%02d", b.Month, b.Day)
	}
	for _, e := range d.Entries {
		x.Ledger = append(x.Ledger, ExportEntry{
			ID: e.ID, Kind: e.Kind, Points: e.Points, BalanceAfter: e.BalanceAfter, At: e.CreatedAt,
			PurchaseID: e.PurchaseID, RewardID: e.RewardID,
			Reason: Text{DE: e.Reason(LocaleDE), EN: e.Reason(LocaleEN)}, Detail: e.Detail,
		})
	}
	for _, pu := range d.Purchases {
		x.Purchases = append(x.Purchases, ExportPurchase{
			ID: pu.ID, TillID: pu.TillID, ReceiptID: pu.ReceiptID, AmountMinor: pu.AmountMinor,
			Currency: pu.Currency, Points: pu.Points, ReturnedMinor: pu.ReturnedMinor,
			ReversedPoints: pu.ReversedPoints, Lines: nonNil(pu.Lines), At: pu.CreatedAt,
		})
	}
	for _, l := range d.Lots {
		x.PointLots = append(x.PointLots, ExportLot{
			ID: l.ID, EntryID: l.EntryID, PurchaseID: l.PurchaseID, Points: l.Points,
			Remaining: l.Remaining, AvailableAt: l.AvailableAt, ExpiresAt: l.ExpiresAt,
		})
	}
	for _, g := range d.Grants {
		x.Bonuses = append(x.Bonuses, ExportGrant{Key: g.Key, At: g.CreatedAt})
	}
	for _, st := range CurrentConsents(d.Consents) {
		x.Consents.Current = append(x.Consents.Current, ExportConsentState{Purpose: st.Purpose, Granted: st.Granted})
	}
	for _, r := range d.Consents {
		x.Consents.History = append(x.Consents.History, ExportConsentRecord{
			Purpose: r.Purpose, Granted: r.Granted, TextVersion: r.TextVersion, Source: r.Source, At: r.At,
		})
	}
	for _, dv := range d.Devices {
		x.Devices = append(x.Devices, ExportDevice{
			Token: dv.Token, Platform: dv.Platform, Locale: dv.Locale, AppVersion: dv.AppVersion,
			TimeZone: dv.TimeZone, RegisteredAt: dv.RegisteredAt, SeenAt: dv.SeenAt,
		})
	}
	for _, pm := range d.Pushes {
		x.Pushes = append(x.Pushes, ExportPush(pm))
	}
	for _, w := range d.WalletPasses {
		// The pass's web service token is a credential, not data about the
		// member: it stays out.
		ep := ExportPass{Wallet: w.Kind, ID: w.ID, CreatedAt: w.CreatedAt, Saved: w.Saved}
		for _, r := range w.Registrations {
			ep.Registrations = append(ep.Registrations, ExportPassRegistration(r))
		}
		x.Wallet = append(x.Wallet, ep)
	}
	for _, c := range d.CardChanges {
		card := json.RawMessage(c.Payload)
		if !json.Valid(card) {
			card = json.RawMessage("null")
		}
		x.PendingCardUpdates = append(x.PendingCardUpdates, ExportCardUpdate{Version: c.Version, CreatedAt: c.CreatedAt, Card: card})
	}
	return x
}

// exportGame returns the export of the game state st.
func exportGame(st GameState) ExportGame {
	return ExportGame{
		ReferralCode: st.ReferralCode, Tier: st.Tier, Qualifying: st.Qualifying, Segments: st.Segments,
		Challenges: st.Challenges, Stamps: st.Stamps,
		Progress: append(slices.Clone(st.Progress), st.StampProgress...),
		Referred: st.ReferredBy != "", ReferralSettled: st.ReferralSettled, ReferralsRewarded: st.ReferralsRewarded,
	}
}

// nonNil returns s, or an empty slice for nil, so that the JSON says []
// rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
