package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/assets"
)

// get sends a GET (or HEAD) to url with the headers and returns the
// response with its body read.
func get(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The default transport would ask for gzip and inflate it silently.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func embedded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(assets.Web, "web/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebAppIsServed(t *testing.T) {
	t.Parallel()
	base, _ := startTreued(t, map[string]string{"TREUE_DEV": "true"})

	for path, file := range map[string]string{"/": "index.html", "/till": "till.html"} {
		res, body := get(t, http.MethodGet, base+path, nil)
		want := bytes.Replace(embedded(t, file), webConfigPlaceholder,
			[]byte(`<meta name="treue-config" content="{&#34;dev&#34;:true,&#34;till_key&#34;:&#34;demo-store-key&#34;}">`), 1)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("GET %s = %s, %d bytes; want %s with the configuration:\n%s", path, res.Status, len(body), file, body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "connect-src 'self';", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
	}

	// The bundle the page names, gzipped for clients that take it, kept
	// for a year, revalidated by ETag.
	m := regexp.MustCompile(`src="/web/(customer-[A-Z0-9]+\.js)"`).FindSubmatch(embedded(t, "index.html"))
	if m == nil {
		t.Fatal("index.html names no customer bundle")
	}
	jsName := string(m[1])
	jsURL := base + "/web/" + jsName
	js := embedded(t, jsName)
	res, body := get(t, http.MethodGet, jsURL, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q", jsName, cc)
	}
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("customer.js: Content-Encoding %q, Content-Type %q", res.Header.Get("Content-Encoding"), res.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if inflated, err := io.ReadAll(zr); err != nil || !bytes.Equal(inflated, js) {
		t.Fatalf("gzipped customer.js inflates to %d bytes (%v), want the %d embedded", len(inflated), err, len(js))
	}
	etag := res.Header.Get("ETag")
	if res, _ := get(t, http.MethodGet, jsURL, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s = %s, want 304", etag, res.Status)
	}
	res, body = get(t, http.MethodGet, jsURL, map[string]string{"Accept-Encoding": "gzip;q=0", "If-None-Match": etag})
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, js) {
		t.Errorf("without gzip and with the gzipped ETag = %s, %q, %d bytes; want the plain file", res.Status, res.Header.Get("Content-Encoding"), len(body))
	}
	css := regexp.MustCompile(`href="/web/(app-[A-Z0-9]+\.css)"`).FindSubmatch(embedded(t, "till.html"))
	if css == nil {
		t.Fatal("till.html names no style sheet")
	}
	if res, body := get(t, http.MethodHead, base+"/web/"+string(css[1]), nil); res.StatusCode != http.StatusOK || len(body) != 0 || res.ContentLength != int64(len(embedded(t, string(css[1])))) {
		t.Errorf("HEAD %s = %s, %d body bytes, Content-Length %d", css[1], res.Status, len(body), res.ContentLength)
	}

	// Only the app's files: the build's README, directories and the API's
	// paths are not served as files.
	for _, path := range []string{"/web/README.md", "/web/index.html", "/web/customer.js", "/web/", "/web/../go.mod", "/index.html", "/tilll"} {
		if res, _ := get(t, http.MethodGet, base+path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %s, want 404", path, res.Status)
		}
	}
	if res, _ := get(t, http.MethodPost, base+"/", nil); res.StatusCode == http.StatusOK {
		t.Errorf("POST / = %s: the page answers GET only", res.Status)
	}

	res, body = get(t, http.MethodGet, base+"/web/config.json", nil)
	var cfg webConfig
	if err := json.Unmarshal(body, &cfg); err != nil || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("config.json %q: %v", body, err)
	}
	if diff := cmp.Diff(webConfig{Dev: true, TillKey: "demo-store-key"}, cfg); diff != "" {
		t.Errorf("dev config.json (-want +got):\n%s", diff)
	}
}

func TestWebAppConfigOutsideDevMode(t *testing.T) {
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "")
	base, _ := startTreued(t, map[string]string{
		"TREUE_SEED_FILE":            seedWithKeys(t),
		"TREUE_DEV":                  "false",
		"TREUE_FIREBASE_PROJECT_ID":  "treue-prod",
		"TREUE_FIREBASE_WEB_API_KEY": "AIzaSyWebKey",
	})
	_, body := get(t, http.MethodGet, base+"/web/config.json", nil)
	var cfg webConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	want := webConfig{Firebase: &webFirebaseConfig{APIKey: "AIzaSyWebKey", ProjectID: "treue-prod"}}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config.json (-want +got):\n%s", diff)
	}
	if strings.Contains(string(body), "demo-store-key") {
		t.Errorf("config.json outside dev mode names the till key: %s", body)
	}
	res, page := get(t, http.MethodGet, base+"/", nil)
	if !bytes.Contains(page, []byte(`content="{&#34;dev&#34;:false,&#34;firebase&#34;:{&#34;api_key&#34;:&#34;AIzaSyWebKey&#34;`)) || bytes.Contains(page, []byte("demo-store-key")) {
		t.Errorf("the page's configuration outside dev mode:\n%s", page)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com;") {
		t.Errorf("Content-Security-Policy %q does not allow Firebase sign-in", csp)
	}
}

// seedWithKeys returns a seed file of the demo program whose tills and
// operators have API keys, as outside dev mode they must.
func seedWithKeys(t *testing.T) string {
	t.Helper()
	var seed map[string]any
	if err := json.Unmarshal(assets.DemoProgram, &seed); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("a production key"))
	for _, list := range []string{"tills", "operators"} {
		for _, x := range seed[list].([]any) {
			x.(map[string]any)["key_sha256"] = hex.EncodeToString(sum[:])
		}
	}
	b, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestWebAppCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	base, _ := startTreued(t, map[string]string{"TREUE_DEV": "true", "TREUE_WEB": "false"})
	for _, path := range []string{"/", "/till", "/web/config.json"} {
		if res, _ := get(t, http.MethodGet, base+path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with TREUE_WEB=false = %s, want 404", path, res.Status)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"br, gzip, deflate":      true,
		"gzip;q=0.5":             true,
		"gzip;q=0":               false,
		"gzip; q=0.000":          false,
		"deflate, br":            false,
		"x-gzip":                 false,
		"identity;q=1, gzip;q=0": false,
	} {
		if got := acceptsGzip(accept); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", accept, got, want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`*`, true},
		{`"abcd"`, false},
		{``, false},
	} {
		if got := etagMatches(tc.header, `"abc"`); got != tc.want {
			t.Errorf("etagMatches(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
