package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/treue/treue/store/storetest"
)

// schemaDB is the database of a Store as storetest's schema tests read it.
type schemaDB struct{ pool *pgxpool.Pool }

// Columns returns every column of every table of the schema the store
// uses, from information_schema.columns.
func (s schemaDB) Columns(ctx context.Context) ([]storetest.Column, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.table_name, c.column_name, lower(c.data_type)
		FROM information_schema.columns c JOIN information_schema.tables t
			ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (storetest.Column, error) {
		var c storetest.Column
		err := row.Scan(&c.Table, &c.Name, &c.Type)
		return c, err
	})
}

// Select returns the columns of the table's rows that where selects: nil,
// int64, bool, string (text, JSON as text), []byte or time.Time.
func (s schemaDB) Select(ctx context.Context, table string, columns []string, where string) ([][]any, error) {
	cols, err := s.Columns(ctx)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for _, c := range cols {
		if c.Table == table {
			types[c.Name] = c.Type
		}
	}
	exprs := make([]string, len(columns))
	for i, c := range columns {
		exprs[i] = pgx.Identifier{c}.Sanitize()
		if strings.HasPrefix(types[c], "json") {
			exprs[i] += "::text"
		}
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + pgx.Identifier{table}.Sanitize()
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]any, error) {
		vals, err := row.Values()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case int16:
				vals[i] = int64(v)
			case int32:
				vals[i] = int64(v)
			case time.Time:
				vals[i] = v.UTC()
			case nil, int64, bool, string, []byte:
			default:
				return nil, fmt.Errorf("%s.%s: unexpected %T", table, columns[i], v)
			}
		}
		return vals, nil
	})
}

// privacyHarness opens a store on a fresh database for the schema tests.
func privacyHarness(t *testing.T) storetest.PrivacyHarness {
	s := openTest(t, defaultConfig())
	return storetest.PrivacyHarness{Store: s, Apple: s, Google: s.GooglePasses(), Push: s, DB: schemaDB{s.pool}}
}

func TestMemberDataCoversEveryColumn(t *testing.T) {
	t.Parallel()
	storetest.MemberDataCoversEveryColumn(t, privacyHarness(t))
}

func TestEraseLeavesNoPersonalValues(t *testing.T) {
	t.Parallel()
	storetest.EraseLeavesNoPersonalValues(t, privacyHarness(t))
}
