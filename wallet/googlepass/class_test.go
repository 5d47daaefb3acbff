package googlepass

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/loyalty"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testIssuerID is an issuer id of the form Google issues.
const testIssuerID = "3388000000012345678"

// demoWalletProgram returns the demo café's program from assets/demo.
func demoWalletProgram(t testing.TB) loyalty.Program {
	t.Helper()
	var seed struct {
		Program loyalty.Program `json:"program"`
	}
	if err := json.Unmarshal(assets.DemoProgram, &seed); err != nil {
		t.Fatal(err)
	}
	return seed.Program
}

// checkGoldenJSON compares v, indented JSON, with testdata/name, and
// rewrites the file first with -update.
func checkGoldenJSON(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), rerun with -update if intended:\n%s", golden, diff)
	}
}

func TestNewLoyaltyClassGolden(t *testing.T) {
	t.Parallel()
	c := NewLoyaltyClass(testIssuerID, demoWalletProgram(t), ClassURLs{
		Logo:     "https://treue.example/google-wallet/logo.png",
		Callback: "https://treue.example/google-wallet/callbacks",
	})
	checkGoldenJSON(t, "class.golden.json", c)
}

func TestNewLoyaltyClassDefaults(t *testing.T) {
	t.Parallel()
	p := demoWalletProgram(t)
	p.Pass = loyalty.PassDesign{}
	c := NewLoyaltyClass(testIssuerID, p, ClassURLs{Logo: "https://treue.example/logo.png"})
	if c.HexBackgroundColor != loyalty.DefaultPassBackground {
		t.Errorf("hexBackgroundColor = %q, want the default %q", c.HexBackgroundColor, loyalty.DefaultPassBackground)
	}
	if c.Id != testIssuerID+".demo-cafe" {
		t.Errorf("id = %q", c.Id)
	}
	if c.CallbackOptions != nil {
		t.Errorf("callbackOptions = %+v without a callback URL", c.CallbackOptions)
	}
	if c.ProgramLogo == nil || c.ProgramLogo.SourceUri.Uri != "https://treue.example/logo.png" {
		t.Errorf("programLogo = %+v, want the logo URL", c.ProgramLogo)
	}
	if c.ReviewStatus != "UNDER_REVIEW" || c.MultipleDevicesAndHoldersAllowedStatus != "ONE_USER_ALL_DEVICES" || c.EnableSmartTap {
		t.Errorf("reviewStatus %q, multipleDevicesAndHoldersAllowedStatus %q, enableSmartTap %v",
			c.ReviewStatus, c.MultipleDevicesAndHoldersAllowedStatus, c.EnableSmartTap)
	}
}

func TestLocalizedText(t *testing.T) {
	t.Parallel()
	got := localizedText(loyalty.Text{DE: "Kartennummer"})
	if got.DefaultValue.Language != "de" || got.DefaultValue.Value != "Kartennummer" || got.TranslatedValues != nil {
		t.Errorf("German only: %+v %+v", got.DefaultValue, got.TranslatedValues)
	}
	got = localizedText(loyalty.Text{DE: "Kartennummer", EN: "Card number"})
	if len(got.TranslatedValues) != 1 || got.TranslatedValues[0].Language != "en" || got.TranslatedValues[0].Value != "Card number" {
		t.Errorf("translated values = %+v", got.TranslatedValues)
	}
}
