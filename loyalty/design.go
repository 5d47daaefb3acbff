package loyalty

import (
	"regexp"
)

// PassDesign is how a program's wallet passes look: the same colors and
// texts on Apple and Google passes.
type PassDesign struct {
	// BackgroundColor, ForegroundColor and LabelColor are "#rrggbb";
	// empty takes the default (a dark green card with white text).
	BackgroundColor string `json:"background_color,omitempty"`
	ForegroundColor string `json:"foreground_color,omitempty"`
	LabelColor      string `json:"label_color,omitempty"`
	// LogoText is shown next to the logo; empty shows the program's name.
	LogoText string `json:"logo_text,omitempty"`
	// BarcodeFormat is the card barcode on the pass: qr (the default),
	// pdf417, aztec or code128.
	BarcodeFormat string `json:"barcode_format,omitempty"`
}

// Default pass colors.
const (
	DefaultPassBackground = "#00704a"
	DefaultPassForeground = "#ffffff"
	DefaultPassLabel      = "#d4e9e2"
)

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// WithDefaults returns d with every empty setting set to its default, for a
// program named name.
func (d PassDesign) WithDefaults(name string) PassDesign {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&d.BackgroundColor, DefaultPassBackground)
	set(&d.ForegroundColor, DefaultPassForeground)
	set(&d.LabelColor, DefaultPassLabel)
	set(&d.LogoText, name)
	set(&d.BarcodeFormat, "qr")
	return d
}

// maxLogoText bounds PassDesign.LogoText: Wallet cuts longer texts.
const maxLogoText = 40

// Validate returns ErrInvalid when a setting is malformed.
func (d PassDesign) Validate() error {
	for _, c := range []struct{ name, v string }{
		{"background_color", d.BackgroundColor}, {"foreground_color", d.ForegroundColor}, {"label_color", d.LabelColor},
	} {
		if c.v != "" && !hexColor.MatchString(c.v) {
			return errorf(ErrInvalid, "pass %s %q: want #rrggbb", c.name, c.v)
		}
	}
	if len([]rune(d.LogoText)) > maxLogoText {
		return errorf(ErrInvalid, "pass logo_text: at most %d characters", maxLogoText)
	}
	switch d.BarcodeFormat {
	case "", "qr", "pdf417", "aztec", "code128":
	default:
		return errorf(ErrInvalid, "pass barcode_format %q: want qr, pdf417, aztec or code128", d.BarcodeFormat)
	}
	return nil
}
