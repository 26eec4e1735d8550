package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// valuesPerStatement caps the rows of one multi-row INSERT, and maxParams
// its placeholders: SQLite allows 32,766 and PostgreSQL 65,535, and past a
// few hundred rows a longer statement saves nothing more.
const (
	valuesPerStatement = 500
	maxParams          = 30000
)

// InsertValues inserts rows with as few statements as it can:
//
//	head VALUES (?, ?, …), (?, ?, …), … tail
//
// head names the table and columns ("INSERT INTO t (a, b)"), every row has
// one value per column, and tail (which may be empty) is appended to each
// statement ("ON CONFLICT (a) DO NOTHING"). It returns the number of rows
// the statements reported affected.
//
// On PostgreSQL, rows whose values are all text, integers, booleans or
// times go in as one array per column instead (head SELECT * FROM
// unnest($1::text[], …) tail): a few parameters instead of thousands, and
// no statement text that grows with the rows.
func InsertValues(ctx context.Context, q sqlx.ExtContext, head, tail string, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if q.DriverName() == pgxDriver {
		if columns, ok := asArrays(rows); ok {
			return insertArrays(ctx, q, head, tail, rows, columns)
		}
	}
	cols := len(rows[0])
	per := min(valuesPerStatement, max(1, maxParams/cols))
	tuple := "(" + strings.Repeat("?, ", cols-1) + "?)"
	statement := func(n int) string {
		var b strings.Builder
		b.Grow(len(head) + len(tail) + n*(len(tuple)+2) + 16)
		b.WriteString(head)
		b.WriteString(" VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
		if tail != "" {
			b.WriteString(" ")
			b.WriteString(tail)
		}
		return q.Rebind(b.String())
	}
	// Every full statement has the same text: it is parsed once, which on
	// SQLite is a tenth of the work of a 500-row INSERT.
	var full *sql.Stmt
	if p, ok := q.(preparer); ok && len(rows) >= 2*per {
		var err error
		if full, err = p.PrepareContext(ctx, statement(per)); err != nil {
			return 0, err
		}
		defer full.Close()
	}
	var affected int64
	args := make([]any, 0, per*cols)
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for i, r := range batch {
			if len(r) != cols {
				return affected, fmt.Errorf("insert values: row %d has %d values, want %d", start+i, len(r), cols)
			}
			args = append(args, r...)
		}
		var (
			res sql.Result
			err error
		)
		if full != nil && len(batch) == per {
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = q.ExecContext(ctx, statement(len(batch)), args...)
		}
		if err != nil {
			return affected, err
		}
		n, _ := res.RowsAffected()
		affected += n
	}
	return affected, nil
}

// arraysPerStatement caps the rows of one INSERT from arrays: the arrays of
// a statement are held in memory twice (herald's and the driver's).
const arraysPerStatement = 5000

// column is one column of rows as PostgreSQL takes it in an array: its
// type and how to collect a value.
type column struct {
	pgType string
	add    func(arr any, v reflect.Value) any
	empty  func(n int) any
}

var (
	textColumn = column{"text", func(a any, v reflect.Value) any { return append(a.([]string), v.String()) },
		func(n int) any { return make([]string, 0, n) }}
	bigintColumn = column{"bigint", func(a any, v reflect.Value) any { return append(a.([]int64), v.Int()) },
		func(n int) any { return make([]int64, 0, n) }}
	boolColumn = column{"boolean", func(a any, v reflect.Value) any { return append(a.([]bool), v.Bool()) },
		func(n int) any { return make([]bool, 0, n) }}
	timeColumn = column{"timestamptz", func(a any, v reflect.Value) any { return append(a.([]time.Time), v.Interface().(time.Time)) },
		func(n int) any { return make([]time.Time, 0, n) }}
)

var timeType = reflect.TypeFor[time.Time]()

// asArrays says how each column of rows goes into an array, or false when
// a value is of no type it knows (a NULL, a sql.Null*): those rows go in
// as VALUES.
func asArrays(rows [][]any) ([]column, bool) {
	columns := make([]column, len(rows[0]))
	for i := range columns {
		c, ok := columnOf(rows[0][i])
		if !ok {
			return nil, false
		}
		columns[i] = c
	}
	for _, r := range rows {
		if len(r) != len(columns) {
			return nil, false
		}
		for i, v := range r {
			if c, ok := columnOf(v); !ok || c.pgType != columns[i].pgType {
				return nil, false
			}
		}
	}
	return columns, true
}

func columnOf(v any) (column, bool) {
	if v == nil {
		return column{}, false
	}
	t := reflect.TypeOf(v)
	if t == timeType {
		return timeColumn, true
	}
	switch t.Kind() {
	case reflect.String:
		return textColumn, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return bigintColumn, true
	case reflect.Bool:
		return boolColumn, true
	}
	return column{}, false
}

// insertArrays is InsertValues from one array per column, on PostgreSQL.
func insertArrays(ctx context.Context, q sqlx.ExtContext, head, tail string, rows [][]any, columns []column) (int64, error) {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(" SELECT * FROM unnest(")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, c.pgType)
	}
	b.WriteString(")")
	if tail != "" {
		b.WriteString(" ")
		b.WriteString(tail)
	}
	query := b.String()
	var affected int64
	for start := 0; start < len(rows); start += arraysPerStatement {
		batch := rows[start:min(start+arraysPerStatement, len(rows))]
		args := make([]any, len(columns))
		for i, c := range columns {
			arr := c.empty(len(batch))
			for _, r := range batch {
				arr = c.add(arr, reflect.ValueOf(r[i]))
			}
			args[i] = arr
		}
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return affected, err
		}
		n, _ := res.RowsAffected()
		affected += n
	}
	return affected, nil
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Analyze refreshes the planner's statistics of tables after a bulk write,
// on PostgreSQL: until autovacuum gets to them, a table loaded with a
// million rows is planned as the few it held before, and an audience read
// for its first page is read whole. SQLite plans without statistics, and
// herald's queries are written for that: there it does nothing.
func (db *DB) Analyze(ctx context.Context, tables ...string) error {
	if db.Dialect != Postgres || len(tables) == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, "ANALYZE "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("analyze %s: %w", strings.Join(tables, ", "), err)
	}
	return nil
}
