package applepass

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/treue/treue/redact"
)

// Notifier sends one notification to APNs. *apns2.Client implements it;
// LogNotifier is the embedded default that only logs.
type Notifier interface {
	// PushWithContext sends n and returns APNs's answer, or an error when
	// no answer came (network failure, timeout, cancelled ctx).
	PushWithContext(ctx apns2.Context, n *apns2.Notification) (*apns2.Response, error)
}

// APNsConfig says where and how the Pusher's APNs client connects.
type APNsConfig struct {
	// Host is apns2.HostProduction (the default: Wallet passes are pushed
	// through production APNs), apns2.HostDevelopment or a test server's
	// URL.
	Host string
	// KeyFile, KeyID and TeamID select token authentication with an APNs
	// auth key (.p8, PKCS#8 PEM) of the team that owns the pass type.
	KeyFile, KeyID, TeamID string
	// Certificate selects certificate authentication with the pass type
	// certificate when KeyFile is empty.
	Certificate *tls.Certificate
	// RootCAs are the roots trusted for Host's certificate; nil means the
	// system's. Tests set their server's CA.
	RootCAs *x509.CertPool
}

// NewAPNsClient returns an APNs client for cfg: a token client when
// cfg.KeyFile is set, else a certificate client. Its HTTP/2 transport
// trusts cfg.RootCAs and keeps apns2's settings: dial timeout, TCP
// keepalive, ping health check after ReadIdleTimeout, client timeout. It
// returns an error when neither credential is configured, when KeyID or
// TeamID is missing, or when the key file cannot be read or is not an ECDSA
// PKCS#8 key.
func NewAPNsClient(cfg APNsConfig) (*apns2.Client, error) {
	var c *apns2.Client
	tlsConf := &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	switch {
	case cfg.KeyFile != "":
		if cfg.KeyID == "" || cfg.TeamID == "" {
			return nil, errors.New("applepass: APNs token authentication needs the key's KeyID and the TeamID")
		}
		key, err := token.AuthKeyFromFile(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("applepass: APNs auth key %s: %w", cfg.KeyFile, err)
		}
		c = apns2.NewTokenClient(&token.Token{AuthKey: key, KeyID: cfg.KeyID, TeamID: cfg.TeamID})
	case cfg.Certificate != nil:
		c = apns2.NewClient(*cfg.Certificate)
		tlsConf.Certificates = []tls.Certificate{*cfg.Certificate}
	default:
		return nil, errors.New("applepass: APNs needs an auth key (KeyFile, KeyID, TeamID) or the pass type certificate")
	}
	c.Host = apns2.HostProduction
	if cfg.Host != "" {
		c.Host = cfg.Host
	}
	c.HTTPClient = apnsHTTPClient(tlsConf)
	return c, nil
}

// apnsHTTPClient returns the HTTP client of an APNs client: apns2's
// settings on the standard library's HTTP/2 transport, as
// golang.org/x/net/http2.Transport, which apns2 builds, is deprecated.
func apnsHTTPClient(tlsConf *tls.Config) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     tlsConf,
		DialContext:         (&net.Dialer{Timeout: apns2.TLSDialTimeout, KeepAlive: apns2.TCPKeepAlive}).DialContext,
		TLSHandshakeTimeout: apns2.TLSDialTimeout,
		HTTP2:               &http.HTTP2Config{SendPingTimeout: apns2.ReadIdleTimeout},
		Protocols:           new(http.Protocols),
	}
	tr.Protocols.SetHTTP2(true) // APNs speaks HTTP/2 only
	return &http.Client{Transport: tr, Timeout: apns2.HTTPClientTimeout}
}

// LogNotifier returns the Notifier used in dev mode when no APNs
// credentials are configured: it logs each push, with the device token as
// redact.Token shows it, and answers 200 without sending anything. A nil
// log discards.
func LogNotifier(log *slog.Logger) Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return logNotifier{log: log}
}

type logNotifier struct{ log *slog.Logger }

func (l logNotifier) PushWithContext(ctx apns2.Context, n *apns2.Notification) (*apns2.Response, error) {
	l.log.InfoContext(ctx, "applepass: APNs push logged, not sent (no APNs credentials configured)",
		"token", redact.Token(n.DeviceToken), "topic", n.Topic, "push_type", string(n.PushType), "priority", n.Priority)
	return &apns2.Response{StatusCode: http.StatusOK}, nil
}
