package storetest

import (
	"time"

	"github.com/treue/treue/loyalty"
)

// DemoSeed returns a café's program with the given id: EUR, 1 point per
// 100 cents, purchases up to 100,000.00 EUR, vouchers valid for 30 days. Its
// catalog holds, cheapest first, keks (10 points), kaffee (50), kuchen (80,
// two in stock) and backkurs (500), and the inactive alt (5). Its one till
// is "till-"+programID with the API key TillKey(programID).
func DemoSeed(programID string) loyalty.Seed {
	stock := int64(2)
	return loyalty.Seed{
		Program: loyalty.Program{
			ID:               programID,
			Name:             "Café " + programID,
			Currency:         "EUR",
			PointName:        loyalty.Text{DE: "Sterne", EN: "stars"},
			BaseTier:         loyalty.Text{DE: "Silber", EN: "Silver"},
			Earn:             loyalty.EarnRule{Points: 1, PerMinor: 100},
			MaxPurchaseMinor: 10_000_000,
			VoucherValidity:  loyalty.Duration(30 * 24 * time.Hour),
		},
		Rewards: []loyalty.Reward{
			{ID: "kaffee", Name: loyalty.Text{DE: "Kaffee", EN: "Coffee"}, Description: loyalty.Text{DE: "Ein Kaffee nach Wahl", EN: "A coffee of your choice"}, Cost: 50, Active: true},
			{ID: "keks", Name: loyalty.Text{DE: "Keks", EN: "Cookie"}, Cost: 10, Active: true},
			{ID: "kuchen", Name: loyalty.Text{DE: "Kuchen", EN: "Cake"}, Cost: 80, Stock: &stock, Active: true},
			{ID: "backkurs", Name: loyalty.Text{DE: "Backkurs", EN: "Baking course"}, Cost: 500, Active: true},
			{ID: "alt", Name: loyalty.Text{DE: "Alter Gutschein", EN: "Old voucher"}, Cost: 5, Active: false},
		},
		Tills: []loyalty.TillKey{{
			Till: loyalty.Till{ID: "till-" + programID, Name: "Kasse 1"},
			Key:  TillKey(programID),
		}},
	}
}

// TillKey returns the API key of DemoSeed(programID)'s till.
func TillKey(programID string) string { return "till-key-" + programID + "-secret" }
