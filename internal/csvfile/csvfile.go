// Package csvfile reads the CSV files herald imports (contacts, invoices):
// a header naming the columns, in any order, then one record a line; every
// bad line is counted and the first ones reported with their numbers, so
// that a file is fixed in one go and imported all or nothing. It writes
// them too, safe to open in a spreadsheet.
package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

const bom = "\uFEFF"

// Record is one line of a file, its fields by column name (trimmed and
// unescaped; an optional column that is absent reads as empty).
type Record struct {
	Line   int
	fields []string
	cols   map[string]int
}

// Get returns the field of column.
func (r Record) Get(column string) string {
	if i, ok := r.cols[column]; ok {
		return Unescape(strings.TrimSpace(r.fields[i]))
	}
	return ""
}

// Read reads a file whose header holds the columns (the optional ones may be
// missing) and calls record for each line that is not blank. An error from
// record is that line's problem. Problems of the file itself and of its
// lines come back together as an *Error; the error is one of reading r,
// which is not the file's fault.
//
// The separator is a comma, or ';' or a tab when the header shows it (see
// separator). A field or a line longer than MaxField or MaxLine stops the
// reading there, so a file is never held whole.
func Read(r io.Reader, columns, optional []string, record func(Record) error) (*Error, error) {
	all := append(slices.Clone(columns), optional...)
	problems := &Error{}
	br := bufio.NewReaderSize(r, MaxLine)
	head, err := br.Peek(MaxLine)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read the CSV: %w", err)
	}
	// A byte-order mark (which some editors write first) is not part of
	// the first column's name; left in, it would make a quoted name a
	// quoting error.
	if bytes.HasPrefix(head, []byte(bom)) {
		head = head[len(bom):]
		_, _ = br.Discard(len(bom))
	}
	lr := newLimitReader(br, separator(head, all))
	cr := csv.NewReader(lr)
	cr.Comma = rune(lr.comma)
	cr.FieldsPerRecord = -1

	names, err := cr.Read()
	if errors.Is(err, io.EOF) {
		problems.Add(1, "the file is empty; the first line must be the header %s", strings.Join(all, ","))
		return problems, nil
	}
	if err != nil {
		return readFailure(problems, lr, err, nil)
	}
	names, cols, ok := header(problems, names, columns, all)
	if !ok {
		return problems, nil
	}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		if err != nil {
			return readFailure(problems, lr, err, names)
		}
		line, _ := cr.FieldPos(0)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue
		}
		if len(fields) != len(names) {
			problems.Add(line, "has %d fields, the header has %d", len(fields), len(names))
			continue
		}
		if i := slices.IndexFunc(fields, notText); i >= 0 {
			problems.Add(line, "column %d (%s) is not UTF-8 text or holds a NUL character", i+1, names[i])
			continue
		}
		if err := record(Record{Line: line, fields: fields, cols: cols}); err != nil {
			problems.Add(line, "%v", err)
		}
	}
}

// header checks the header and returns its column names and their places.
func header(problems *Error, cells, columns, all []string) ([]string, map[string]int, bool) {
	hdr := strings.Join(all, ",")
	if len(cells) == 1 && strings.HasPrefix(columnName(cells[0]), "sep=") {
		problems.Add(1, "the first line %q is a spreadsheet's note of the separator, not the header; remove it: herald tells the separator from the header %s", cells[0], hdr)
		return nil, nil, false
	}
	if sep, parts, ok := misspeltHeader(cells, all); ok {
		// Read with another separator, a header of one cell is known
		// names but one or more misspelt ones: name those.
		for _, p := range parts {
			problems.Add(1, "unknown column %q in a header separated by "+sepName(sep)+
				" (herald reads ',', ';' or tab, and tells which from a header of known column names); the header is %s", p, hdr)
		}
		return nil, nil, false
	}
	names := make([]string, len(cells))
	cols := make(map[string]int, len(cells))
	for i, cell := range cells {
		name := columnName(cell)
		names[i] = name
		switch _, dup := cols[name]; {
		case !slices.Contains(all, name):
			problems.Add(1, "unknown column %q; the header is %s", name, hdr)
		case dup:
			problems.Add(1, "column %q appears twice", name)
		}
		cols[name] = i
	}
	for _, c := range columns {
		if _, ok := cols[c]; !ok {
			problems.Add(1, "missing column %q; the header is %s", c, hdr)
		}
	}
	if i := slices.IndexFunc(cells, notText); i >= 0 {
		problems.Add(1, "column %d of the header is not UTF-8 text or holds a NUL character", i+1)
	}
	return names, cols, len(problems.Lines) == 0
}

// readFailure reports what stopped the reading: the file's fault (a
// quoting error, a field too long) as its problem, else as an error.
func readFailure(problems *Error, lr *limitReader, err error, names []string) (*Error, error) {
	var (
		pe *csv.ParseError
		tl *tooLong
	)
	switch {
	case errors.As(err, &pe):
		// After a quoting error the reader cannot tell for sure where
		// the next record starts: stop rather than report noise.
		problems.Add(pe.StartLine, "column %d: %v", pe.Column, pe.Err)
	case errors.As(err, &tl) && tl.field:
		column := fmt.Sprint(tl.column)
		if tl.column <= len(names) {
			column += " (" + names[tl.column-1] + ")"
		}
		problems.Add(tl.line, "column %s is longer than %d KiB; the file was read no further", column, MaxField>>10)
	case errors.As(err, &tl):
		problems.Add(tl.line, "the line is longer than %d KiB; the file was read no further", MaxLine>>10)
	default:
		return nil, fmt.Errorf("read the CSV: %w", err)
	}
	return problems, nil
}

// notText reports whether a field is not text that both databases keep:
// PostgreSQL refuses NUL and invalid UTF-8.
func notText(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
