package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// loadTLS returns the TLS configuration of the certificate and key that
// cfg names, or nil when TLS is off (treued then serves plain HTTP behind
// a proxy that terminates TLS). It fails on files that cannot be read or
// parsed, and on a key that is not the certificate's.
func loadTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate TREUE_TLS_CERT_FILE=%q with key TREUE_TLS_KEY_FILE=%q: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	return &tls.Config{
		// TLS 1.2 and 1.3 with Go's default cipher suites: forward secret
		// AEADs only.
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}, nil
}

// httpProtocols returns the protocols treued serves: with TLS, HTTP/2
// (ALPN h2) and HTTP/1.1; without, HTTP/1.1 for Connect and curl and
// HTTP/2 without TLS (h2c) for gRPC.
func httpProtocols(withTLS bool) *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	if withTLS {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	return p
}

// scheme is the URL scheme of treued's own address.
func scheme(withTLS bool) string {
	if withTLS {
		return "https"
	}
	return "http"
}

// serveHTTP serves on the listener until the server is shut down: HTTPS
// when the server has a TLS configuration. net/http bounds the TLS
// handshake by the least of ReadHeaderTimeout, ReadTimeout and
// WriteTimeout.
func (s *server) serveHTTP() error {
	if s.http.TLSConfig != nil {
		return s.http.ServeTLS(s.listener, "", "")
	}
	return s.http.Serve(s.listener)
}

// logTLS logs the certificate treued serves, and warns when it is not
// valid now: clients will refuse it.
func (s *server) logTLS(now time.Time) {
	if s.http.TLSConfig == nil {
		return
	}
	leaf := s.http.TLSConfig.Certificates[0].Leaf
	if leaf == nil {
		return
	}
	s.log.Info("serving HTTPS", "subject", leaf.Subject.String(), "dns_names", leaf.DNSNames, "not_after", leaf.NotAfter)
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		s.log.Warn("the TLS certificate is not valid now: clients will refuse it", "not_before", leaf.NotBefore, "not_after", leaf.NotAfter)
	}
}
