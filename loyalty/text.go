package loyalty

// Locale is a language the member reads texts in.
type Locale string

// The locales Treue writes texts in.
const (
	LocaleDE Locale = "de"
	LocaleEN Locale = "en"
)

// DefaultLocale is used when neither the request nor the member names one.
const DefaultLocale = LocaleDE

// ParseLocale returns the locale for a language tag such as "de", "en" or
// "en-GB". It returns ErrInvalid for a language Treue has no texts in.
func ParseLocale(tag string) (Locale, error) {
	if len(tag) >= 2 {
		switch Locale(tag[:2]) {
		case LocaleDE:
			return LocaleDE, nil
		case LocaleEN:
			return LocaleEN, nil
		}
	}
	return "", errorf(ErrInvalid, "locale %q is not supported: use de or en", tag)
}

// Text is a text the customer sees, in every language Treue supports.
type Text struct {
	DE string `json:"de"`
	EN string `json:"en"`
}

// In returns the text in locale l, falling back to German.
func (t Text) In(l Locale) string {
	if l == LocaleEN && t.EN != "" {
		return t.EN
	}
	return t.DE
}
