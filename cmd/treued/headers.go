package main

import (
	"net/http"
	"strings"
)

// hsts is the Strict-Transport-Security of answers over HTTPS: two years,
// subdomains included.
const hsts = "max-age=63072000; includeSubDomains"

// securityHeaders sets headers that harden every answer of next:
// X-Content-Type-Options, Referrer-Policy and X-Frame-Options always, and
// Strict-Transport-Security when the request came over HTTPS: over TLS to
// treued, or, when trustProxy is set, through a proxy that says so with
// X-Forwarded-Proto: https. Browsers ignore HSTS over plain HTTP, but it is
// not sent there either, so a plain-HTTP deployment cannot pin itself.
func securityHeaders(next http.Handler, trustProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil || (trustProxy && forwardedHTTPS(r.Header)) {
			h.Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedHTTPS reports whether X-Forwarded-Proto says the client's
// request came over HTTPS. Of a list that proxies appended to, the first
// is the client's.
func forwardedHTTPS(h http.Header) bool {
	proto, _, _ := strings.Cut(h.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
