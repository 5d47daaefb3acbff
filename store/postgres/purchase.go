package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/treue/treue/loyalty"
)

const purchaseColumns = `program_id, id, member_id, till_id, receipt_id, amount_minor, currency, points,
	returned_minor, reversed_points, lines, created_at`

func scanPurchase(row pgx.Row) (loyalty.Purchase, error) {
	var (
		p       loyalty.Purchase
		lines   []byte
		created time.Time
	)
	err := row.Scan(&p.ProgramID, &p.ID, &p.MemberID, &p.TillID, &p.ReceiptID, &p.AmountMinor, &p.Currency, &p.Points,
		&p.ReturnedMinor, &p.ReversedPoints, &lines, &created)
	if err != nil {
		return loyalty.Purchase{}, err
	}
	if err := json.Unmarshal(lines, &p.Lines); err != nil {
		return loyalty.Purchase{}, fmt.Errorf("decode lines of purchase %s: %w", p.ID, err)
	}
	p.CreatedAt = created.UTC()
	return p, nil
}

// purchase reads one purchase with query.
func (t *tx) purchase(ctx context.Context, what, query string, args ...any) (loyalty.Purchase, error) {
	var p loyalty.Purchase
	err := t.scanRow(ctx, func(row pgx.Row) (err error) { p, err = scanPurchase(row); return err }, query, args...)
	if err != nil {
		return loyalty.Purchase{}, lookupErr(err, what)
	}
	return p, nil
}

// Purchase returns the program's purchase with the given id. In Update it
// locks the purchase.
func (t *tx) Purchase(ctx context.Context, programID, id string) (loyalty.Purchase, error) {
	return t.purchase(ctx, fmt.Sprintf("purchase %q", id),
		"SELECT "+purchaseColumns+" FROM purchases WHERE program_id = $1 AND id = $2"+t.forUpdate(), programID, id)
}

// PurchaseByReceipt returns the program's purchase with the receipt id. In
// Update it locks the purchase.
func (t *tx) PurchaseByReceipt(ctx context.Context, programID, receiptID string) (loyalty.Purchase, error) {
	if receiptID == "" {
		return loyalty.Purchase{}, notFound("purchase without receipt id")
	}
	// receipt_id <> '' lets the partial unique index serve the look-up.
	return t.purchase(ctx, fmt.Sprintf("purchase with receipt %q", receiptID),
		"SELECT "+purchaseColumns+" FROM purchases WHERE program_id = $1 AND receipt_id = $2 AND receipt_id <> ''"+t.forUpdate(), programID, receiptID)
}

// CreatePurchase writes p. It returns ErrConflict when the program has a
// purchase with the same id or receipt id.
func (t *tx) CreatePurchase(ctx context.Context, p loyalty.Purchase) error {
	lines, err := json.Marshal(p.Lines)
	if err != nil {
		return fmt.Errorf("postgres: encode lines of purchase %s: %w", p.ID, err)
	}
	_, err = t.exec(ctx, "INSERT INTO purchases ("+purchaseColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		p.ProgramID, p.ID, p.MemberID, p.TillID, p.ReceiptID, p.AmountMinor, p.Currency, p.Points,
		p.ReturnedMinor, p.ReversedPoints, string(lines), p.CreatedAt)
	if isUnique(err) {
		return conflict(err, "receipt %q or purchase %s was posted before", p.ReceiptID, p.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create purchase %s: %w", p.ID, err)
	}
	return nil
}

// SavePurchaseReturn writes p's returned amount and reversed points.
func (t *tx) SavePurchaseReturn(ctx context.Context, p loyalty.Purchase) error {
	tag, err := t.exec(ctx, `UPDATE purchases SET returned_minor = $1, reversed_points = $2
		WHERE program_id = $3 AND member_id = $4 AND id = $5`,
		p.ReturnedMinor, p.ReversedPoints, p.ProgramID, p.MemberID, p.ID)
	if err != nil {
		return fmt.Errorf("postgres: write return of purchase %s: %w", p.ID, err)
	}
	return mustAffect(tag, fmt.Sprintf("purchase %q", p.ID))
}
