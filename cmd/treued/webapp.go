package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// webApp serves the embedded customer app (at /) and till simulator (at
// /till) and their bundles under /web/. What the pages need to know of this
// server (dev mode, the dev till key, the Firebase sign-in settings) is
// written into each page and served at /web/config.json.
type webApp struct {
	files  map[string]*webFile // by URL path
	config *webFile
	csp    string
}

// webFile is one file ready to serve, plain and, once asked for, gzipped.
type webFile struct {
	contentType string
	body        []byte
	etag        string
	gzipOnce    sync.Once
	gzipped     []byte // nil when gzip does not make it smaller
	// immutable files have their content's hash in their name: browsers
	// keep them without asking again.
	immutable bool
}

// webConfig is the JSON at /web/config.json; web/app/api.ts reads it.
type webConfig struct {
	Dev      bool               `json:"dev"`
	TillKey  string             `json:"till_key,omitempty"`
	Firebase *webFirebaseConfig `json:"firebase,omitempty"`
}

type webFirebaseConfig struct {
	APIKey       string `json:"api_key"`
	ProjectID    string `json:"project_id"`
	AuthEmulator string `json:"auth_emulator,omitempty"`
}

// webConfigPlaceholder is the element of the pages that newWebApp fills
// with the configuration.
var webConfigPlaceholder = []byte(`<meta name="treue-config" content="{}">`)

// webPages are the page paths and the files they serve.
var webPages = map[string]string{"/": "index.html", "/till": "till.html"}

// webAssetName matches the files served under /web/: the bundles and the
// style sheet, whose names carry their content's hash (web/build.mjs).
var webAssetName = regexp.MustCompile(`^[a-z]+-[A-Z0-9]{8}\.(js|css)$`)

// newWebApp returns the web app serving the files of fsys (assets.Web's
// "web" directory) with cfg as its configuration. It returns an error when
// a file is missing.
func newWebApp(fsys fs.FS, cfg webConfig) (*webApp, error) {
	a := &webApp{files: map[string]*webFile{}}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// The pages carry the configuration, so the app's first call needs no
	// round trip for it.
	inline := []byte(`<meta name="treue-config" content="` + html.EscapeString(string(body)) + `">`)
	for p, name := range webPages {
		page, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("web app: %w (run npm run build)", err)
		}
		if !bytes.Contains(page, webConfigPlaceholder) {
			return nil, fmt.Errorf("web app: %s lacks %s", name, webConfigPlaceholder)
		}
		a.files[p] = newWebFile("text/html; charset=utf-8", bytes.Replace(page, webConfigPlaceholder, inline, 1))
	}
	assets, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("web app: %w", err)
	}
	for _, e := range assets {
		name := e.Name()
		if e.IsDir() || !webAssetName.MatchString(name) {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("web app: %w", err)
		}
		f := newWebFile(mime.TypeByExtension(path.Ext(name)), body)
		f.immutable = true
		a.files["/web/"+name] = f
	}
	a.config = newWebFile("application/json", body)
	a.csp = contentSecurityPolicy(cfg.Firebase)
	return a, nil
}

func newWebFile(contentType string, body []byte) *webFile {
	sum := sha256.Sum256(body)
	return &webFile{contentType: contentType, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// gzip returns the file gzipped, compressing it on the first call (which
// spares treued's start the ~15 ms), or nil when gzip makes it no smaller.
func (f *webFile) gzip() []byte {
	f.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(f.body)
		zw.Close()
		if buf.Len() < len(f.body) {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// contentSecurityPolicy returns the pages' policy: everything from this
// origin only, plus Firebase's sign-in endpoints when configured.
func contentSecurityPolicy(fb *webFirebaseConfig) string {
	connect := "'self'"
	switch {
	case fb != nil && fb.AuthEmulator != "":
		connect += " " + fb.AuthEmulator
	case fb != nil:
		connect += " https://identitytoolkit.googleapis.com https://securetoken.googleapis.com"
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
		"connect-src " + connect + "; media-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
}

// register adds the web app's routes to mux. They take GET and HEAD only;
// every other path stays the API's.
func (a *webApp) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", a.page)
	mux.HandleFunc("GET /till", a.page)
	mux.HandleFunc("GET /web/{file}", a.asset)
}

func (a *webApp) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", a.csp)
	a.serve(w, r, a.files[r.URL.Path])
}

func (a *webApp) asset(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("file") == "config.json" {
		a.serve(w, r, a.config)
		return
	}
	a.serve(w, r, a.files[r.URL.Path])
}

// serve writes f, gzipped when the client takes it, or answers 304 when
// the client has it. Pages are revalidated on every load (no-cache) and
// mostly get a 304; the bundles they name are kept for a year.
func (a *webApp) serve(w http.ResponseWriter, r *http.Request, f *webFile) {
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, f.etag
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := f.gzip(); gz != nil {
			body, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
