package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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
func InsertValues(ctx context.Context, q sqlx.ExtContext, head, tail string, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
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
