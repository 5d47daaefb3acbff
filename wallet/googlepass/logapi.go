package googlepass

import (
	"context"
	"log/slog"

	"google.golang.org/api/walletobjects/v1"
)

// LogAPI is the WalletAPI of development: it logs what it would send to
// Google and succeeds. Logs carry ids, balances and tiers, not card
// numbers.
type LogAPI struct {
	Logger *slog.Logger
}

// InsertClass implements WalletAPI.
func (l LogAPI) InsertClass(ctx context.Context, c *walletobjects.LoyaltyClass) error {
	l.Logger.InfoContext(ctx, "googlepass (dev): would insert class", "class", c.Id, "program_name", c.ProgramName)
	return nil
}

// UpdateClass implements WalletAPI.
func (l LogAPI) UpdateClass(ctx context.Context, c *walletobjects.LoyaltyClass) error {
	l.Logger.InfoContext(ctx, "googlepass (dev): would update class", "class", c.Id, "program_name", c.ProgramName)
	return nil
}

// InsertObject implements WalletAPI.
func (l LogAPI) InsertObject(ctx context.Context, o *walletobjects.LoyaltyObject) error {
	l.Logger.InfoContext(ctx, "googlepass (dev): would insert object", objectAttrs(o)...)
	return nil
}

// PatchObject implements WalletAPI.
func (l LogAPI) PatchObject(ctx context.Context, o *walletobjects.LoyaltyObject) error {
	l.Logger.InfoContext(ctx, "googlepass (dev): would patch object", objectAttrs(o)...)
	return nil
}

// AddMessage implements WalletAPI.
func (l LogAPI) AddMessage(ctx context.Context, objectID string, m *walletobjects.Message) error {
	l.Logger.InfoContext(ctx, "googlepass (dev): would add message", "object", objectID,
		"message", m.Id, "type", m.MessageType, "header", m.Header, "body", m.Body)
	return nil
}

// objectAttrs returns the log attributes of an object: its id, balance and
// tier.
func objectAttrs(o *walletobjects.LoyaltyObject) []any {
	args := []any{"object", o.Id}
	if o.LoyaltyPoints != nil && o.LoyaltyPoints.Balance != nil {
		args = append(args, "balance", o.LoyaltyPoints.Balance.Int)
	}
	if o.SecondaryLoyaltyPoints != nil && o.SecondaryLoyaltyPoints.Balance != nil {
		args = append(args, "tier", o.SecondaryLoyaltyPoints.Balance.String)
	}
	return args
}
