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
}

// CheckInvariants verifies the whole ledger in one snapshot: every account's
// balance equals the sum of its entries' points and is not negative, each
// entry's balance_after is the previous one plus its points, and members,
// accounts and entries belong together. It returns an error listing the
// violations it found, or nil.
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
