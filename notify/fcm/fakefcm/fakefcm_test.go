package fakefcm_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/treue/treue/notify/fcm/fakefcm"
)

// post sends body to the send URL of project p with client c and returns
// the status, the Retry-After header and the decoded body.
func post(t *testing.T, c *http.Client, url, body string) (int, string, map[string]any) {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("proto = %s", resp.Proto)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), m
}

// errorOf returns error.status and the FcmError code of an error body.
func errorOf(m map[string]any) (status, fcmCode string) {
	e, _ := m["error"].(map[string]any)
	status, _ = e["status"].(string)
	details, _ := e["details"].([]any)
	for _, d := range details {
		d, _ := d.(map[string]any)
		if d["@type"] == "type.googleapis.com/google.firebase.fcm.v1.FcmError" {
			fcmCode, _ = d["errorCode"].(string)
		}
	}
	return status, fcmCode
}

func TestWireFormat(t *testing.T) {
	srv := fakefcm.New()
	defer srv.Close()
	url := srv.URL + "/v1/projects/demo-test/messages:send"
	c := srv.Client()

	code, _, m := post(t, c, url, `{"message":{"token":"tok-1","notification":{"title":"T","body":"B"},"data":{"k":"v"},"android":{"collapse_key":"ck","ttl":"3600s","priority":"high"}}}`)
	if code != 200 || !strings.HasPrefix(m["name"].(string), "projects/demo-test/messages/") {
		t.Errorf("send: %d %v", code, m)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("messages = %d", len(got))
	}
	r := got[0]
	if r.Token != "tok-1" || r.Title != "T" || r.Body != "B" || r.Data["k"] != "v" || r.CollapseKey != "ck" ||
		r.TTL != time.Hour || r.Priority != "high" || r.Project != "demo-test" || r.Proto != "HTTP/2.0" || r.Name != m["name"] {
		t.Errorf("received = %+v", r)
	}

	srv.Unregister("tok-gone")
	for _, tc := range []struct {
		name, body       string
		code             int
		status, fcmError string
	}{
		{"unregistered", `{"message":{"token":"tok-gone"}}`, 404, "NOT_FOUND", "UNREGISTERED"},
		{"no target", `{"message":{"data":{"a":"b"}}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"empty token", `{"message":{"token":""}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"two targets", `{"message":{"token":"a","topic":"b"}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"reserved key", `{"message":{"token":"a","data":{"from":"x"}}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"number in data", `{"message":{"token":"a","data":{"n":12}}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
		{"unknown field", `{"message":{"token":"a","tokens":["b"]}}`, 400, "INVALID_ARGUMENT", ""},
		{"bad ttl", `{"message":{"token":"a","android":{"ttl":"1h"}}}`, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
	} {
		code, _, m := post(t, c, url, tc.body)
		status, fcmError := errorOf(m)
		if code != tc.code || status != tc.status || fcmError != tc.fcmError {
			t.Errorf("%s: %d %s %s, want %d %s %s", tc.name, code, status, fcmError, tc.code, tc.status, tc.fcmError)
		}
	}

	// Bearer token.
	code, _, m = post(t, &http.Client{Transport: baseTransport(srv)}, url, `{"message":{"token":"a"}}`)
	if status, _ := errorOf(m); code != 401 || status != "UNAUTHENTICATED" {
		t.Errorf("without bearer: %d %s", code, status)
	}

	// Failures.
	srv.FailNext(2, http.StatusTooManyRequests, 1500*time.Millisecond)
	for range 2 {
		code, after, m := post(t, c, url, `{"message":{"token":"a"}}`)
		status, fcmError := errorOf(m)
		if code != 429 || after != "2" || status != "RESOURCE_EXHAUSTED" || fcmError != "QUOTA_EXCEEDED" {
			t.Errorf("FailNext 429: %d %q %s %s", code, after, status, fcmError)
		}
	}
	if code, _, _ := post(t, c, url, `{"message":{"token":"a"}}`); code != 200 {
		t.Errorf("after FailNext: %d", code)
	}
	for status, want := range map[int][2]string{503: {"UNAVAILABLE", "UNAVAILABLE"}, 500: {"INTERNAL", "INTERNAL"}} {
		srv.FailNext(1, status, 0)
		code, after, m := post(t, c, url, `{"message":{"token":"a"}}`)
		st, fe := errorOf(m)
		if code != status || after != "" || st != want[0] || fe != want[1] {
			t.Errorf("FailNext %d: %d %q %s %s", status, code, after, st, fe)
		}
	}
	if n := srv.Requests(); n != 15 {
		t.Errorf("requests = %d, want 15", n)
	}
}

// baseTransport returns srv's TLS transport without the bearer token.
func baseTransport(srv *fakefcm.Server) http.RoundTripper {
	return srv.Client().Transport.(*oauth2.Transport).Base
}
