package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// maxViolations bounds how many violations CheckInvariants lists per check.
const maxViolations = 20

// invariantChecks are queries that return one line per violation of the
// ledger's invariants; an empty result is a pass.
var invariantChecks = []struct {
	name  string
	query string
}{
	{
		name: "balance == sum(entries)",
		query: `SELECT format('account %s/%s: balance %d, entries sum to %d', a.program_id, a.member_id, a.balance, coalesce(sum(e.points), 0))
			FROM accounts a LEFT JOIN entries e ON e.program_id = a.program_id AND e.member_id = a.member_id
			GROUP BY a.program_id, a.member_id
			HAVING a.balance <> coalesce(sum(e.points), 0)`,
	},
	{
		name: "balance >= 0",
		query: `SELECT format('account %s/%s: balance %d', program_id, member_id, balance)
			FROM accounts WHERE balance < 0`,
	},
	{
		name: "balance_after chain",
		query: `SELECT format('entry %d of %s/%s: balance_after %d, but previous balance %d + points %d = %d',
				id, program_id, member_id, balance_after, prev, points, prev + points)
			FROM (SELECT id, program_id, member_id, points, balance_after,
				lag(balance_after, 1, 0) OVER (PARTITION BY program_id, member_id ORDER BY id) AS prev
				FROM entries)
			WHERE balance_after <> prev + points OR balance_after < 0`,
	},
	{
		name: "entries belong to an account",
		query: `SELECT format('entry %d: no account %s/%s', e.id, e.program_id, e.member_id)
			FROM entries e LEFT JOIN accounts a ON a.program_id = e.program_id AND a.member_id = e.member_id
			WHERE a.member_id IS NULL`,
	},
	{
		name: "every member has an account",
		query: `SELECT format('member %s/%s: no account', m.program_id, m.id)
			FROM members m LEFT JOIN accounts a ON a.program_id = m.program_id AND a.member_id = m.id
			WHERE a.member_id IS NULL`,
	},
	{
		name: "balance == sum(lots remaining)",
		query: `SELECT format('account %s/%s: balance %d, lots hold %d', a.program_id, a.member_id, a.balance, coalesce(sum(l.remaining), 0))
			FROM accounts a LEFT JOIN lots l ON l.program_id = a.program_id AND l.member_id = a.member_id
			GROUP BY a.program_id, a.member_id
			HAVING a.balance <> coalesce(sum(l.remaining), 0)`,
	},
	{
		name: "lot remaining == points - sum(uses)",
		query: `SELECT format('lot %d of %s/%s: %d points, %d remaining, uses take %d', l.id, l.program_id, l.member_id,
				l.points, l.remaining, coalesce(sum(u.points), 0))
			FROM lots l LEFT JOIN lot_uses u ON u.lot_id = l.id
			GROUP BY l.id
			HAVING l.remaining <> l.points - coalesce(sum(u.points), 0) OR l.remaining < 0 OR l.remaining > l.points`,
	},
	{
		name: "entry uses == -points",
		query: `SELECT format('entry %d (%s, %d points) of %s/%s: uses take %d', e.id, e.kind, e.points, e.program_id, e.member_id, sum(u.points))
			FROM entries e JOIN lot_uses u ON u.entry_id = e.id
			GROUP BY e.id
			HAVING e.points >= 0 OR sum(u.points) <> -e.points`,
	},
	{
		name: "uses stay within a member",
		query: `SELECT format('use of lot %d by entry %d: recorded for %s/%s, lot of %s/%s, entry of %s/%s', u.lot_id, u.entry_id,
				u.program_id, u.member_id, l.program_id, l.member_id, e.program_id, e.member_id)
			FROM lot_uses u JOIN lots l ON l.id = u.lot_id JOIN entries e ON e.id = u.entry_id
			WHERE l.program_id <> u.program_id OR l.member_id <> u.member_id OR e.program_id <> u.program_id OR e.member_id <> u.member_id`,
	},
	{
		name: "credit has one lot",
		query: `SELECT format('entry %d (%s, %d points) of %s/%s: %d lots with %d points', e.id, e.kind, e.points, e.program_id, e.member_id,
				coalesce(l.n, 0), coalesce(l.points, 0))
			FROM entries e LEFT JOIN (SELECT entry_id, count(*) AS n, sum(points) AS points FROM lots GROUP BY entry_id) l
				ON l.entry_id = e.id
			WHERE e.points > 0 AND e.kind IN ('earn', 'bonus', 'adjust') AND (coalesce(l.n, 0) <> 1 OR l.points <> e.points)`,
	},
	{
		name: "purchase has one earn entry",
		query: `SELECT format('purchase %s/%s: %d earn entries', p.program_id, p.id, coalesce(e.n, 0))
			FROM purchases p LEFT JOIN (SELECT program_id, purchase_id, count(*) AS n FROM entries
				WHERE kind = 'earn' AND purchase_id <> '' GROUP BY program_id, purchase_id) e
				ON e.program_id = p.program_id AND e.purchase_id = p.id
			WHERE coalesce(e.n, 0) <> 1`,
	},
	{
		name: "entry of one idempotency key",
		query: `SELECT format('entry %d: %d idempotency records name it%s', i.entry_id, count(*), iif(e.id IS NULL, ', and it does not exist', ''))
			FROM idempotency i LEFT JOIN entries e ON e.id = i.entry_id
			WHERE i.entry_id IS NOT NULL
			GROUP BY i.entry_id, e.id
			HAVING count(*) > 1 OR e.id IS NULL`,
	},
	{
		name: "holds covered by lots",
		query: `SELECT format('member %s/%s: active holds reserve %d points, lots hold %d', h.program_id, h.member_id, h.held, coalesce(l.held, 0))
			FROM (SELECT program_id, member_id, sum(points) AS held FROM holds
				WHERE status = 'active' AND expires_at > CAST(unixepoch('subsec') * 1000000 AS INTEGER)
				GROUP BY program_id, member_id) h
			LEFT JOIN (SELECT program_id, member_id, sum(remaining) AS held FROM lots WHERE remaining > 0
				GROUP BY program_id, member_id) l ON l.program_id = h.program_id AND l.member_id = h.member_id
			WHERE h.held > coalesce(l.held, 0)`,
	},
}

// CheckInvariants verifies the whole ledger in one snapshot: every account's
// balance equals the sum of its entries' points and the points its lots
// hold, and is not negative; each entry's balance_after is the previous one
// plus its points; members, accounts and entries belong together; each lot's
// remaining points are its points less what entries took from it, and each
// spend took exactly its points from its own member's lots; each credit has
// its one lot and each purchase its one earn entry; no entry belongs to two
// idempotency keys; and active holds reserve no more than the member's lots
// hold, as of the current time. It returns an error listing the violations
// it found, or nil.
func (s *Store) CheckInvariants(ctx context.Context) error {
	t, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	var violations []string
	for _, c := range invariantChecks {
		found, err := violationsOf(ctx, t, c.query)
		if err != nil {
			return fmt.Errorf("sqlite: check %s: %w", c.name, err)
		}
		for _, v := range found {
			violations = append(violations, c.name+": "+v)
		}
	}
	if len(violations) > 0 {
		return errors.New("ledger invariants violated:\n\t" + strings.Join(violations, "\n\t"))
	}
	return nil
}

func violationsOf(ctx context.Context, t *sql.Tx, query string) ([]string, error) {
	rows, err := t.QueryContext(ctx, fmt.Sprintf("%s LIMIT %d", query, maxViolations+1))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if len(found) == maxViolations {
			found = append(found, "… and more")
			break
		}
		found = append(found, v)
	}
	return found, rows.Err()
}
