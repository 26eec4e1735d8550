package contacts

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/fault"
)

// CSVHeader is the column list of the contacts CSV, as exported and as
// import expects it (in any order).
var CSVHeader = []string{"license_id", "product", "license_name", "email", "name", "role", "main"}

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
}

// LineError is a problem on one line of an import.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ImportError lists every bad line of an import; nothing was applied.
type ImportError struct {
	Lines []LineError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line(s), nothing imported", len(e.Lines))
	for i, l := range e.Lines {
		if i == 5 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", l.Line, l.Message)
	}
	return b.String()
}

// Is makes an ImportError an invalid-input error for errors.Is.
func (e *ImportError) Is(target error) bool { return target == ErrInvalid }

// maxLineErrors bounds the report of a file that is wrong throughout.
const maxLineErrors = 1000

// ReadCSV parses and checks a contacts CSV. Every problem is reported with
// its line number in an *ImportError; rows are returned only when there is
// none.
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ImportError{Lines: []LineError{{Line: 1, Message: "the file is empty; the first line must be the header " + strings.Join(CSVHeader, ",")}}}
	}
	if err != nil {
		return nil, &ImportError{Lines: []LineError{{Line: 1, Message: csvMessage(err)}}}
	}
	cols, err := columns(header)
	if err != nil {
		return nil, &ImportError{Lines: []LineError{{Line: 1, Message: err.Error()}}}
	}

	var (
		rows  []Row
		lines []LineError
	)
	bad := func(line int, format string, args ...any) {
		if len(lines) < maxLineErrors {
			lines = append(lines, LineError{Line: line, Message: fmt.Sprintf(format, args...)})
		}
	}
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
			// After a quoting error the reader cannot tell for sure where
			// the next record starts: stop rather than report noise.
			bad(line, "%s", csvMessage(err))
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			bad(line, "has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		row, err := parseRow(line, rec, cols)
		if err != nil {
			bad(line, "%v", err)
			continue
		}
		rows = append(rows, row)
	}
	for _, e := range checkRows(rows) {
		bad(e.Line, "%s", e.Message)
	}
	if len(lines) > 0 {
		slices.SortStableFunc(lines, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &ImportError{Lines: lines}
	}
	return rows, nil
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}

// columns maps each known column to its index in header.
func columns(header []string) (map[string]int, error) {
	cols := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if !slices.Contains(CSVHeader, h) {
			return nil, fmt.Errorf("unknown column %q; the header is %s", h, strings.Join(CSVHeader, ","))
		}
		if _, dup := cols[h]; dup {
			return nil, fmt.Errorf("column %q appears twice", h)
		}
		cols[h] = i
	}
	for _, c := range CSVHeader {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("missing column %q; the header is %s", c, strings.Join(CSVHeader, ","))
		}
	}
	return cols, nil
}

func parseRow(line int, rec []string, cols map[string]int) (Row, error) {
	get := func(c string) string { return strings.TrimSpace(rec[cols[c]]) }
	r := Row{Line: line, LicenseID: get("license_id")}
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
func checkRows(rows []Row) []LineError {
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
	var errs []LineError
	licenses := make(map[string]license)
	members := make(map[member]int)
	mains := make(map[role]int)
	for _, r := range rows {
		if l, ok := licenses[r.LicenseID]; !ok {
			licenses[r.LicenseID] = license{r.Product, r.LicenseName, r.Line}
		} else if l.product != r.Product || l.name != r.LicenseName {
			errs = append(errs, LineError{r.Line, fmt.Sprintf("license %s is %s %q here but %s %q on line %d",
				r.LicenseID, r.Product, r.LicenseName, l.product, l.name, l.line)})
		}
		if r.Email == "" {
			continue
		}
		k := member{r.LicenseID, r.Email, r.Role}
		if first, dup := members[k]; dup {
			errs = append(errs, LineError{r.Line, fmt.Sprintf("%s is already listed as %s contact of %s on line %d", r.Email, r.Role, r.LicenseID, first)})
		} else {
			members[k] = r.Line
		}
		if r.Main {
			k := role{r.LicenseID, r.Role}
			if first, dup := mains[k]; dup {
				errs = append(errs, LineError{r.Line, fmt.Sprintf("%s already has a main %s contact on line %d", r.LicenseID, r.Role, first)})
			} else {
				mains[k] = r.Line
			}
		}
	}
	return errs
}

// CSVWriter writes the contacts CSV, header first.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer of the contacts CSV on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

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
	return cw.w.Write([]string{r.LicenseID, r.Product, r.LicenseName, r.Email, r.Name, string(r.Role), main})
}

// Flush writes the header if no row was written, then flushes.
func (cw *CSVWriter) Flush() error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	cw.w.Flush()
	return cw.w.Error()
}
