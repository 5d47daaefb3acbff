package applepass

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// validPass returns a store card that passes Validate.
func validPass() *Pass {
	return &Pass{
		FormatVersion:       1,
		PassTypeIdentifier:  "pass.de.treue.loyalty",
		SerialNumber:        "0123456789abcdef",
		TeamIdentifier:      "A1B2C3D4E5",
		OrganizationName:    "Café Treue",
		Description:         "Kundenkarte von Café Treue",
		BackgroundColor:     "rgb(0, 112, 74)",
		ForegroundColor:     "rgb(255,255,255)",
		WebServiceURL:       "https://treue.example/passkit",
		AuthenticationToken: "0123456789abcdef",
		Barcodes:            []Barcode{{Format: BarcodeQR, Message: "9276123456789013", MessageEncoding: "iso-8859-1"}},
		StoreCard: &Fields{
			PrimaryFields: []Field{{Key: "balance", Label: "Sterne", Value: IntValue(12), NumberStyle: NumberStyleDecimal}},
			SecondaryFields: []Field{{
				Key: "expiry", Label: "Verfallen am", Value: StringValue("2027-02-01T00:00+01:00"),
				DateStyle: DateStyleMedium, IgnoresTimeZone: true,
			}},
			BackFields: []Field{{Key: "help", Value: StringValue("Zeig den Code."), DataDetectorTypes: []string{}}},
		},
	}
}

func TestValidateAcceptsValidPass(t *testing.T) {
	t.Parallel()
	if err := validPass().Validate(); err != nil {
		t.Fatal(err)
	}
	p := validPass()
	p.WebServiceURL, p.AuthenticationToken = "", ""
	if err := p.Validate(); err != nil {
		t.Errorf("without web service: %v", err)
	}
	for _, u := range []string{"http://localhost:8080/passkit", "http://127.0.0.1/passkit", "http://[::1]:8080"} {
		p := validPass()
		p.WebServiceURL = u
		if err := p.Validate(); err != nil {
			t.Errorf("loopback %s: %v", u, err)
		}
	}
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	many := func(n int) []Field {
		fs := make([]Field, n)
		for i := range fs {
			fs[i] = Field{Key: "f" + string(rune('a'+i)), Value: StringValue("x")}
		}
		return fs
	}
	for _, c := range []struct {
		name   string
		change func(p *Pass)
		want   string
	}{
		{"formatVersion", func(p *Pass) { p.FormatVersion = 2 },
			"pass.json formatVersion: is 2, must be 1"},
		{"passTypeIdentifier missing", func(p *Pass) { p.PassTypeIdentifier = "" },
			`pass.json passTypeIdentifier: "": want a pass type identifier such as pass.com.example.loyalty`},
		{"passTypeIdentifier prefix", func(p *Pass) { p.PassTypeIdentifier = "de.treue.loyalty" },
			`pass.json passTypeIdentifier: "de.treue.loyalty": want a pass type identifier such as pass.com.example.loyalty`},
		{"serialNumber missing", func(p *Pass) { p.SerialNumber = "" },
			`pass.json serialNumber: "": want 1 to 128 letters, digits, '.', '_' or '-'`},
		{"serialNumber slash", func(p *Pass) { p.SerialNumber = "a/b" },
			`pass.json serialNumber: "a/b": want 1 to 128 letters, digits, '.', '_' or '-'`},
		{"teamIdentifier", func(p *Pass) { p.TeamIdentifier = "abc" },
			`pass.json teamIdentifier: "abc": want the 10-character team ID`},
		{"organizationName", func(p *Pass) { p.OrganizationName = " " },
			"pass.json organizationName: missing"},
		{"description", func(p *Pass) { p.Description = "" },
			"pass.json description: missing"},
		{"color form", func(p *Pass) { p.BackgroundColor = "#00704a" },
			`pass.json backgroundColor: "#00704a": want rgb(r, g, b) with components 0 to 255`},
		{"color range", func(p *Pass) { p.LabelColor = "rgb(0, 256, 0)" },
			`pass.json labelColor: "rgb(0, 256, 0)": want rgb(r, g, b) with components 0 to 255`},
		{"token without URL", func(p *Pass) { p.WebServiceURL = "" },
			"pass.json webServiceURL: missing: authenticationToken is set"},
		{"URL without token", func(p *Pass) { p.AuthenticationToken = "" },
			"pass.json authenticationToken: missing: webServiceURL is set"},
		{"token length", func(p *Pass) { p.AuthenticationToken = "0123456789abcde" },
			"pass.json authenticationToken: 15 characters, at least 16"},
		{"token characters", func(p *Pass) { p.AuthenticationToken = "0123456789 abcdef" },
			"pass.json authenticationToken: may hold only printable ASCII characters without spaces"},
		{"URL http", func(p *Pass) { p.WebServiceURL = "http://treue.example/passkit" },
			`pass.json webServiceURL: "http://treue.example/passkit": http only on a loopback host, for development: use https`},
		{"URL relative", func(p *Pass) { p.WebServiceURL = "/passkit" },
			`pass.json webServiceURL: "/passkit": want an absolute https URL`},
		{"URL scheme", func(p *Pass) { p.WebServiceURL = "ftp://treue.example" },
			`pass.json webServiceURL: "ftp://treue.example": want an absolute https URL`},
		{"URL query", func(p *Pass) { p.WebServiceURL = "https://treue.example/passkit?a=1" },
			`pass.json webServiceURL: "https://treue.example/passkit?a=1": want no user, query or fragment`},
		{"barcode format", func(p *Pass) { p.Barcodes[0].Format = "PKBarcodeFormatEAN13" },
			`pass.json barcodes[0].format: "PKBarcodeFormatEAN13": want PKBarcodeFormatQR, PKBarcodeFormatPDF417, PKBarcodeFormatAztec or PKBarcodeFormatCode128`},
		{"barcode message", func(p *Pass) { p.Barcodes[0].Message = "" },
			"pass.json barcodes[0].message: missing"},
		{"barcode encoding", func(p *Pass) { p.Barcodes[0].MessageEncoding = "" },
			"pass.json barcodes[0].messageEncoding: missing: want iso-8859-1"},
		{"barcode latin-1", func(p *Pass) { p.Barcodes[0].Message = "5 €" },
			`pass.json barcodes[0].message: '€' is not in iso-8859-1`},
		{"code128 ascii", func(p *Pass) {
			p.Barcodes = append(p.Barcodes, Barcode{Format: BarcodeCode128, Message: "Grün", MessageEncoding: "iso-8859-1"})
		}, `pass.json barcodes[1].message: PKBarcodeFormatCode128 holds only printable ASCII, not 'ü'`},
		{"legacy code128", func(p *Pass) {
			p.Barcode = &Barcode{Format: BarcodeCode128, Message: "123", MessageEncoding: "iso-8859-1"}
		}, "pass.json barcode.format: PKBarcodeFormatCode128 cannot be the legacy barcode: iOS 8 and earlier cannot show it"},
		{"no style", func(p *Pass) { p.StoreCard = nil },
			"pass.json storeCard: missing: a pass needs exactly one style"},
		{"two styles", func(p *Pass) { p.Coupon = &Fields{} },
			"pass.json coupon: a pass has exactly one style, and storeCard is set"},
		{"other style", func(p *Pass) { p.Generic, p.StoreCard = p.StoreCard, nil },
			"pass.json generic: only storeCard passes are made here"},
		{"header fields", func(p *Pass) { p.StoreCard.HeaderFields = many(4) },
			"pass.json storeCard.headerFields: 4 fields, a store card shows at most 3"},
		{"primary fields", func(p *Pass) {
			p.StoreCard.PrimaryFields = append(p.StoreCard.PrimaryFields, Field{Key: "more", Value: StringValue("x")})
		}, "pass.json storeCard.primaryFields: 2 fields, a store card shows at most 1"},
		{"secondary and auxiliary fields", func(p *Pass) { p.StoreCard.AuxiliaryFields = many(4) },
			"pass.json storeCard.auxiliaryFields: 5 secondary and auxiliary fields, a store card shows at most 4"},
		{"back fields", func(p *Pass) { p.StoreCard.BackFields = many(21) },
			"pass.json storeCard.backFields: 21 fields, at most 20"},
		{"duplicate key", func(p *Pass) { p.StoreCard.BackFields[0].Key = "balance" },
			`pass.json storeCard.backFields[0].key: "balance" is also the key of storeCard.primaryFields[0]: keys must be unique`},
		{"missing key", func(p *Pass) { p.StoreCard.BackFields[0].Key = "" },
			"pass.json storeCard.backFields[0].key: missing"},
		{"missing value", func(p *Pass) { p.StoreCard.PrimaryFields[0].Value = FieldValue{} },
			"pass.json storeCard.primaryFields[0].value: missing: want a string or a number"},
		{"dateStyle", func(p *Pass) { p.StoreCard.SecondaryFields[0].DateStyle = "medium" },
			`pass.json storeCard.secondaryFields[0].dateStyle: "medium" is not a PKDateStyle`},
		{"timeStyle", func(p *Pass) { p.StoreCard.SecondaryFields[0].TimeStyle = "PKTimeStyleShort" },
			`pass.json storeCard.secondaryFields[0].timeStyle: "PKTimeStyleShort" is not a PKDateStyle`},
		{"date without zone", func(p *Pass) { p.StoreCard.SecondaryFields[0].Value = StringValue("2027-02-01") },
			`pass.json storeCard.secondaryFields[0].value: "2027-02-01": a date field needs an ISO 8601 date-time with a time zone`},
		{"date as number", func(p *Pass) { p.StoreCard.SecondaryFields[0].Value = IntValue(1) },
			`pass.json storeCard.secondaryFields[0].value: "1": a date field needs an ISO 8601 date-time with a time zone`},
		{"isRelative without date", func(p *Pass) { p.StoreCard.BackFields[0].IsRelative = true },
			"pass.json storeCard.backFields[0]: isRelative and ignoresTimeZone need a dateStyle or timeStyle"},
		{"numberStyle", func(p *Pass) { p.StoreCard.PrimaryFields[0].NumberStyle = "PKNumberStyleRoman" },
			`pass.json storeCard.primaryFields[0].numberStyle: "PKNumberStyleRoman" is not a PKNumberStyle`},
		{"numberStyle on string", func(p *Pass) { p.StoreCard.PrimaryFields[0].Value = StringValue("12") },
			"pass.json storeCard.primaryFields[0].value: numberStyle needs a number value"},
		{"currencyCode", func(p *Pass) { p.StoreCard.PrimaryFields[0].CurrencyCode = "euro" },
			`pass.json storeCard.primaryFields[0].currencyCode: "euro" is not an ISO 4217 code`},
		{"currencyCode on string", func(p *Pass) {
			p.StoreCard.BackFields[0].CurrencyCode = "EUR"
		}, "pass.json storeCard.backFields[0].value: currencyCode needs a number value"},
		{"textAlignment", func(p *Pass) { p.StoreCard.PrimaryFields[0].TextAlignment = "center" },
			`pass.json storeCard.primaryFields[0].textAlignment: "center" is not a PKTextAlignment`},
		{"changeMessage verb", func(p *Pass) { p.StoreCard.PrimaryFields[0].ChangeMessage = "Du hast %d Sterne" },
			`pass.json storeCard.primaryFields[0].changeMessage: "Du hast %d Sterne": only %@ may stand for the value, not %d`},
		{"dataDetectorTypes", func(p *Pass) { p.StoreCard.BackFields[0].DataDetectorTypes = []string{"PKDataDetectorTypeEmail"} },
			`pass.json storeCard.backFields[0].dataDetectorTypes[0]: "PKDataDetectorTypeEmail" is not a PKDataDetectorType`},
		{"size", func(p *Pass) { p.StoreCard.BackFields[0].Value = StringValue(strings.Repeat("x", MaxPassJSON)) },
			"pass.json: 66334 bytes, at most 65536"},
	} {
		p := validPass()
		c.change(p)
		err := p.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil, want %s", c.name, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s: Validate() = %s\n want %s", c.name, err, c.want)
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %T is not a *ValidationError", c.name, err)
		}
		if _, err := p.JSON(); err == nil {
			t.Errorf("%s: JSON() returned no error", c.name)
		}
	}
}

func TestChangeMessageVerbs(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"":                   "",
		"treue.balance.key":  "",
		"Du hast %@ Sterne":  "",
		"100%% sicher: %@":   "",
		"Rabatt 10%":         "%",
		"%1$@":               "%1",
		"Stand: %s":          "%s",
		"Gate %@ changed %i": "%i",
	} {
		if got := badFormatVerb(msg); got != want {
			t.Errorf("badFormatVerb(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestFieldValueJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    FieldValue
		json string
	}{
		{IntValue(1234), `1234`},
		{IntValue(-5), `-5`},
		{StringValue("Grün \"Gold\""), `"Grün \"Gold\""`},
		{StringValue(""), `""`},
		{FieldValue{}, `null`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.json {
			t.Errorf("Marshal(%v) = %s, want %s", c.v, b, c.json)
		}
	}

	var f Field
	if err := json.Unmarshal([]byte(`{"key":"k","value":12.5}`), &f); err != nil {
		t.Fatal(err)
	}
	if !f.Value.IsNumber() || f.Value.String() != "12.5" {
		t.Errorf("number read as %#v", f.Value)
	}
	if err := json.Unmarshal([]byte(`{"key":"k","value":"12"}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.Value.IsNumber() || f.Value.String() != "12" {
		t.Errorf("string read as %#v", f.Value)
	}
	for _, bad := range []string{`true`, `null`, `{}`, `[1]`} {
		var v FieldValue
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) = %#v, want an error: only strings and numbers", bad, v)
		}
	}
}

func TestFieldOmitsEmptyKeys(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Field{Key: "k", Value: StringValue("v")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"key":"k","value":"v"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	b, err = json.Marshal(Field{Key: "k", Value: StringValue("v"), DataDetectorTypes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"key":"k","value":"v","dataDetectorTypes":[]}`; got != want {
		t.Errorf("Marshal = %s, want %s (an empty list turns data detectors off)", got, want)
	}
}
