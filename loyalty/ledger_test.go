package loyalty

import "testing"

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		de, en   string
	}{
		{1299, "EUR", "12,99 €", "€12.99"},
		{0, "EUR", "0,00 €", "€0.00"},
		{5, "EUR", "0,05 €", "€0.05"},
		{100, "EUR", "1,00 €", "€1.00"},
		{99_999, "EUR", "999,99 €", "€999.99"},
		{100_000, "EUR", "1.000,00 €", "€1,000.00"},
		{123_456_789, "EUR", "1.234.567,89 €", "€1,234,567.89"},
		{MaxAmountMinor, "EUR", "1.000.000.000,00 €", "€1,000,000,000.00"},
		{-1250, "EUR", "-12,50 €", "-€12.50"},
		{1299, "USD", "12,99 USD", "USD 12.99"},
		{-100_000, "CHF", "-1.000,00 CHF", "-CHF 1,000.00"},
	}
	for _, tt := range tests {
		if got := FormatMoney(tt.amount, tt.currency, LocaleDE); got != tt.de {
			t.Errorf("FormatMoney(%d, %s, de) = %q, want %q", tt.amount, tt.currency, got, tt.de)
		}
		if got := FormatMoney(tt.amount, tt.currency, LocaleEN); got != tt.en {
			t.Errorf("FormatMoney(%d, %s, en) = %q, want %q", tt.amount, tt.currency, got, tt.en)
		}
	}
}

func TestEntryReason(t *testing.T) {
	cake := &Text{DE: "Kuchen", EN: "Cake"}
	tests := []struct {
		e      Entry
		de, en string
	}{
		{Entry{Kind: EntryEarn, Detail: EntryDetail{AmountMinor: 1299, Currency: "EUR"}}, "Einkauf über 12,99 €", "Purchase of €12.99"},
		{Entry{Kind: EntryRedeem, Detail: EntryDetail{RewardName: cake}}, "Prämie eingelöst: Kuchen", "Reward redeemed: Cake"},
		{Entry{Kind: EntryRedeem, Detail: EntryDetail{RewardName: &Text{DE: "Keks"}}}, "Prämie eingelöst: Keks", "Reward redeemed: Keks"},
		{Entry{Kind: EntryReverse, Detail: EntryDetail{AmountMinor: 500, Currency: "EUR"}}, "Rückgabe über 5,00 €", "Return of €5.00"},
		{Entry{Kind: EntryReverse, Detail: EntryDetail{AmountMinor: 500, Currency: "EUR", Unrecovered: 3}},
			"Rückgabe über 5,00 € (3 Punkte waren schon eingelöst)", "Return of €5.00 (3 points had already been spent)"},
		{Entry{Kind: EntryBonus}, "Bonus", "Bonus"},
		{Entry{Kind: EntryAdjust}, "Korrektur", "Correction"},
	}
	for _, tt := range tests {
		if got := tt.e.Reason(LocaleDE); got != tt.de {
			t.Errorf("%s reason (de) = %q, want %q", tt.e.Kind, got, tt.de)
		}
		if got := tt.e.Reason(LocaleEN); got != tt.en {
			t.Errorf("%s reason (en) = %q, want %q", tt.e.Kind, got, tt.en)
		}
	}
}
