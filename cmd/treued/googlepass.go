package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/treue/treue/wallet/googlepass"
)

// openGooglePasses sets up Save to Google Wallet links: with the
// configured service account, or a development key in the data directory
// in dev mode. It returns nil, nil when Google Wallet is off.
func (s *server) openGooglePasses() (*googlepass.Service, error) {
	c := s.cfg
	var acct googlepass.Account
	dev := false
	switch {
	case c.GoogleServiceAccountFile != "":
		key, err := os.ReadFile(c.GoogleServiceAccountFile)
		if err != nil {
			return nil, fmt.Errorf("google service account: %w", err)
		}
		if acct, err = googlepass.ParseServiceAccount(key, c.GoogleIssuerID); err != nil {
			return nil, fmt.Errorf("google service account %s: %w", c.GoogleServiceAccountFile, err)
		}
		s.log.Info("Google Wallet links on", "issuer", acct.IssuerID, "service_account", acct.Email)
	case s.dev:
		dir := filepath.Join(c.DataDir, "dev-certs")
		var created bool
		var err error
		if acct, created, err = googlepass.LoadOrCreateDevAccount(dir); err != nil {
			return nil, fmt.Errorf("development Google Wallet key: %w", err)
		}
		dev = true
		s.log.Warn("Google Wallet links are signed with a DEVELOPMENT key: Google Wallet refuses them", "dir", dir, "created", created)
	default:
		s.log.Warn("Google Wallet links are off: set TREUE_GOOGLE_SERVICE_ACCOUNT_FILE and TREUE_GOOGLE_ISSUER_ID")
		return nil, nil
	}
	var origins []string
	for o := range strings.SplitSeq(c.GoogleOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	return googlepass.NewService(googlepass.Config{
		Account: acct, Origins: origins, Cards: s.svc, Development: dev,
	})
}
