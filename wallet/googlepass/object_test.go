package googlepass

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/loyalty"
)

// demoWalletCard returns a card of the demo program in locale l: 1,234
// stars, 50 of them expiring on 1 February 2027 in Berlin.
func demoWalletCard(t testing.TB, p loyalty.Program, l loyalty.Locale) loyalty.CardState {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loyalty.CardState{
		ProgramID: p.ID, MemberID: "m_2x7k9q4w", UID: "uid-42", CardNumber: "9276123456789013", Locale: l,
		ProgramName: p.Name, PointName: p.PointName, TierName: p.BaseTier,
		Version: 7, Balance: 1234, Available: 1234,
		NextExpiry: time.Date(2027, 2, 1, 0, 0, 0, 0, berlin).UTC(), NextExpiryPoints: 50,
		TakenAt: time.Date(2025, 11, 20, 9, 30, 0, 0, time.UTC),
	}
}

var testAppLinks = AppLinks{AppURI: "https://treue.example/app/demo-cafe/card"}

func TestNewLoyaltyObjectGolden(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	for _, l := range []loyalty.Locale{loyalty.LocaleDE, loyalty.LocaleEN} {
		t.Run(string(l), func(t *testing.T) {
			t.Parallel()
			o := NewLoyaltyObject(testIssuerID, p, demoWalletCard(t, p, l), testAppLinks)
			checkGoldenJSON(t, "object-"+string(l)+".golden.json", o)
		})
	}
}

func TestNewLoyaltyObjectBarcodeType(t *testing.T) {
	t.Parallel()
	tests := []struct{ format, want string }{
		{"", "QR_CODE"},
		{"qr", "QR_CODE"},
		{"pdf417", "PDF_417"},
		{"aztec", "AZTEC"},
		{"code128", "CODE_128"},
	}
	p := demoWalletProgram(t)
	for _, tt := range tests {
		p.Pass.BarcodeFormat = tt.format
		o := NewLoyaltyObject(testIssuerID, p, demoWalletCard(t, p, loyalty.LocaleDE), AppLinks{})
		if o.Barcode.Type != tt.want {
			t.Errorf("barcode format %q: type %q, want %q", tt.format, o.Barcode.Type, tt.want)
		}
		if o.Barcode.Value != "9276123456789013" || o.Barcode.AlternateText != "9276 1234 5678 9013" {
			t.Errorf("barcode format %q: value %q, alternate text %q", tt.format, o.Barcode.Value, o.Barcode.AlternateText)
		}
	}
}

func TestNewLoyaltyObjectNoExpiry(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	st := demoWalletCard(t, p, loyalty.LocaleDE)
	st.NextExpiry, st.NextExpiryPoints = time.Time{}, 0
	o := NewLoyaltyObject(testIssuerID, p, st, AppLinks{})
	if o.TextModulesData != nil {
		t.Errorf("textModulesData = %+v, want none without expiring points", o.TextModulesData)
	}
	if o.LinksModuleData != nil {
		t.Errorf("linksModuleData = %+v, want none without an app URI", o.LinksModuleData)
	}
}

func TestNewLoyaltyObjectExpiryTimeZone(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	st := demoWalletCard(t, p, loyalty.LocaleEN)
	// 1 February 2027 00:00 in Berlin is still 31 January in UTC.
	for _, tz := range []string{"", "Europe/Berlin"} {
		p.TimeZone = tz
		o := NewLoyaltyObject(testIssuerID, p, st, AppLinks{})
		if len(o.TextModulesData) != 1 || o.TextModulesData[0].Body != "50 stars expire on 1 February 2027" {
			t.Errorf("time zone %q: textModulesData = %+v", tz, o.TextModulesData)
		}
	}
	p.TimeZone = "America/New_York"
	o := NewLoyaltyObject(testIssuerID, p, st, AppLinks{})
	if got := o.TextModulesData[0].Body; got != "50 stars expire on 31 January 2027" {
		t.Errorf("New York: body %q", got)
	}
}

func TestNewLoyaltyObjectBalance(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	for _, balance := range []int64{0, 1234} {
		st := demoWalletCard(t, p, loyalty.LocaleDE)
		st.Balance = balance
		b, err := json.Marshal(NewLoyaltyObject(testIssuerID, p, st, AppLinks{}))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			LoyaltyPoints struct {
				Balance map[string]json.RawMessage `json:"balance"`
			} `json:"loyaltyPoints"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		var n int64
		raw, ok := got.LoyaltyPoints.Balance["int"]
		if !ok || json.Unmarshal(raw, &n) != nil || n != balance || len(got.LoyaltyPoints.Balance) != 1 {
			t.Errorf("balance %d: loyaltyPoints.balance = %s", balance, b)
		}
	}
}

func TestNewLoyaltyObjectPointNameFallback(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	st := demoWalletCard(t, p, loyalty.LocaleEN)
	st.PointName = loyalty.Text{}
	o := NewLoyaltyObject(testIssuerID, p, st, AppLinks{})
	if o.LoyaltyPoints.Label != "Points" || o.LoyaltyPoints.LocalizedLabel.DefaultValue.Value != "Punkte" {
		t.Errorf("label %q, localized %+v", o.LoyaltyPoints.Label, o.LoyaltyPoints.LocalizedLabel.DefaultValue)
	}
	if body := o.TextModulesData[0].Body; !strings.HasPrefix(body, "50 points expire") {
		t.Errorf("body %q", body)
	}
}

func TestGroupThousands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {50, "50"}, {999, "999"}, {1000, "1.000"}, {1234567, "1.234.567"}, {-1234, "-1.234"},
	}
	for _, tt := range tests {
		if got := loyalty.GroupThousands(tt.n, "."); got != tt.want {
			t.Errorf("GroupThousands(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
