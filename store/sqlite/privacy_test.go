package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/treue/treue/store/storetest"
)

// schemaDB is the database of a Store as storetest's schema tests read it.
type schemaDB struct{ db *sql.DB }

// Columns returns every column of every table, from sqlite_master and
// pragma_table_info.
func (s schemaDB) Columns(ctx context.Context) ([]storetest.Column, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.name, p.name, lower(p.type)
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storetest.Column
	for rows.Next() {
		var c storetest.Column
		if err := rows.Scan(&c.Table, &c.Name, &c.Type); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ident returns name as an SQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Select returns the columns of the table's rows that where selects: nil,
// int64, string or []byte, as SQLite stores them.
func (s schemaDB) Select(ctx context.Context, table string, columns []string, where string) ([][]any, error) {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = ident(c)
	}
	q := "SELECT " + strings.Join(quoted, ", ") + " FROM " + ident(table)
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(columns))
		ptrs := make([]any, len(columns))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			switch v.(type) {
			case nil, int64, string, []byte:
			default:
				return nil, fmt.Errorf("%s.%s: unexpected %T", table, columns[i], v)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// privacyHarness opens a store on a fresh file for the schema tests.
func privacyHarness(t *testing.T) storetest.PrivacyHarness {
	s, _ := openTest(t, defaultConfig())
	return storetest.PrivacyHarness{Store: s, Apple: s, Google: s.GooglePasses(), Push: s, DB: schemaDB{s.writer}}
}

func TestMemberDataCoversEveryColumn(t *testing.T) {
	storetest.MemberDataCoversEveryColumn(t, privacyHarness(t))
}

func TestEraseLeavesNoPersonalValues(t *testing.T) {
	storetest.EraseLeavesNoPersonalValues(t, privacyHarness(t))
}
