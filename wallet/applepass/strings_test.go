package applepass

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/loyalty"
)

// parseStrings reads a .strings file as formatStrings writes it: one
// `"key" = "value";` line each, with backslash escapes.
func parseStrings(t *testing.T, data []byte) map[string]string {
	t.Helper()
	if !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("not UTF-8 without a byte order mark: % x", data[:min(len(data), 8)])
	}
	out := map[string]string{}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		key, rest, ok := readQuoted(line)
		if !ok || !strings.HasPrefix(rest, " = ") {
			t.Fatalf("malformed line %q", line)
		}
		value, rest, ok := readQuoted(strings.TrimPrefix(rest, " = "))
		if !ok || rest != ";" {
			t.Fatalf("malformed line %q", line)
		}
		if _, dup := out[key]; dup {
			t.Fatalf("key %q twice", key)
		}
		out[key] = value
	}
	return out
}

// readQuoted reads a quoted string with .strings escapes from the start of
// s and returns it and what follows.
func readQuoted(s string) (string, string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\n':
			return "", s, false // raw newlines must be escaped
		case '\\':
			i++
			if i >= len(s) {
				return "", s, false
			}
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(s[i])
			case 'U':
				if i+4 >= len(s) {
					return "", s, false
				}
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
				if err != nil {
					return "", s, false
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				return "", s, false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", s, false
}

// parsedLocalizations returns the parsed pass.strings of p by lproj name.
func parsedLocalizations(t *testing.T, p loyalty.Program) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, f := range Localizations(p) {
		out[f.Name] = parseStrings(t, f.Data)
	}
	return out
}

func TestLocalizationsDemo(t *testing.T) {
	t.Parallel()
	got := parsedLocalizations(t, demoPassProgram(t))
	want := map[string]map[string]string{
		"de.lproj/pass.strings": {
			"treue.balance.changeMessage": "Du hast jetzt %@ Sterne",
			"treue.tier.changeMessage":    "Dein Status: %@",
		},
		"en.lproj/pass.strings": {
			"treue.balance.changeMessage": "You now have %@ stars",
			"treue.tier.changeMessage":    "Your status: %@",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Localizations (-want +got):\n%s", diff)
	}
}

// TestLocalizationsCoverCardPass checks that every localization key a
// card pass refers to is in both languages, and that each text is a format
// string Wallet can fill in.
func TestLocalizationsCoverCardPass(t *testing.T) {
	t.Parallel()
	strs := parsedLocalizations(t, demoPassProgram(t))
	if len(strs) != 2 {
		t.Fatalf("Localizations returned %d files, want de and en", len(strs))
	}
	for _, l := range []loyalty.Locale{loyalty.LocaleDE, loyalty.LocaleEN} {
		p, err := NewCardPass(demoCardPass(t, l))
		if err != nil {
			t.Fatal(err)
		}
		f := p.StoreCard
		keys := 0
		for _, fs := range [][]Field{f.HeaderFields, f.PrimaryFields, f.SecondaryFields, f.AuxiliaryFields, f.BackFields} {
			for _, fd := range fs {
				if fd.ChangeMessage == "" {
					continue
				}
				keys++
				if !strings.HasPrefix(fd.ChangeMessage, "treue.") {
					t.Errorf("%s: field %s: changeMessage %q is not a localization key", l, fd.Key, fd.ChangeMessage)
				}
				for name, m := range strs {
					text, ok := m[fd.ChangeMessage]
					switch {
					case !ok:
						t.Errorf("%s: field %s: key %q missing from %s", l, fd.Key, fd.ChangeMessage, name)
					case strings.Count(text, "%@") != 1 || badFormatVerb(text) != "":
						t.Errorf("%s: %q = %q: want exactly one %%@ and no other verb", name, fd.ChangeMessage, text)
					}
				}
			}
		}
		if keys != 2 {
			t.Errorf("%s: %d fields with a changeMessage, want balance and tier", l, keys)
		}
	}
}

func TestLocalizationsEscaping(t *testing.T) {
	t.Parallel()
	p := demoPassProgram(t)
	p.PointName = loyalty.Text{DE: "\"Treue\"-Punkte \\ 100% \n neu", EN: ""}
	files := Localizations(p)
	de := string(files[0].Data)
	if want := `"treue.balance.changeMessage" = "Du hast jetzt %@ \"Treue\"-Punkte \\ 100%% \n neu";`; !strings.Contains(de, want) {
		t.Errorf("de.lproj/pass.strings =\n%s\nwant the line\n%s", de, want)
	}
	got := parsedLocalizations(t, p)
	if got, want := got["de.lproj/pass.strings"]["treue.balance.changeMessage"], "Du hast jetzt %@ \"Treue\"-Punkte \\ 100%% \n neu"; got != want {
		t.Errorf("read back %q, want %q", got, want)
	}
	// Without an English point name the German one is used.
	if got, want := got["en.lproj/pass.strings"]["treue.balance.changeMessage"], "You now have %@ \"Treue\"-Punkte \\ 100%% \n neu"; got != want {
		t.Errorf("en read back %q, want %q", got, want)
	}
	for _, s := range []string{"a\x01b", "tab\there", "cr\rlf"} {
		data := formatStrings(map[string]string{"k": s})
		if got := parseStrings(t, data)["k"]; got != s {
			t.Errorf("%q written as %s reads back as %q", s, data, got)
		}
	}
}

func TestLocalizationsWithoutPointName(t *testing.T) {
	t.Parallel()
	p := demoPassProgram(t)
	p.PointName = loyalty.Text{}
	got := parsedLocalizations(t, p)
	for name, want := range map[string]string{
		"de.lproj/pass.strings": "Du hast jetzt %@ Punkte",
		"en.lproj/pass.strings": "You now have %@ points",
	} {
		if got := got[name]["treue.balance.changeMessage"]; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func ExampleLocalizations() {
	p := loyalty.Program{Name: "Café Treue", PointName: loyalty.Text{DE: "Sterne", EN: "stars"}}
	for _, f := range Localizations(p) {
		fmt.Printf("%s:\n%s", f.Name, f.Data)
	}
	// Output:
	// de.lproj/pass.strings:
	// "treue.balance.changeMessage" = "Du hast jetzt %@ Sterne";
	// "treue.tier.changeMessage" = "Dein Status: %@";
	// en.lproj/pass.strings:
	// "treue.balance.changeMessage" = "You now have %@ stars";
	// "treue.tier.changeMessage" = "Your status: %@";
}
