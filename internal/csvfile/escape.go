package csvfile

import (
	"encoding/csv"
	"io"
	"strings"
)

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula (OWASP's CSV injection list), and the quote that
// escapes them, so that a value which begins with the quote itself comes
// back unchanged too.
const formulaStart = "=+-@\t\r'"

// Escape returns a cell that a spreadsheet shows as the text s: s with a
// leading ' when it begins with one of = + - @ tab CR or '.
func Escape(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Unescape undoes Escape: it removes one leading ' from a cell whose next
// character is one Escape quotes. Any other cell is returned as it is, so
// that a value typed with a leading quote ("'tis") stays as typed.
func Unescape(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.IndexByte(formulaStart, s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// Writer writes a CSV file that is safe to open in a spreadsheet: every
// cell is escaped, and Read unescapes it.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, cell := range record {
		w.rec = append(w.rec, Escape(cell))
	}
	return w.w.Write(w.rec)
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
