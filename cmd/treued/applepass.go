package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"time"

	"github.com/sideshow/apns2"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/wallet/applepass"
)

// applePasses is the wiring of Apple Wallet passes: the service that
// issues them and serves the PassKit web service, and the pusher that
// tells devices about changes.
type applePasses struct {
	svc    *applepass.Service
	pusher *applepass.Pusher
}

// openApplePasses sets up Apple Wallet passes as the configuration asks:
// the configured pass certificate, or development certificates in the data
// directory in dev mode. It returns nil, nil when passes are off (no
// certificate outside dev mode).
func (s *server) openApplePasses(publicURL string) (*applePasses, error) {
	id, dev, err := s.appleIdentity()
	if err != nil || id == nil {
		return nil, err
	}
	u, _ := url.Parse(publicURL)
	if !dev && u.Scheme != "https" && !isLoopback(u.Host) {
		return nil, fmt.Errorf("TREUE_PUBLIC_URL %q: Apple Wallet talks to its web service over HTTPS only", publicURL)
	}
	images, err := fs.Sub(assets.ApplePassImages, "applepass")
	if err != nil {
		return nil, err
	}
	files, err := applepass.Images(images)
	if err != nil {
		return nil, fmt.Errorf("pass images: %w", err)
	}
	svc, err := applepass.NewService(applepass.Config{
		Store: s.store, Cards: s.svc, Identity: *id, Images: files,
		WebServiceURL: publicURL + "/passkit", Development: dev, Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	notifier, err := s.apnsNotifier(*id, dev)
	if err != nil {
		return nil, err
	}
	pusher := applepass.NewPusher(applepass.PusherConfig{
		Store: s.store, Notifier: notifier, PassTypeID: id.PassTypeID(), Logger: s.log,
	})
	return &applePasses{svc: svc, pusher: pusher}, nil
}

// appleIdentity returns the pass signing identity and whether it is the
// development one, or nil when Apple passes are off.
func (s *server) appleIdentity() (_ *applepass.Identity, dev bool, _ error) {
	c := s.cfg
	if c.ApplePassCert != "" {
		id, err := applepass.LoadIdentity(c.ApplePassCert, c.ApplePassKey, c.ApplePassKeyPassword, c.AppleWWDRCert)
		if err != nil {
			return nil, false, fmt.Errorf("apple pass certificate: %w", err)
		}
		s.log.Info("Apple Wallet passes on", "pass_type", id.PassTypeID(), "team", id.TeamID(), "expires", id.Certificate.NotAfter)
		return &id, false, nil
	}
	if !s.dev {
		s.log.Warn("Apple Wallet passes are off: set TREUE_APPLE_PASS_CERT and TREUE_APPLE_WWDR_CERT")
		return nil, false, nil
	}
	dir := filepath.Join(c.DataDir, "dev-certs")
	id, _, created, err := applepass.LoadOrCreateDevIdentity(dir, time.Now())
	if err != nil {
		return nil, false, fmt.Errorf("development pass certificates: %w", err)
	}
	s.log.Warn("Apple Wallet passes are signed with DEVELOPMENT certificates: no iPhone accepts them", "dir", dir, "created", created, "pass_type", id.PassTypeID())
	return &id, true, nil
}

// apnsNotifier returns what sends pass update pushes: APNs with the auth
// key or the pass certificate, or, for development passes without an APNs
// key, the log.
func (s *server) apnsNotifier(id applepass.Identity, dev bool) (applepass.Notifier, error) {
	c := s.cfg
	if dev && c.APNsKeyFile == "" {
		return applepass.LogNotifier(s.log), nil
	}
	host, err := apnsHost(c.APNsHost)
	if err != nil {
		return nil, err
	}
	ac := applepass.APNsConfig{Host: host, KeyFile: c.APNsKeyFile, KeyID: c.APNsKeyID, TeamID: c.APNsTeamID}
	if c.APNsKeyFile == "" {
		ac.Certificate = &tls.Certificate{Certificate: [][]byte{id.Certificate.Raw}, PrivateKey: id.Key, Leaf: id.Certificate}
	}
	client, err := applepass.NewAPNsClient(ac)
	if err != nil {
		return nil, fmt.Errorf("APNs: %w", err)
	}
	return client, nil
}

// apnsHost returns the APNs URL a TREUE_APNS_HOST value names.
func apnsHost(v string) (string, error) {
	switch v {
	case "", "production":
		return apns2.HostProduction, nil
	case "development", "sandbox":
		return apns2.HostDevelopment, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", errors.New("TREUE_APNS_HOST: want production, development or an https URL")
	}
	return v, nil
}
