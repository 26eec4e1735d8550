package csvfile

import (
	"fmt"
	"io"
)

// Bounds of a field and of a line (a record, which quoted line breaks may
// spread over several), in bytes as they are in the file, quotes and
// separators included. They are far
// above any value herald keeps (a name has at most 200 characters) and
// keep a file that is one giant field, or a line of a million commas,
// from being held in memory whole.
const (
	MaxField = 8 << 10
	MaxLine  = 64 << 10
)

// limitReader passes a CSV file through, following its quotes, separators
// and line breaks as encoding/csv does, and fails with a *tooLong as soon
// as a field or a record goes past its bound. Up to the first quoting
// error, which stops the reading anyway, it sees fields exactly as the
// parser does.
type limitReader struct {
	r     io.Reader
	comma byte

	line       int // the line being read, from 1
	recordLine int // the line its record starts on
	column     int // the column being read, from 1
	field      int // bytes of the field so far
	record     int // bytes of the record so far
	quoted     bool
	err        error
}

// tooLong is a field or a line past its bound.
type tooLong struct {
	line, column int
	field        bool // else the line
}

func (e *tooLong) Error() string {
	if e.field {
		return fmt.Sprintf("line %d: column %d is longer than %d KiB", e.line, e.column, MaxField>>10)
	}
	return fmt.Sprintf("line %d is longer than %d KiB", e.line, MaxLine>>10)
}

func newLimitReader(r io.Reader, comma rune) *limitReader {
	return &limitReader{r: r, comma: byte(comma), line: 1, recordLine: 1, column: 1}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		l.field++
		l.record++
		switch {
		case c == '"':
			// "" inside a quoted field flips twice: no change, as it should.
			l.quoted = !l.quoted
		case c == '\n' && !l.quoted:
			l.line++
			l.recordLine, l.column, l.field, l.record = l.line, 1, 0, 0
		case c == '\n':
			l.line++
		case c == l.comma && !l.quoted:
			l.column++
			l.field = 0
		}
		switch {
		case l.field > MaxField:
			l.err = &tooLong{line: l.recordLine, column: l.column, field: true}
		case l.record > MaxLine:
			l.err = &tooLong{line: l.recordLine}
		default:
			continue
		}
		return i, l.err
	}
	return n, err
}
