package contacts_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

var importRows = flag.Int("import-rows", 5000, "BenchmarkImport: rows of the contacts CSV")

// importFile is a contacts CSV of n rows: licenses of five technical
// contacts each, the first of them main, as a vendor's first import looks.
func importFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(contacts.CSVHeader, ",") + "\n")
	for i := range n {
		fmt.Fprintf(&b, "L-%07d,jira,Customer %d,person%07d@customer.test,Person %d,technical,%t,Jira Software\n",
			i/5, i/5, i, i, i%5 == 0)
	}
	return b.Bytes()
}

// BenchmarkImport imports a CSV of -import-rows rows into an empty
// database as `herald import` does (parse, check, apply in one
// transaction, audit), and, in the same run on a database of its own,
// inserts the same licenses, people, memberships and audit rows in one
// transaction with plain multi-row INSERTs of 500 rows, knowing in advance
// that everything is new. It reports both rates and their ratio: what
// herald's reading of what exists, its rules and its counts cost.
//
//	go test -run '^$' -bench Import -benchtime 1x ./contacts -import-rows 1000000
func BenchmarkImport(b *testing.B) {
	n := *importRows
	ctx := context.Background()
	data := importFile(n)
	by := contacts.Actor{Via: contacts.ViaCSV, Name: "bench"}
	var herald, baseline time.Duration
	for range b.N {
		b.StopTimer()
		store := contacts.NewStore(dbtest.Any().Open(b), time.Now)
		b.StartTimer()
		start := time.Now()
		rows, err := contacts.ReadCSV(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		res, err := store.Import(ctx, by, rows)
		if err != nil {
			b.Fatal(err)
		}
		herald += time.Since(start)
		b.StopTimer()
		if res.MembershipsCreated != n || res.ContactsCreated != n {
			b.Fatalf("import = %+v, want %d people and memberships", res, n)
		}

		d := dbtest.Any().Open(b)
		start = time.Now()
		if err := baselineImport(ctx, d, n); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(start)
	}
	rate := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
	b.ReportMetric(rate(herald), "herald_rows/s")
	b.ReportMetric(rate(baseline), "baseline_rows/s")
	b.ReportMetric(baseline.Seconds()/herald.Seconds(), "ratio")
	b.Logf("%s, %d rows: herald import (parse, check, rules, audit) %.0f rows/s; plain multi-row INSERTs of the same rows %.0f rows/s; ratio %.2f",
		dbtest.Any().Name, n, rate(herald), rate(baseline), baseline.Seconds()/herald.Seconds())
}

// baselineImport writes what importing importFile(n) writes, blind.
func baselineImport(ctx context.Context, d *db.DB, n int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return d.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO products (key, name, created_at, updated_at) VALUES (?, ?, ?, ?)`), "jira", "Jira Software", now, now); err != nil {
			return err
		}
		var licenses, people, members, audit [][]any
		for i := range n {
			if i%5 == 0 {
				licenses = append(licenses, []any{fmt.Sprintf("L-%07d", i/5), "jira", fmt.Sprintf("Customer %d", i/5), now, now})
			}
			email := fmt.Sprintf("person%07d@customer.test", i)
			people = append(people, []any{email, fmt.Sprintf("Person %d", i), now, now})
			members = append(members, []any{fmt.Sprintf("L-%07d", i/5), email, "technical", i%5 == 0, now})
			audit = append(audit, []any{fmt.Sprintf("L-%07d", i/5), "added", email, "technical", i%5 == 0, "", "csv", "bench", now, "", ""})
		}
		for _, t := range []struct {
			head string
			rows [][]any
		}{
			{`INSERT INTO licenses (id, product, name, created_at, updated_at)`, licenses},
			{`INSERT INTO contacts (email, name, created_at, updated_at)`, people},
			{`INSERT INTO memberships (license_id, email, role, is_main, created_at)`, members},
			{`INSERT INTO audit_log (license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name, detail)`, audit},
		} {
			if err := insertPlain(ctx, tx, t.head, t.rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertPlain inserts rows 500 to a statement.
func insertPlain(ctx context.Context, tx *sqlx.Tx, head string, rows [][]any) error {
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		tuple := "(" + strings.Repeat("?, ", len(batch[0])-1) + "?)"
		tuples := make([]string, len(batch))
		var args []any
		for i, r := range batch {
			tuples[i] = tuple
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(head+" VALUES "+strings.Join(tuples, ", ")), args...); err != nil {
			return fmt.Errorf("%s: %w", head, err)
		}
	}
	return nil
}
