package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

type role string

// TestInsertValues inserts rows of every type the import writes, more
// than one statement's worth, with and without a conflict clause, and
// with a NULL (which PostgreSQL takes as VALUES, not arrays): every row
// arrives as it was, and the count is of the rows inserted.
func TestInsertValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 9, 30, 0, 123456000, time.UTC)
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		if _, err := d.ExecContext(ctx, `CREATE TABLE insert_test (name TEXT PRIMARY KEY, kind TEXT NOT NULL, n BIGINT NOT NULL, ok BOOLEAN NOT NULL, at TIMESTAMP, note TEXT)`); err != nil {
			t.Fatal(err)
		}
		rows := func(from, to int, note any) [][]any {
			var out [][]any
			for i := from; i < to; i++ {
				out = append(out, []any{fmt.Sprintf("row-%05d", i), role("technical"), int64(i), i%2 == 0, at.Add(time.Duration(i) * time.Second), note})
			}
			return out
		}
		insert := func(rs [][]any, tail string) int64 {
			t.Helper()
			n, err := db.InsertValues(ctx, d, `INSERT INTO insert_test (name, kind, n, ok, at, note)`, tail, rs)
			if err != nil {
				t.Fatalf("InsertValues: %v", err)
			}
			return n
		}
		if n := insert(rows(0, 12000, "a note"), ""); n != 12000 {
			t.Errorf("inserted %d, want 12000", n)
		}
		// Half of them conflict.
		if n := insert(rows(6000, 18000, "a note"), "ON CONFLICT (name) DO NOTHING"); n != 6000 {
			t.Errorf("inserted %d past conflicts, want 6000", n)
		}
		if n := insert(rows(18000, 18010, nil), ""); n != 10 {
			t.Errorf("inserted %d with NULLs, want 10", n)
		}
		var got []struct {
			Name string    `db:"name"`
			Kind string    `db:"kind"`
			N    int64     `db:"n"`
			OK   bool      `db:"ok"`
			At   time.Time `db:"at"`
			Note *string   `db:"note"`
		}
		if err := db.Select(ctx, d, &got, `SELECT name, kind, n, ok, at, note FROM insert_test WHERE name IN ('row-00007', 'row-17999', 'row-18003') ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("read %d rows, want 3", len(got))
		}
		for i, want := range []int64{7, 17999, 18003} {
			r := got[i]
			if r.N != want || r.Kind != "technical" || r.OK != (want%2 == 0) || !r.At.Equal(at.Add(time.Duration(want)*time.Second)) {
				t.Errorf("row %d read back as %+v", want, r)
			}
			if (r.Note == nil) != (want >= 18000) {
				t.Errorf("row %d note %v", want, r.Note)
			}
		}
	})
}
