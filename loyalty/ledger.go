package loyalty

import (
	"fmt"
	"strings"
	"time"
)

// EntryKind is the kind of a ledger entry.
type EntryKind string

// The kinds of ledger entry.
const (
	EntryEarn    EntryKind = "earn"
	EntryRedeem  EntryKind = "redeem"
	EntryReverse EntryKind = "reverse"
	EntryBonus   EntryKind = "bonus"
	EntryAdjust  EntryKind = "adjust"
	EntryExpire  EntryKind = "expire"
	// EntryCapture spends points held at checkout (pay with points).
	EntryCapture EntryKind = "capture"
	// EntryTier records a move to another tier; it has no points.
	EntryTier EntryKind = "tier"
	// EntryVoucher records a voucher given by a stamp card; no points.
	EntryVoucher EntryKind = "voucher"
)

// Entry is one append-only line of a member's points ledger.
type Entry struct {
	// ID is assigned by the store, increasing in the order entries are written.
	ID           int64
	ProgramID    string
	MemberID     string
	Kind         EntryKind
	Points       int64
	BalanceAfter int64
	// Version is the account's version right after the entry.
	Version   int64
	CreatedAt time.Time
	// PurchaseID links earn and reverse entries to their purchase.
	PurchaseID string
	// RewardID links redeem entries to their reward.
	RewardID string
	Detail   EntryDetail
	// Uses are the lots a negative entry took its points from; the store
	// records them with the entry.
	Uses []LotUse
}

// EntryDetail is what an entry's reason is written from.
type EntryDetail struct {
	AmountMinor int64  `json:"amount_minor,omitempty"`
	Currency    string `json:"currency,omitempty"`
	ReceiptID   string `json:"receipt_id,omitempty"`
	RewardName  *Text  `json:"reward_name,omitempty"`
	VoucherCode string `json:"voucher_code,omitempty"`
	// Unrecovered is what a reversal could not take back because it was spent.
	Unrecovered int64 `json:"unrecovered,omitempty"`
	// HoldID is the hold a capture spent.
	HoldID string `json:"hold_id,omitempty"`
	// Reason explains a bonus, tier or voucher entry, as the rules wrote it.
	Reason *Text `json:"reason,omitempty"`
	// Grant is why a bonus was granted (challenge, welcome, birthday,
	// referral, tier, boost) and Rule the challenge, tier or boost.
	Grant string `json:"grant,omitempty"`
	Rule  string `json:"rule,omitempty"`
	// Key is the bonus's grant key, unique per member.
	Key string `json:"key,omitempty"`
}

// Reason returns the sentence that explains e to the member, in locale l.
func (e Entry) Reason(l Locale) string {
	d := e.Detail
	amount := FormatMoney(d.AmountMinor, d.Currency, l)
	var name string
	if d.RewardName != nil {
		name = d.RewardName.In(l)
	}
	switch e.Kind {
	case EntryEarn:
		return Text{DE: "Einkauf über " + amount, EN: "Purchase of " + amount}.In(l)
	case EntryRedeem:
		return Text{DE: "Prämie eingelöst: " + name, EN: "Reward redeemed: " + name}.In(l)
	case EntryReverse:
		t := Text{DE: "Rückgabe über " + amount, EN: "Return of " + amount}
		if d.Unrecovered > 0 {
			t.DE += fmt.Sprintf(" (%d Punkte waren schon eingelöst)", d.Unrecovered)
			t.EN += fmt.Sprintf(" (%d points had already been spent)", d.Unrecovered)
		}
		return t.In(l)
	case EntryExpire:
		return Text{DE: "Punkte verfallen", EN: "Points expired"}.In(l)
	case EntryCapture:
		return Text{DE: "Mit Punkten bezahlt", EN: "Paid with points"}.In(l)
	case EntryBonus, EntryTier, EntryVoucher:
		if d.Reason != nil {
			return d.Reason.In(l)
		}
		return Text{DE: "Bonus", EN: "Bonus"}.In(l)
	default:
		return Text{DE: "Korrektur", EN: "Correction"}.In(l)
	}
}

// FormatMoney returns amountMinor of currency the way locale l writes it:
// "12,50 €" in German, "€12.50" in English. Currencies other than EUR are
// written with their code.
func FormatMoney(amountMinor int64, currency string, l Locale) string {
	sign := ""
	if amountMinor < 0 {
		sign, amountMinor = "-", -amountMinor
	}
	units, cents := amountMinor/100, amountMinor%100
	sep, group := ",", "."
	if l == LocaleEN {
		sep, group = ".", ","
	}
	num := fmt.Sprintf("%s%s%02d", GroupThousands(units, group), sep, cents)
	switch {
	case currency == "EUR" && l == LocaleEN:
		return sign + "€" + num
	case currency == "EUR":
		return sign + num + " €"
	case l == LocaleEN:
		return sign + currency + " " + num
	default:
		return sign + num + " " + currency
	}
}

// GroupThousands returns v in decimal with sep between groups of three
// digits: 1234567 with "." is "1.234.567".
func GroupThousands(v int64, sep string) string {
	s := fmt.Sprint(v)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}
