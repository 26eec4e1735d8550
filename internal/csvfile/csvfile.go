// Package csvfile reads the CSV files herald imports (contacts, invoices):
// a header naming the columns, in any order, then one record a line; every
// bad line is reported with its number, so that a file is fixed in one go
// and imported all or nothing.
package csvfile

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// LineError is a problem on one line of a file.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Error lists every bad line of a file; nothing was imported.
type Error struct {
	Lines []LineError
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line(s), nothing imported", len(e.Lines))
	for i, l := range e.Lines {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", l.Line, l.Message)
	}
	return b.String()
}

// Add records a problem on a line (up to a thousand: a file that is wrong
// throughout says so soon enough).
func (e *Error) Add(line int, format string, args ...any) {
	if len(e.Lines) < 1000 {
		e.Lines = append(e.Lines, LineError{Line: line, Message: fmt.Sprintf(format, args...)})
	}
}

// Err returns e, its lines in order, when it holds any; else nil.
func (e *Error) Err() error {
	if len(e.Lines) == 0 {
		return nil
	}
	slices.SortStableFunc(e.Lines, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
	return e
}

// Record is one line of a file, its fields by column name (trimmed; an
// optional column that is absent reads as empty).
type Record struct {
	Line   int
	fields []string
	cols   map[string]int
}

// Get returns the field of column.
func (r Record) Get(column string) string {
	if i, ok := r.cols[column]; ok {
		return strings.TrimSpace(r.fields[i])
	}
	return ""
}

// Read reads a file whose header holds the columns (the optional ones may be
// missing) and calls record for each line that is not blank. An error from
// record is that line's problem. Problems of the file itself and of its
// lines come back together as an *Error.
func Read(r io.Reader, columns, optional []string, record func(Record) error) *Error {
	all := append(slices.Clone(columns), optional...)
	header := strings.Join(all, ",")
	problems := &Error{}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	names, err := cr.Read()
	if errors.Is(err, io.EOF) {
		problems.Add(1, "the file is empty; the first line must be the header %s", header)
		return problems
	}
	if err != nil {
		problems.Add(1, "%s", message(err))
		return problems
	}
	cols := make(map[string]int, len(names))
	for i, name := range names {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF")))
		switch _, dup := cols[name]; {
		case !slices.Contains(all, name):
			problems.Add(1, "unknown column %q; the header is %s", name, header)
		case dup:
			problems.Add(1, "column %q appears twice", name)
		}
		cols[name] = i
	}
	for _, c := range columns {
		if _, ok := cols[c]; !ok {
			problems.Add(1, "missing column %q; the header is %s", c, header)
		}
	}
	if len(problems.Lines) > 0 {
		return problems
	}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return problems
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			// After a quoting error the reader cannot tell for sure where
			// the next record starts: stop rather than report noise.
			problems.Add(line, "%s", message(err))
			return problems
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue
		}
		if len(fields) != len(names) {
			problems.Add(line, "has %d fields, the header has %d", len(fields), len(names))
			continue
		}
		if err := record(Record{Line: line, fields: fields, cols: cols}); err != nil {
			problems.Add(line, "%v", err)
		}
	}
}

func message(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}
