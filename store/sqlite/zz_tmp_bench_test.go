package sqlite

import (
	"fmt"
	"testing"
	"time"
)

func TestTmpInvariantSpeed(t *testing.T) {
	ctx := t.Context()
	s, _ := openTest(t, defaultConfig())
	exec := func(q string) {
		t.Helper()
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO programs VALUES ('p', '{}')`)
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000)
		INSERT INTO members SELECT 'p', 'm'||i, 'u'||i, 'c'||i, 'de', 0 FROM n`)
	exec(`INSERT INTO accounts SELECT 'p', id, 50*100, 0, 0 FROM members`)
	// 100 earns of 100 points per member, each with a purchase and a lot; 50 spends of 100 points each.
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100)
		INSERT INTO purchases (program_id, id, member_id, till_id, amount_minor, currency, points, lines, created_at)
		SELECT 'p', m.id||'-'||n.i, m.id, 't', 10000, 'EUR', 100, '[]', 0 FROM members m, n`)
	exec(`INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, purchase_id, detail)
		SELECT program_id, member_id, 'earn', 100, 0, 0, id, '{}' FROM purchases ORDER BY member_id, id`)
	exec(`INSERT INTO lots (program_id, member_id, entry_id, purchase_id, points, remaining, available_at, created_at)
		SELECT program_id, member_id, id, purchase_id, 100, 100, 0, 0 FROM entries`)
	exec(`INSERT INTO entries (program_id, member_id, kind, points, balance_after, created_at, detail)
		SELECT program_id, member_id, 'redeem', -100, 0, 0, '{}' FROM lots WHERE id % 2 = 0`)
	exec(`INSERT INTO lot_uses SELECT l.program_id, l.member_id, e.id, l.id, 100 FROM lots l JOIN entries e ON e.member_id = l.member_id AND e.kind = 'redeem' AND e.id = (SELECT min(id) FROM entries x WHERE x.member_id = l.member_id AND x.kind = 'redeem' AND x.id > 0 AND NOT EXISTS (SELECT 1 FROM lot_uses u WHERE u.entry_id = x.id)) WHERE l.id % 2 = 0 LIMIT 0`)
	for _, c := range invariantChecks {
		begin := time.Now()
		rows, err := s.reader.QueryContext(ctx, fmt.Sprintf("%s LIMIT 21", c.query))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		t.Logf("%-40s %8v  %d rows", c.name, time.Since(begin), n)
	}
}
