package billing

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/csvfile"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// CSVHeader is the column list of the invoices CSV.
var CSVHeader = []string{"number", "license_id", "amount_minor", "currency", "due_date", "status"}

// Row is one line of the invoices CSV.
type Row struct {
	Line   int
	Number string
	Input  InvoiceInput
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// ReadCSV parses and checks an invoices CSV; bad lines are reported (the
// first hundred, all counted) as a *csvfile.Error, and then no row is
// returned. The status column may be left out (open). Any other error is
// one of reading r.
func ReadCSV(r io.Reader) ([]Row, error) {
	var rows []Row
	seen := map[string]int{}
	problems, err := csvfile.Read(r, CSVHeader[:5], CSVHeader[5:], func(rec csvfile.Record) error {
		row := Row{Line: rec.Line, Number: rec.Get("number"), Input: InvoiceInput{
			LicenseID: rec.Get("license_id"), Currency: rec.Get("currency"), DueDate: rec.Get("due_date"), Status: Status(rec.Get("status")),
		}}
		if amount := rec.Get("amount_minor"); amount != "" {
			n, err := strconv.ParseInt(amount, 10, 64)
			if err != nil {
				return fault.Invalid("amount_minor", "%q is not an integer in minor units", amount)
			}
			row.Input.AmountMinor = &n
		}
		if err := ValidateNumber("number", row.Number); err != nil {
			return err
		}
		if err := row.Input.normalize(); err != nil {
			return err
		}
		if first, dup := seen[row.Number]; dup {
			return fault.Invalid("number", "invoice %s is already on line %d", row.Number, first)
		}
		seen[row.Number] = rec.Line
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// Import puts every row in one transaction: all of them, or none and an
// error naming every line whose license does not exist.
func (b *Billing) Import(ctx context.Context, rows []Row) (ImportResult, error) {
	var res ImportResult
	err := b.db.InTx(ctx, func(tx *sqlx.Tx) error {
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.Input.LicenseID)
		}
		known := map[string]bool{}
		if len(ids) > 0 {
			query, args, err := db.In(`SELECT id FROM licenses WHERE id IN (?)`, ids)
			if err != nil {
				return err
			}
			var found []string
			if err := db.Select(ctx, tx, &found, query, args...); err != nil {
				return err
			}
			for _, id := range found {
				known[id] = true
			}
		}
		problems := &csvfile.Error{}
		for _, r := range rows {
			if !known[r.Input.LicenseID] {
				problems.Add(r.Line, "license_id: license %s does not exist", r.Input.LicenseID)
			}
		}
		if err := problems.Err(); err != nil {
			return err
		}
		for _, r := range rows {
			created, err := b.put(ctx, tx, r.Number, r.Input)
			if err != nil {
				if f, ok := fault.As(err); ok {
					return csvfile.Problem(r.Line, "%v", f)
				}
				return err
			}
			if created {
				res.Created++
			} else {
				res.Updated++
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import invoices: %w", err)
	}
	return res, nil
}
