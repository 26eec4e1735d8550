package csvfile

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/fault"
)

// MaxReported is how many problems an Error lists: the first, by line. A
// file wrong throughout says so soon enough, and a report of every line of
// a large file would be larger than the file.
const MaxReported = 100

// LineError is a problem on one line of a file.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Error lists the first bad lines of a file and counts them all; nothing
// was imported.
type Error struct {
	// Lines are the first MaxReported problems, in line order.
	Lines []LineError
	// BadLines is how many lines are bad, listed or not.
	BadLines int

	last   int // the line of the last problem added, counted already
	cutoff int // once Lines is full, a problem on a later line is not kept
}

// Problem returns an Error of one problem on one line.
func Problem(line int, format string, args ...any) *Error {
	e := &Error{}
	e.Add(line, format, args...)
	return e
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line(s), nothing imported", e.BadLines)
	for i, l := range e.Lines {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", l.Line, l.Message)
	}
	return b.String()
}

// Add records a problem on a line, its values shortened as fault's are.
// A line is counted once when its problems are added one after another, as
// a reader of the file adds them.
func (e *Error) Add(line int, format string, args ...any) {
	if e.BadLines == 0 || line != e.last {
		e.BadLines++
		e.last = line
	}
	if e.cutoff == 0 {
		e.cutoff = math.MaxInt
	}
	if len(e.Lines) >= MaxReported && line > e.cutoff {
		return
	}
	e.Lines = append(e.Lines, LineError{Line: line, Message: fault.Sprintf(format, args...)})
	if len(e.Lines) >= 2*MaxReported {
		e.keepFirst()
	}
}

// keepFirst sorts the problems by line and drops all but the first
// MaxReported. Problems of one line stay in the order they were added.
func (e *Error) keepFirst() {
	slices.SortStableFunc(e.Lines, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
	if len(e.Lines) > MaxReported {
		e.Lines = e.Lines[:MaxReported]
		e.cutoff = e.Lines[MaxReported-1].Line
	}
}

// Unlisted is how many bad lines Lines does not name.
func (e *Error) Unlisted() int {
	listed := 0
	for i, l := range e.Lines {
		if i == 0 || l.Line != e.Lines[i-1].Line {
			listed++
		}
	}
	return max(e.BadLines-listed, 0)
}

// Err returns e, its first lines in order, when it holds any; else nil.
func (e *Error) Err() error {
	if len(e.Lines) == 0 {
		return nil
	}
	e.keepFirst()
	return e
}
