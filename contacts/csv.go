package contacts

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/csvfile"
	"github.com/heraldhq/herald/internal/fault"
)

// CSVHeader is the column list of the contacts CSV, as exported and as
// import expects it (in any order; the optional ones may be left out).
var CSVHeader = []string{"license_id", "product", "license_name", "email", "name", "role", "main", "product_name"}

// csvOptional are the columns an import may leave out: product_name came
// after the first files were written.
var csvOptional = []string{"product_name"}

// Row is one line of the contacts CSV: a membership, or a license with no
// contacts when email, name, role and main are empty.
type Row struct {
	Line        int
	LicenseID   string
	Product     string
	LicenseName string
	Email       string
	Name        string
	Role        Role
	Main        bool
	// ProductName is the display name of Product; empty leaves it as it
	// is.
	ProductName string
}

// LineError is a problem on one line of an import.
type LineError = csvfile.LineError

// ImportError lists the first bad lines of an import and counts them all;
// nothing was applied.
type ImportError = csvfile.Error

// ReadCSV parses and checks a contacts CSV as it reads it. Problems are
// reported with their line numbers in an *ImportError (the first hundred;
// all are counted); rows are returned only when there is none. Any other
// error is one of reading r.
func ReadCSV(r io.Reader) ([]Row, error) {
	var rows []Row
	required := slices.DeleteFunc(slices.Clone(CSVHeader), func(c string) bool { return slices.Contains(csvOptional, c) })
	problems, err := csvfile.Read(r, required, csvOptional, func(rec csvfile.Record) error {
		row, err := parseRow(rec)
		if err == nil {
			rows = append(rows, row)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	checkRows(problems, rows)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

func parseRow(rec csvfile.Record) (Row, error) {
	get := rec.Get
	r := Row{Line: rec.Line, LicenseID: get("license_id")}
	var err error
	if err = ValidateLicenseID("license_id", r.LicenseID); err != nil {
		return r, err
	}
	if r.Product, err = NormalizeProduct("product", get("product")); err != nil {
		return r, err
	}
	if r.LicenseName, err = NormalizeName("license_name", get("license_name"), true); err != nil {
		return r, err
	}
	if name := get("product_name"); name != "" {
		if r.ProductName, err = NormalizeProductName("product_name", name); err != nil {
			return r, err
		}
	}
	if get("email") == "" && get("name") == "" && get("role") == "" && get("main") == "" {
		return r, nil // a license without contacts
	}
	if r.Email, err = NormalizeEmail("email", get("email")); err != nil {
		return r, err
	}
	if r.Name, err = NormalizeName("name", get("name"), false); err != nil {
		return r, err
	}
	if r.Role, err = ParseRole("role", get("role")); err != nil {
		return r, err
	}
	if main := get("main"); main != "" {
		if r.Main, err = strconv.ParseBool(strings.ToLower(main)); err != nil {
			return r, fault.Invalid("main", "%q is not true or false", main)
		}
	}
	return r, nil
}

// checkRows finds contradictions between lines: a license described two
// ways, a membership listed twice, two mains for one role.
func checkRows(problems *ImportError, rows []Row) {
	type license struct {
		product, name string
		line          int
	}
	type member struct {
		license, email string
		role           Role
	}
	type role struct {
		license string
		role    Role
	}
	type productName struct {
		name string
		line int
	}
	productNames := make(map[string]productName)
	licenses := make(map[string]license)
	members := make(map[member]int)
	mains := make(map[role]int)
	for _, r := range rows {
		if r.ProductName != "" {
			if p, ok := productNames[r.Product]; !ok {
				productNames[r.Product] = productName{r.ProductName, r.Line}
			} else if p.name != r.ProductName {
				problems.Add(r.Line, "product %s is named %q here but %q on line %d", r.Product, r.ProductName, p.name, p.line)
			}
		}
		if l, ok := licenses[r.LicenseID]; !ok {
			licenses[r.LicenseID] = license{r.Product, r.LicenseName, r.Line}
		} else if l.product != r.Product || l.name != r.LicenseName {
			problems.Add(r.Line, "license %s is %s %q here but %s %q on line %d",
				r.LicenseID, r.Product, r.LicenseName, l.product, l.name, l.line)
		}
		if r.Email == "" {
			continue
		}
		k := member{r.LicenseID, r.Email, r.Role}
		if first, dup := members[k]; dup {
			problems.Add(r.Line, "%s is already listed as %s contact of %s on line %d", r.Email, r.Role, r.LicenseID, first)
		} else {
			members[k] = r.Line
		}
		if r.Main {
			k := role{r.LicenseID, r.Role}
			if first, dup := mains[k]; dup {
				problems.Add(r.Line, "%s already has a main %s contact on line %d", r.LicenseID, r.Role, first)
			} else {
				mains[k] = r.Line
			}
		}
	}
}

// CSVWriter writes the contacts CSV, header first, safe to open in a
// spreadsheet: a cell that would read as a formula is escaped with a
// leading ', which ReadCSV removes.
type CSVWriter struct {
	w      *csvfile.Writer
	header bool
}

// NewCSVWriter returns a writer of the contacts CSV on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csvfile.NewWriter(w)} }

// Write writes one row (and the header before the first).
func (cw *CSVWriter) Write(r Row) error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	main := ""
	if r.Email != "" {
		main = strconv.FormatBool(r.Main)
	}
	return cw.w.Write([]string{r.LicenseID, r.Product, r.LicenseName, r.Email, r.Name, string(r.Role), main, r.ProductName})
}

// Flush writes the header if no row was written, then flushes.
func (cw *CSVWriter) Flush() error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	return cw.w.Flush()
}
