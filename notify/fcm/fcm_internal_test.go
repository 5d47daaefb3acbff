package fcm

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/notify"
	"github.com/treue/treue/redact"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{" 2 ", 2 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	s := &Sender{minBackoff: 500 * time.Millisecond, maxBackoff: 30 * time.Second}
	for _, tc := range []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, 500 * time.Millisecond, time.Second},
		{3, time.Second, 2 * time.Second},
		{7, 15 * time.Second, 30 * time.Second},
		{100, 15 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if d := s.backoffDelay(tc.attempt); d < tc.lo || d > tc.hi {
				t.Fatalf("backoffDelay(%d) = %v, want in [%v, %v]", tc.attempt, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestNewMessage(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m, err := newMessage(notify.Push{
		Token: "tok", Title: "T", Body: "B", Data: map[string]string{"link": "treue://x"},
		Collapse: "points_earned", TTL: 90*time.Minute + 300*time.Millisecond,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	ttl := 90*time.Minute + time.Second
	if m.Notification == nil || m.Notification.Title != "T" || m.Notification.Body != "B" {
		t.Errorf("notification = %+v", m.Notification)
	}
	if m.Android.CollapseKey != "points_earned" || m.Android.Priority != "high" || *m.Android.TTL != ttl {
		t.Errorf("android = %+v", m.Android)
	}
	wantAPNS := map[string]string{"apns-collapse-id": "points_earned", "apns-expiration": "1800005401"}
	if diff := cmp.Diff(wantAPNS, m.APNS.Headers); diff != "" {
		t.Errorf("apns headers (-want +got):\n%s", diff)
	}
	wantWeb := map[string]string{"TTL": "5401", "Topic": "points_earned"}
	if diff := cmp.Diff(wantWeb, m.Webpush.Headers); diff != "" {
		t.Errorf("webpush headers (-want +got):\n%s", diff)
	}

	// Data only, no TTL, a collapse key Web Push cannot use, a TTL above
	// FCM's maximum.
	m, err = newMessage(notify.Push{Token: "tok", Data: map[string]string{"a": "b"}, Collapse: "a:b"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Notification != nil || m.Android.Priority != "normal" || m.Android.TTL != nil || m.Webpush != nil {
		t.Errorf("data-only message = %+v, android %+v, webpush %+v", m, m.Android, m.Webpush)
	}
	m, _ = newMessage(notify.Push{Token: "tok", Title: "x", TTL: 365 * 24 * time.Hour}, now)
	if *m.Android.TTL != MaxTTL {
		t.Errorf("TTL = %v, want %v", *m.Android.TTL, MaxTTL)
	}
}

func TestNewMessageInvalid(t *testing.T) {
	for name, p := range map[string]notify.Push{
		"no token":      {Title: "x"},
		"from":          {Token: "secret-token-1", Data: map[string]string{"from": "x"}},
		"message_type":  {Token: "secret-token-1", Data: map[string]string{"message_type": "x"}},
		"google prefix": {Token: "secret-token-1", Data: map[string]string{"google.c.a.e": "1"}},
		"Google prefix": {Token: "secret-token-1", Data: map[string]string{"Google_x": "1"}},
		"gcm prefix":    {Token: "secret-token-1", Data: map[string]string{"gcm.notification.x": "1"}},
		"empty key":     {Token: "secret-token-1", Data: map[string]string{"": "1"}},
		"too much data": {Token: "secret-token-1", Data: map[string]string{"k": strings.Repeat("x", MaxDataSize)}},
		"negative TTL":  {Token: "secret-token-1", TTL: -time.Second},
		"long collapse": {Token: "secret-token-1", Collapse: strings.Repeat("c", 65)},
	} {
		if _, err := newMessage(p, time.Now()); !errors.Is(err, ErrInvalidPush) {
			t.Errorf("%s: err = %v, want ErrInvalidPush", name, err)
		} else if p.Token != "" && strings.Contains(err.Error(), p.Token) {
			t.Errorf("%s: error %q contains the token", name, err)
		}
	}
	if _, err := newMessage(notify.Push{Token: "secret-token-1", Data: map[string]string{"collapse_key": "x", "fromage": "brie"}}, time.Now()); err != nil {
		t.Errorf("allowed keys refused: %v", err)
	}
}

func TestSanitize(t *testing.T) {
	tok := "dXk3:APA91bFakeToken"
	got := sanitize("token "+tok+"\nis bad", tok)
	if strings.Contains(got, tok) || !strings.Contains(got, redact.Token(tok)) || strings.Contains(got, "\n") {
		t.Errorf("sanitize = %q", got)
	}
	if got := sanitize(strings.Repeat("é", 400), ""); len(got) > 304 {
		t.Errorf("sanitize did not cut: %d bytes", len(got))
	}
}
