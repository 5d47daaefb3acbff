package applepass

import (
	"fmt"
	"slices"
	"strings"

	"github.com/treue/treue/loyalty"
)

// Localization scheme: pass.json carries the member's texts literally, in
// the member's locale (loyalty.CardState.Locale), so the pass reads as the
// app does. The one exception are changeMessages: they are keys of
// pass.strings (the constants below), because Wallet puts the field's new
// value into them and shows them as notifications. Wallet resolves keys in
// the lproj of the device's language, falling back to another lproj when
// none matches; so a member who chose German on an English iPhone sees
// German fields and English notifications. The keys carry a "treue." prefix
// so that no literal text (which Wallet looks up too) is ever taken for one.
const (
	keyBalanceChanged = "treue.balance.changeMessage"
	keyTierChanged    = "treue.tier.changeMessage"
)

// passStrings returns the pass.strings entries in locale l for a program
// whose points are called pointName.
func passStrings(l loyalty.Locale, pointName loyalty.Text) map[string]string {
	// The point name goes into a format string, where % must be doubled.
	points := strings.ReplaceAll(pointNameIn(pointName, l), "%", "%%")
	if l == loyalty.LocaleEN {
		return map[string]string{
			keyBalanceChanged: "You now have %@ " + points,
			keyTierChanged:    "Your status: %@",
		}
	}
	return map[string]string{
		keyBalanceChanged: "Du hast jetzt %@ " + points,
		keyTierChanged:    "Dein Status: %@",
	}
}

// pointNameIn returns what a program calls its points in locale l, and
// Punkte or points when it calls them nothing.
func pointNameIn(name loyalty.Text, l loyalty.Locale) string {
	if s := name.In(l); s != "" {
		return s
	}
	if l == loyalty.LocaleEN {
		return "points"
	}
	return "Punkte"
}

// Localizations returns the pass.strings files of program p's passes:
// de.lproj/pass.strings and en.lproj/pass.strings, each with every key
// NewCardPass refers to, in the point name p.PointName gives in that
// language (German where it has no English one, Punkte or points where it
// has none).
//
// The files are UTF-8 without a byte order mark. Apple recommends UTF-8 for
// strings files; the system's strings parser reads UTF-8 and takes UTF-16
// only from a byte order mark, and Wallet shows the umlauts of UTF-8
// pass.strings as other pass generators (passkit-generator) write them.
func Localizations(p loyalty.Program) []File {
	locales := []loyalty.Locale{loyalty.LocaleDE, loyalty.LocaleEN}
	files := make([]File, 0, len(locales))
	for _, l := range locales {
		files = append(files, File{
			Name: string(l) + ".lproj/pass.strings",
			Data: formatStrings(passStrings(l, p.PointName)),
		})
	}
	return files
}

// formatStrings returns entries in Apple's .strings format, one
// `"key" = "value";` line each, sorted by key.
func formatStrings(entries map[string]string) []byte {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\"%s\" = \"%s\";\n", escapeStrings(k), escapeStrings(entries[k]))
	}
	return []byte(b.String())
}

// escapeStrings escapes s for a quoted string of a .strings file:
// backslash, double quote, newline, carriage return and tab get backslash
// escapes, other control characters \U escapes.
func escapeStrings(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\U%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
