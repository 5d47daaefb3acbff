package loyalty

import (
	"fmt"
	"time"

	"github.com/treue/treue/gamification"
)

// Program is one brand or shop running a loyalty program. Every member,
// ledger entry, reward and till belongs to exactly one program.
type Program struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Currency is the ISO 4217 code purchases are posted in, e.g. "EUR".
	Currency string `json:"currency"`
	// PointName is what the program calls its points, e.g. Sterne / stars.
	PointName Text `json:"point_name"`
	// BaseTier is the name of the tier every member starts in.
	BaseTier Text     `json:"base_tier"`
	Earn     EarnRule `json:"earn"`
	// MaxPurchaseMinor bounds one purchase's amount; larger amounts are
	// refused as input errors (a till typing 100 times too much).
	MaxPurchaseMinor int64 `json:"max_purchase_minor"`
	// VoucherValidity is how long a voucher can be used after it is issued.
	VoucherValidity Duration `json:"voucher_validity"`
	// TimeZone is the IANA time zone the program's dates are in; empty
	// means Europe/Berlin.
	TimeZone string `json:"time_zone,omitempty"`
	// Expiry says when earned points expire.
	Expiry ExpiryPolicy `json:"expiry,omitzero"`
	// PendingDays holds earned points back for this many days, so that a
	// return within them takes back points nobody could spend yet. 0 makes
	// points available at once.
	PendingDays int `json:"pending_days,omitempty"`
	// Pass is how the program's wallet passes look.
	Pass PassDesign `json:"pass,omitzero"`
	// Rules are the program's gamification: stars, boosts, tiers,
	// challenges, bonuses and stamp cards. Without them a purchase earns
	// by Earn and nothing else; with them Rules.Stars replaces Earn.
	Rules *gamification.Rules `json:"rules,omitempty"`
	// RulesRevision counts the operators' changes of Rules; 0 means they
	// are the seed's. A seed applied again keeps rules operators changed.
	RulesRevision int64 `json:"rules_revision,omitempty"`
}

// maxPendingDays bounds Program.PendingDays.
const maxPendingDays = 90

// EarnRule says how many points a purchase earns: Points for every full
// PerMinor minor units spent, e.g. 1 point per 100 cents.
type EarnRule struct {
	Points   int64 `json:"points"`
	PerMinor int64 `json:"per_minor"`
}

// Limits every program obeys, whatever its configuration says.
const (
	// MaxAmountMinor bounds any money amount Treue accepts, so that points
	// arithmetic can never overflow int64.
	MaxAmountMinor = 1_000_000_000_00
	maxEarnPoints  = 1_000_000
)

// PointsFor returns the points a purchase of amountMinor earns: full units
// only, rounded down.
func (r EarnRule) PointsFor(amountMinor int64) int64 {
	if amountMinor <= 0 || r.PerMinor <= 0 {
		return 0
	}
	return amountMinor / r.PerMinor * r.Points
}

// Validate returns ErrInvalid when the program cannot be run as configured.
func (p Program) Validate() error {
	switch {
	case p.ID == "" || len(p.ID) > 64:
		return errorf(ErrInvalid, "program id must be 1 to 64 characters")
	case !isCurrencyCode(p.Currency):
		return errorf(ErrInvalid, "program %s: currency %q is not an ISO 4217 code", p.ID, p.Currency)
	case p.Earn.Points < 0 || p.Earn.Points > maxEarnPoints || p.Earn.PerMinor <= 0:
		return errorf(ErrInvalid, "program %s: earn rule needs 0..%d points per positive amount", p.ID, maxEarnPoints)
	case p.MaxPurchaseMinor <= 0 || p.MaxPurchaseMinor > MaxAmountMinor:
		return errorf(ErrInvalid, "program %s: max_purchase_minor must be 1..%d", p.ID, int64(MaxAmountMinor))
	case p.VoucherValidity.D() <= 0:
		return errorf(ErrInvalid, "program %s: voucher_validity must be positive", p.ID)
	case p.Expiry.MonthsAfterMonthEnd < 0 || p.Expiry.MonthsAfterMonthEnd > maxExpiryMonths:
		return errorf(ErrInvalid, "program %s: expiry months must be 0 (never) to %d", p.ID, maxExpiryMonths)
	case p.PendingDays < 0 || p.PendingDays > maxPendingDays:
		return errorf(ErrInvalid, "program %s: pending_days must be 0 to %d", p.ID, maxPendingDays)
	}
	if _, err := location(p.TimeZone); err != nil {
		return err
	}
	if p.Rules != nil {
		if err := validateRules(*p.Rules); err != nil {
			return fmt.Errorf("program %s: rules: %w", p.ID, err)
		}
	}
	return p.Pass.Validate()
}

// lotTimes returns when points earned at now become available and when they
// expire.
func (p Program) lotTimes(now time.Time) (available, expires time.Time, err error) {
	loc, err := location(p.TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return now.AddDate(0, 0, p.PendingDays), p.Expiry.expiresAt(now, loc), nil
}

// Reward is an item of a program's catalog bought with points.
type Reward struct {
	ProgramID   string `json:"-"`
	ID          string `json:"id"`
	Name        Text   `json:"name"`
	Description Text   `json:"description"`
	Cost        int64  `json:"cost"`
	// Stock is how many vouchers can still be issued; nil means unlimited.
	Stock  *int64 `json:"stock,omitempty"`
	Active bool   `json:"active"`
}

// Validate returns ErrInvalid when the reward cannot be offered as configured.
func (r Reward) Validate() error {
	switch {
	case r.ID == "" || len(r.ID) > 64:
		return errorf(ErrInvalid, "reward id must be 1 to 64 characters")
	case r.Cost <= 0:
		return errorf(ErrInvalid, "reward %s: cost must be positive", r.ID)
	case r.Name.DE == "":
		return errorf(ErrInvalid, "reward %s: needs a German name", r.ID)
	case r.Stock != nil && *r.Stock < 0:
		return errorf(ErrInvalid, "reward %s: stock must not be negative", r.ID)
	}
	return nil
}

// Till is a store's point of sale, authenticated by the store's API key. A
// till reaches only its own program.
type Till struct {
	ID        string
	ProgramID string
	Name      string
	// KeyHash is the SHA-256 hash of the till's API key (HashAPIKey).
	KeyHash []byte
}

// Duration is a time.Duration written as "720h" in configuration files.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string such as "720h".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}
