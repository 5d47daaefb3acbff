package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/wallet/googlepass"
)

// googlePasses is the wiring of Google Wallet: save links, the syncer that
// keeps objects current, and the handler of Google's callbacks.
type googlePasses struct {
	links   *googlepass.Service
	syncer  *googlepass.Syncer
	handler http.Handler
	urls    googlepass.ClassURLs
}

// openGooglePasses sets up Google Wallet as the configuration asks: the
// configured service account, or in dev mode a development key in the
// data directory with object updates logged instead of sent. It returns
// nil, nil when Google Wallet is off.
func (s *server) openGooglePasses(publicURL string) (*googlePasses, error) {
	c := s.cfg
	var (
		acct googlepass.Account
		api  googlepass.WalletAPI
		dev  bool
	)
	switch {
	case c.GoogleServiceAccountFile != "":
		key, err := os.ReadFile(c.GoogleServiceAccountFile)
		if err != nil {
			return nil, fmt.Errorf("google service account: %w", err)
		}
		if acct, err = googlepass.ParseServiceAccount(key, c.GoogleIssuerID); err != nil {
			return nil, fmt.Errorf("google service account %s: %w", c.GoogleServiceAccountFile, err)
		}
		if u, _ := url.Parse(publicURL); u.Scheme != "https" && !isLoopback(u.Host) {
			return nil, fmt.Errorf("TREUE_PUBLIC_URL %q: Google Wallet sends callbacks and fetches the logo over HTTPS only", publicURL)
		}
		if api, err = googlepass.NewRESTClient(googlepass.RESTConfig{Account: acct}); err != nil {
			return nil, err
		}
		s.log.Info("Google Wallet on", "issuer", acct.IssuerID, "service_account", acct.Email)
	case s.dev:
		dir := filepath.Join(c.DataDir, "dev-certs")
		var created bool
		var err error
		if acct, created, err = googlepass.LoadOrCreateDevAccount(dir); err != nil {
			return nil, fmt.Errorf("development Google Wallet key: %w", err)
		}
		api, dev = googlepass.LogAPI{Logger: s.log}, true
		s.log.Warn("Google Wallet links are signed with a DEVELOPMENT key (Google Wallet refuses them) and object updates are logged, not sent", "dir", dir, "created", created)
	default:
		s.log.Warn("Google Wallet is off: set TREUE_GOOGLE_SERVICE_ACCOUNT_FILE and TREUE_GOOGLE_ISSUER_ID")
		return nil, nil
	}
	var origins []string
	for o := range strings.SplitSeq(c.GoogleOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	store := s.store.GooglePasses()
	links, err := googlepass.NewService(googlepass.Config{
		Account: acct, Origins: origins, Cards: s.svc, Store: store, Development: dev,
	})
	if err != nil {
		return nil, err
	}
	syncer, err := googlepass.NewSyncer(googlepass.SyncerConfig{
		Store: store, API: api, Cards: s.svc, IssuerID: acct.IssuerID,
		Rate: c.GoogleSyncRate, SyncUnsaved: dev, Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	verifier, err := googlepass.NewVerifier(googlepass.VerifierConfig{IssuerID: acct.IssuerID, Logger: s.log})
	if err != nil {
		return nil, err
	}
	return &googlePasses{
		links:  links,
		syncer: syncer,
		handler: googlepass.NewHandler(googlepass.HandlerConfig{
			Verifier: verifier, Store: store, Saved: syncer.PassSaved,
			Logo: assets.GoogleWalletLogo, Logger: s.log,
		}),
		urls: googlepass.ClassURLs{
			Logo:     publicURL + googlepass.WebPath + "/logo.png",
			Callback: publicURL + googlepass.WebPath + "/callbacks",
		},
	}, nil
}

// writeClasses writes the program's loyalty class at start; a failure is
// logged: links still work, and objects are patched once the class is
// there.
func (g *googlePasses) writeClasses(ctx context.Context, s *server) {
	p, err := s.svc.Program(ctx, s.program)
	if err == nil {
		err = g.syncer.EnsureClasses(ctx, []loyalty.Program{p}, g.urls)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("Google Wallet: cannot write the loyalty class; saving passes fails until it is written (next start)", "err", err)
	}
}
