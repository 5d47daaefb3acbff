package applepass

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/treue/treue/loyalty"
)

// Cards is what passes show: members' cards and their programs.
// *loyalty.Service implements it.
type Cards interface {
	// CardState returns the signed-in customer's card, or an error wrapping
	// loyalty.ErrNotEnrolled.
	CardState(ctx context.Context, c loyalty.Customer) (loyalty.CardState, error)
	// MemberCardState returns a member's card, or an error wrapping
	// loyalty.ErrNotFound.
	MemberCardState(ctx context.Context, k loyalty.MemberKey) (loyalty.CardState, error)
	Program(ctx context.Context, id string) (loyalty.Program, error)
}

// Config is what a Service needs.
type Config struct {
	Store Store
	Cards Cards
	// Identity signs the passes; its pass type identifier names them.
	Identity Identity
	// Images are the pass images every program's passes carry (see Images).
	Images []File
	// WebServiceURL is where devices reach the PassKit web service, e.g.
	// https://treue.example/passkit; WebService serves it.
	WebServiceURL string
	// Development marks passes signed with development certificates, which
	// no iPhone accepts.
	Development bool
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Random makes serial numbers and tokens; nil means crypto/rand.
	Random io.Reader
}

// Service issues members' passes and serves the PassKit web service.
type Service struct {
	cfg   Config
	limit *registrationLimiter

	mu        sync.Mutex
	packagers map[string]programPackager
}

// programPackager is the packager of one program's passes, with the
// fingerprint of the localizations it was made with.
type programPackager struct {
	fingerprint [32]byte
	packager    *Packager
}

// Issued is a member's signed pass.
type Issued struct {
	Record Record
	// PKPass is the signed .pkpass archive.
	PKPass []byte
	// Card is the card state the pass shows.
	Card loyalty.CardState
}

// NewService returns a Service. It returns an error when the configuration
// is incomplete or the web service URL is not absolute.
func NewService(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil || cfg.Cards == nil:
		return nil, errors.New("applepass: a store and cards are needed")
	case cfg.Identity.Certificate == nil || cfg.Identity.Key == nil:
		return nil, errors.New("applepass: no signing identity")
	case cfg.Identity.PassTypeID() == "":
		return nil, errors.New("applepass: the pass certificate names no pass type identifier")
	}
	u, err := url.Parse(cfg.WebServiceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("applepass: web service URL %q must be an absolute http(s) URL", cfg.WebServiceURL)
	}
	cfg.WebServiceURL = strings.TrimSuffix(cfg.WebServiceURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Service{
		cfg:       cfg,
		limit:     newRegistrationLimiter(cfg.Now),
		packagers: map[string]programPackager{},
	}, nil
}

// PassTypeID returns the pass type identifier of the passes s issues.
func (s *Service) PassTypeID() string { return s.cfg.Identity.PassTypeID() }

// Development reports whether s signs with development certificates.
func (s *Service) Development() bool { return s.cfg.Development }

// ForCustomer returns the signed-in customer's pass as their card is now,
// creating the pass's serial number and token on first use. It returns an
// error wrapping loyalty.ErrNotEnrolled when the customer has no card.
func (s *Service) ForCustomer(ctx context.Context, c loyalty.Customer) (Issued, error) {
	st, err := s.cfg.Cards.CardState(ctx, c)
	if err != nil {
		return Issued{}, err
	}
	rec, err := s.record(ctx, st)
	if err != nil {
		return Issued{}, err
	}
	pkpass, err := s.build(ctx, rec, st)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Record: rec, PKPass: pkpass, Card: st}, nil
}

// record returns the member's pass record, creating it on first use.
func (s *Service) record(ctx context.Context, st loyalty.CardState) (Record, error) {
	rec, err := s.cfg.Store.Pass(ctx, st.ProgramID, st.MemberID, s.PassTypeID())
	if err == nil || !errors.Is(err, loyalty.ErrNotFound) {
		return rec, err
	}
	serial, err := s.randomHex(16)
	if err != nil {
		return Record{}, err
	}
	token, err := s.randomHex(32)
	if err != nil {
		return Record{}, err
	}
	return s.cfg.Store.CreatePass(ctx, Record{
		ProgramID: st.ProgramID, MemberID: st.MemberID, PassTypeID: s.PassTypeID(),
		Serial: serial, AuthToken: token, CreatedAt: s.cfg.Now().UTC().Truncate(time.Microsecond),
	})
}

func (s *Service) randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Random, b); err != nil {
		return "", fmt.Errorf("applepass: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// build returns the signed pass of rec showing st.
func (s *Service) build(ctx context.Context, rec Record, st loyalty.CardState) ([]byte, error) {
	prog, err := s.cfg.Cards.Program(ctx, rec.ProgramID)
	if err != nil {
		return nil, err
	}
	pass, err := NewCardPass(CardPass{
		Card:          st,
		Design:        prog.Pass,
		TimeZone:      prog.TimeZone,
		PassTypeID:    rec.PassTypeID,
		TeamID:        s.cfg.Identity.TeamID(),
		Serial:        rec.Serial,
		AuthToken:     rec.AuthToken,
		WebServiceURL: s.cfg.WebServiceURL,
	})
	if err != nil {
		return nil, fmt.Errorf("applepass: pass of member %s: %w", rec.MemberID, err)
	}
	passJSON, err := pass.JSON()
	if err != nil {
		return nil, err
	}
	pk, err := s.packager(prog)
	if err != nil {
		return nil, err
	}
	return pk.Package(passJSON, s.cfg.Now())
}

// packager returns the packager of prog's passes, made again when the
// program's texts changed.
func (s *Service) packager(prog loyalty.Program) (*Packager, error) {
	strs := Localizations(prog)
	h := sha256.New()
	for _, f := range strs {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	var fp [32]byte
	h.Sum(fp[:0])
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.packagers[prog.ID]; ok && p.fingerprint == fp {
		return p.packager, nil
	}
	files := append(append([]File(nil), s.cfg.Images...), strs...)
	pk, err := NewPackager(s.cfg.Identity, files)
	if err != nil {
		return nil, fmt.Errorf("applepass: packager of program %s: %w", prog.ID, err)
	}
	s.packagers[prog.ID] = programPackager{fingerprint: fp, packager: pk}
	return pk, nil
}
