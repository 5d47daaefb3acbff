package googlepass

import (
	"context"
	"fmt"

	"google.golang.org/api/walletobjects/v1"
)

// erasedFields are the object's fields (Go names, as NullFields takes
// them) that carry the member's data; Void removes them. Google keeps no delete for objects: a voided object stays
// in the wallet as an inactive, empty card until the user removes it.
var erasedFields = []string{
	"AccountId", "AccountName", "Barcode", "LoyaltyPoints", "SecondaryLoyaltyPoints",
	"TextModulesData", "LinksModuleData", "InfoModuleData", "Messages", "ValidTimeInterval",
}

// Void makes the Google Wallet object objectID of an erased member
// inactive and removes the member's data from it (card number, barcode,
// balance, messages), within the rate and with the syncer's retries. It
// returns the API's last error; an object Google does not have (404) is
// no error.
func (s *Syncer) Void(ctx context.Context, objectID string) error {
	obj := &walletobjects.LoyaltyObject{Id: objectID, State: "INACTIVE", NullFields: erasedFields}
	err := s.call(ctx, ctx, func(ctx context.Context) error { return s.cfg.API.PatchObject(ctx, obj) })
	if err != nil && statusOf(err) != 404 {
		return fmt.Errorf("googlepass: void object: %w", err)
	}
	return nil
}
