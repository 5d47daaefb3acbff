package applepass

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// demoPassProgram returns the demo café's program from assets/demo.
func demoPassProgram(t testing.TB) loyalty.Program {
	t.Helper()
	var seed struct {
		Program loyalty.Program `json:"program"`
	}
	if err := json.Unmarshal(assets.DemoProgram, &seed); err != nil {
		t.Fatal(err)
	}
	return seed.Program
}

// demoCardPass returns a card of the demo program: 1,234 stars, 50 of them
// expiring on 1 February 2027.
func demoCardPass(t testing.TB, l loyalty.Locale) CardPass {
	t.Helper()
	prog := demoPassProgram(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return CardPass{
		Card: loyalty.CardState{
			ProgramID: prog.ID, MemberID: "m-42", UID: "uid-42", CardNumber: "9276123456789013", Locale: l,
			ProgramName: prog.Name, PointName: prog.PointName, TierName: prog.BaseTier,
			Version: 7, Balance: 1234, Available: 1234,
			NextExpiry: time.Date(2027, 2, 1, 0, 0, 0, 0, berlin).UTC(), NextExpiryPoints: 50,
			TakenAt: time.Date(2025, 11, 20, 9, 30, 0, 0, time.UTC),
		},
		Design:        prog.Pass,
		TimeZone:      prog.TimeZone,
		PassTypeID:    "pass.de.treue.loyalty",
		TeamID:        "A1B2C3D4E5",
		Serial:        "5f0c9d3e2a4b6c8d0e1f2a3b4c5d6e7f",
		AuthToken:     "3b5d7f9a1c3e5a7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5a",
		WebServiceURL: "https://treue.example/passkit",
		HolderName:    "Anna Beispiel",
	}
}

func TestNewCardPassGolden(t *testing.T) {
	for _, l := range []loyalty.Locale{loyalty.LocaleDE, loyalty.LocaleEN} {
		t.Run(string(l), func(t *testing.T) {
			p, err := NewCardPass(demoCardPass(t, l))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "card-"+string(l)+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("pass.json differs from %s (-want +got):\n%s", golden, diff)
			}
			// The golden file reads back into the same pass.
			var back Pass
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if err := back.Validate(); err != nil {
				t.Errorf("golden pass: %v", err)
			}
		})
	}
}

// findCardField returns the field with key in p's store card.
func findCardField(p *Pass, key string) (Field, bool) {
	f := p.StoreCard
	for _, fs := range [][]Field{f.HeaderFields, f.PrimaryFields, f.SecondaryFields, f.AuxiliaryFields, f.BackFields} {
		for _, fd := range fs {
			if fd.Key == key {
				return fd, true
			}
		}
	}
	return Field{}, false
}

// cardField returns the field with key in p's store card, or fails.
func cardField(t *testing.T, p *Pass, key string) Field {
	t.Helper()
	fd, ok := findCardField(p, key)
	if !ok {
		t.Fatalf("no field %q", key)
	}
	return fd
}

func TestNewCardPassContent(t *testing.T) {
	t.Parallel()
	in := demoCardPass(t, loyalty.LocaleDE)
	p, err := NewCardPass(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"organizationName", p.OrganizationName, "Café Treue"},
		{"description", p.Description, "Kundenkarte von Café Treue"},
		{"backgroundColor", p.BackgroundColor, "rgb(0, 112, 74)"},
		{"foregroundColor", p.ForegroundColor, "rgb(255, 255, 255)"},
		{"labelColor", p.LabelColor, "rgb(212, 233, 226)"},
		{"balance label", cardField(t, p, "balance").Label, "Sterne"},
		{"tier", cardField(t, p, "tier").Value.String(), "Grün"},
		{"expiry", cardField(t, p, "expiry").Value.String(), "2027-02-01T00:00:00+01:00"},
		{"altText", p.Barcodes[0].AltText, "9276 1234 5678 9013"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !p.SharingProhibited {
		t.Error("sharingProhibited is false: a loyalty card is personal")
	}

	en, err := NewCardPass(demoCardPass(t, loyalty.LocaleEN))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := en.Description, "Café Treue loyalty card"; got != want {
		t.Errorf("English description = %q, want %q", got, want)
	}
	if got, want := cardField(t, en, "balance").Label, "Stars"; got != want {
		t.Errorf("English balance label = %q, want %q", got, want)
	}
}

func TestNewCardPassBalanceIsNumber(t *testing.T) {
	t.Parallel()
	p, err := NewCardPass(demoCardPass(t, loyalty.LocaleDE))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		StoreCard struct {
			PrimaryFields []map[string]any `json:"primaryFields"`
		} `json:"storeCard"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	v := raw.StoreCard.PrimaryFields[0]["value"]
	if n, ok := v.(float64); !ok || n != 1234 {
		t.Errorf("balance value = %#v, want the JSON number 1234", v)
	}
}

func TestNewCardPassOptionalParts(t *testing.T) {
	t.Parallel()
	in := demoCardPass(t, loyalty.LocaleEN)
	in.HolderName = ""
	in.WebServiceURL = ""
	in.Card.NextExpiryPoints = 0
	in.Card.NextExpiry = time.Time{}
	p, err := NewCardPass(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"holder", "expiry", "expiringPoints"} {
		if _, ok := findCardField(p, key); ok {
			t.Errorf("field %q is on the pass, want it left out", key)
		}
	}
	if p.WebServiceURL != "" || p.AuthenticationToken != "" {
		t.Errorf("webServiceURL %q, authenticationToken %q: want neither without a web service URL",
			p.WebServiceURL, p.AuthenticationToken)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"webServiceURL", "authenticationToken", "auxiliaryFields"} {
		if strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("pass.json has %q, want it left out", key)
		}
	}
}

func TestNewCardPassBarcodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		format      string
		wantFormats []string
		wantLegacy  string
	}{
		{"", []string{BarcodeQR}, BarcodeQR},
		{"qr", []string{BarcodeQR}, BarcodeQR},
		{"pdf417", []string{BarcodePDF417, BarcodeQR}, BarcodePDF417},
		{"aztec", []string{BarcodeAztec, BarcodeQR}, BarcodeAztec},
		{"code128", []string{BarcodeCode128, BarcodeQR}, BarcodeQR},
	} {
		in := demoCardPass(t, loyalty.LocaleDE)
		in.Design.BarcodeFormat = c.format
		p, err := NewCardPass(in)
		if err != nil {
			t.Fatalf("format %q: %v", c.format, err)
		}
		var got []string
		for _, b := range p.Barcodes {
			got = append(got, b.Format)
			if b.Message != "9276123456789013" || b.MessageEncoding != "iso-8859-1" || b.AltText != "9276 1234 5678 9013" {
				t.Errorf("format %q: barcode %+v", c.format, b)
			}
		}
		if diff := cmp.Diff(c.wantFormats, got); diff != "" {
			t.Errorf("format %q: barcodes (-want +got):\n%s", c.format, diff)
		}
		if p.Barcode == nil || p.Barcode.Format != c.wantLegacy {
			t.Errorf("format %q: legacy barcode %+v, want %s", c.format, p.Barcode, c.wantLegacy)
		}
	}
}

func TestNewCardPassErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(*CardPass)
		want   string
		isErr  error
	}{
		{"bad design", func(in *CardPass) { in.Design.BackgroundColor = "green" }, "background_color", loyalty.ErrInvalid},
		{"bad time zone", func(in *CardPass) { in.TimeZone = "Mars/Olympus" }, "Mars/Olympus", nil},
		{"no team", func(in *CardPass) { in.TeamID = "" }, "pass.json teamIdentifier:", nil},
		{"short token", func(in *CardPass) { in.AuthToken = "short" }, "pass.json authenticationToken:", nil},
		{"no card number", func(in *CardPass) { in.Card.CardNumber = "" }, "pass.json barcodes[0].message: missing", nil},
	} {
		in := demoCardPass(t, loyalty.LocaleDE)
		c.change(&in)
		_, err := NewCardPass(in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
			continue
		}
		if c.isErr != nil && !errors.Is(err, c.isErr) {
			t.Errorf("%s: err = %v, want it to wrap %v", c.name, err, c.isErr)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 "",
		"123":              "123",
		"1234567890123":    "1234 5678 9012 3",
		"9276123456789013": "9276 1234 5678 9013",
	} {
		if got := loyalty.GroupCardNumber(in); got != want {
			t.Errorf("GroupCardNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
