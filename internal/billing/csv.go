package billing

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
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

// ReadCSV parses and checks an invoices CSV; every bad line is reported, as
// a *contacts.ImportError, and then no row is returned.
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, importError(1, "the file is empty; the first line must be the header "+strings.Join(CSVHeader, ","))
	}
	if err != nil {
		return nil, importError(1, err.Error())
	}
	cols := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if !slices.Contains(CSVHeader, h) {
			return nil, importError(1, fmt.Sprintf("unknown column %q; the header is %s", h, strings.Join(CSVHeader, ",")))
		}
		cols[h] = i
	}
	for _, c := range CSVHeader {
		if _, ok := cols[c]; !ok && c != "status" {
			return nil, importError(1, fmt.Sprintf("missing column %q; the header is %s", c, strings.Join(CSVHeader, ",")))
		}
	}
	var (
		rows  []Row
		lines []contacts.LineError
		seen  = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			lines = append(lines, contacts.LineError{Line: line, Message: err.Error()})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			lines = append(lines, contacts.LineError{Line: line, Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := Row{Line: line, Number: get("number"), Input: InvoiceInput{
			LicenseID: get("license_id"), Currency: get("currency"), DueDate: get("due_date"), Status: Status(get("status")),
		}}
		if amount := get("amount_minor"); amount != "" {
			n, err := strconv.ParseInt(amount, 10, 64)
			if err != nil {
				lines = append(lines, contacts.LineError{Line: line, Message: fmt.Sprintf("amount_minor: %q is not an integer in minor units", amount)})
				continue
			}
			row.Input.AmountMinor = &n
		}
		if err := ValidateNumber("number", row.Number); err != nil {
			lines = append(lines, contacts.LineError{Line: line, Message: err.Error()})
			continue
		}
		if err := row.Input.normalize(); err != nil {
			lines = append(lines, contacts.LineError{Line: line, Message: err.Error()})
			continue
		}
		if first, dup := seen[row.Number]; dup {
			lines = append(lines, contacts.LineError{Line: line, Message: fmt.Sprintf("invoice %s is already on line %d", row.Number, first)})
			continue
		}
		seen[row.Number] = line
		rows = append(rows, row)
	}
	if len(lines) > 0 {
		return nil, &contacts.ImportError{Lines: lines}
	}
	return rows, nil
}

func importError(line int, msg string) error {
	return &contacts.ImportError{Lines: []contacts.LineError{{Line: line, Message: msg}}}
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
		var lines []contacts.LineError
		for _, r := range rows {
			if !known[r.Input.LicenseID] {
				lines = append(lines, contacts.LineError{Line: r.Line, Message: fmt.Sprintf("license_id: license %s does not exist", r.Input.LicenseID)})
			}
		}
		if len(lines) > 0 {
			return &contacts.ImportError{Lines: lines}
		}
		for _, r := range rows {
			created, err := b.put(ctx, tx, r.Number, r.Input)
			if err != nil {
				if f, ok := fault.As(err); ok {
					return &contacts.ImportError{Lines: []contacts.LineError{{Line: r.Line, Message: f.Error()}}}
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
