package googlepass

import (
	"context"
	"errors"
	"time"

	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/loyalty"
)

// Cards is what the links carry: members' cards and their programs.
// *loyalty.Service implements it.
type Cards interface {
	// CardState returns the signed-in customer's card, or an error wrapping
	// loyalty.ErrNotEnrolled.
	CardState(ctx context.Context, c loyalty.Customer) (loyalty.CardState, error)
	Program(ctx context.Context, id string) (loyalty.Program, error)
}

// Config is what a Service needs.
type Config struct {
	Account Account
	// Origins are the web origins whose pages show the save button.
	Origins []string
	Links   AppLinks
	Cards   Cards
	// Store records whose links were made, so that callbacks about their
	// objects are recognised.
	Store Store
	// Development marks links signed with the development key, which
	// Google Wallet refuses.
	Development bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service makes members' Save to Google Wallet links.
type Service struct {
	cfg    Config
	signer *Signer
}

// NewService returns a Service, or an error when the account or the
// origins are unusable.
func NewService(cfg Config) (*Service, error) {
	if cfg.Cards == nil || cfg.Store == nil {
		return nil, errors.New("googlepass: NewService needs Cards and a Store")
	}
	signer, err := NewSigner(cfg.Account, cfg.Origins)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, signer: signer}, nil
}

// Development reports whether s signs with the development key.
func (s *Service) Development() bool { return s.cfg.Development }

// SaveLink returns the customer's Save to Google Wallet link and the id of
// their loyalty object. The link carries the whole object when it fits in
// a link (MaxJWTLength) and otherwise the object's essentials: its ids,
// card number, barcode, balance and status. The first link of a member
// records their pass in the Store, not yet saved. It returns an error
// wrapping loyalty.ErrNotEnrolled when the customer has no card.
func (s *Service) SaveLink(ctx context.Context, c loyalty.Customer) (link, objectID string, err error) {
	st, err := s.cfg.Cards.CardState(ctx, c)
	if err != nil {
		return "", "", err
	}
	p, err := s.cfg.Cards.Program(ctx, st.ProgramID)
	if err != nil {
		return "", "", err
	}
	obj := NewLoyaltyObject(s.cfg.Account.IssuerID, p, st, s.cfg.Links)
	now := s.cfg.Now()
	if _, err := s.cfg.Store.CreatePass(ctx, Pass{ProgramID: st.ProgramID, MemberID: st.MemberID, ObjectID: obj.Id, CreatedAt: now}); err != nil {
		return "", "", err
	}
	link, err = s.signer.SaveLink(obj, now)
	if errors.Is(err, ErrLinkTooLong) {
		link, err = s.signer.SaveLink(essentials(obj), now)
	}
	return link, obj.Id, err
}

// essentials returns what a save link must carry of obj for Google Wallet
// to show the card; the rest (texts, links) comes with the object's next
// update through the REST API.
func essentials(obj *walletobjects.LoyaltyObject) *walletobjects.LoyaltyObject {
	return &walletobjects.LoyaltyObject{
		Id:                     obj.Id,
		ClassId:                obj.ClassId,
		State:                  obj.State,
		AccountId:              obj.AccountId,
		Barcode:                obj.Barcode,
		LoyaltyPoints:          obj.LoyaltyPoints,
		SecondaryLoyaltyPoints: obj.SecondaryLoyaltyPoints,
	}
}
