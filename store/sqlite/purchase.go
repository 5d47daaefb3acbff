package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/treue/treue/loyalty"
)

const purchaseColumns = `program_id, id, member_id, till_id, receipt_id, amount_minor, currency, points,
	returned_minor, reversed_points, lines, created_at`

func scanPurchase(row interface{ Scan(...any) error }) (loyalty.Purchase, error) {
	var (
		p       loyalty.Purchase
		lines   []byte
		created int64
	)
	err := row.Scan(&p.ProgramID, &p.ID, &p.MemberID, &p.TillID, &p.ReceiptID, &p.AmountMinor, &p.Currency, &p.Points,
		&p.ReturnedMinor, &p.ReversedPoints, &lines, &created)
	if err != nil {
		return loyalty.Purchase{}, err
	}
	if err := json.Unmarshal(lines, &p.Lines); err != nil {
		return loyalty.Purchase{}, fmt.Errorf("decode lines of purchase %s: %w", p.ID, err)
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

// Purchase returns the program's purchase with the given id.
func (t *tx) Purchase(ctx context.Context, programID, id string) (loyalty.Purchase, error) {
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+purchaseColumns+" FROM purchases WHERE program_id = ? AND id = ?", programID, id)
	p, err := scanPurchase(row)
	if err != nil {
		return loyalty.Purchase{}, lookupErr(err, fmt.Sprintf("purchase %q", id))
	}
	return p, nil
}

// PurchaseByReceipt returns the program's purchase with the receipt id.
func (t *tx) PurchaseByReceipt(ctx context.Context, programID, receiptID string) (loyalty.Purchase, error) {
	if receiptID == "" {
		return loyalty.Purchase{}, notFound("purchase without receipt id")
	}
	// receipt_id <> '' lets the partial unique index serve the look-up.
	row := t.tx.QueryRowContext(stmtContext(ctx), "SELECT "+purchaseColumns+" FROM purchases WHERE program_id = ? AND receipt_id = ? AND receipt_id <> ''", programID, receiptID)
	p, err := scanPurchase(row)
	if err != nil {
		return loyalty.Purchase{}, lookupErr(err, fmt.Sprintf("purchase with receipt %q", receiptID))
	}
	return p, nil
}

// CreatePurchase writes p. It returns ErrConflict when the program has a
// purchase with the same id or receipt id.
func (t *tx) CreatePurchase(ctx context.Context, p loyalty.Purchase) error {
	lines, err := json.Marshal(p.Lines)
	if err != nil {
		return fmt.Errorf("sqlite: encode lines of purchase %s: %w", p.ID, err)
	}
	_, err = t.tx.ExecContext(stmtContext(ctx), "INSERT INTO purchases ("+purchaseColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p.ProgramID, p.ID, p.MemberID, p.TillID, p.ReceiptID, p.AmountMinor, p.Currency, p.Points,
		p.ReturnedMinor, p.ReversedPoints, string(lines), micros(p.CreatedAt))
	if isUnique(err) {
		return conflict("receipt %q or purchase %s was posted before", p.ReceiptID, p.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create purchase %s: %w", p.ID, err)
	}
	return nil
}

// SavePurchaseReturn writes p's returned amount and reversed points.
func (t *tx) SavePurchaseReturn(ctx context.Context, p loyalty.Purchase) error {
	res, err := t.tx.ExecContext(stmtContext(ctx), "UPDATE purchases SET returned_minor = ?, reversed_points = ? WHERE program_id = ? AND id = ?",
		p.ReturnedMinor, p.ReversedPoints, p.ProgramID, p.ID)
	if err != nil {
		return fmt.Errorf("sqlite: write return of purchase %s: %w", p.ID, err)
	}
	return mustAffect(res, fmt.Sprintf("purchase %q", p.ID))
}
