package markdown

import (
	"fmt"
	"strings"
)

// goldmark v1.8.7 is linear on most Markdown but not on all of it. Its
// emphasis and link parsers look back over every delimiter and bracket of
// a paragraph for each new one (64 KiB of "*a_" takes seconds); its link
// parser re-reads the rest of a line for every "](" whose destination
// does not end ("[a](" repeated); and each container a line opens ("> > >",
// "1. 1. 1.") costs it a pass over those already open. Check measures
// exactly these, over-estimating where a cheap measure cannot be exact, so
// that text it accepts renders in a small multiple of the time of ordinary
// text of the same size. BenchmarkWorstAccepted shows the multiple.
const (
	// maxMarks bounds Σ marks × (marks + lines) over the paragraphs of a
	// text, a mark being a bracket or a run of "*", "_" or "~": the
	// look-back work of goldmark's inline parsers. One paragraph may hold
	// about 5,000 marks; a changelog of a thousand links in one list, each
	// with some bold text, holds a few thousand.
	maxMarks = 30_000_000
	// maxMarksTotal bounds the marks of the whole text: each bracket costs
	// goldmark some allocations even where nothing is quadratic.
	maxMarksTotal = 20_000
	// maxLinkScan bounds the bytes goldmark's link parser reads after
	// every "](" and "][" looking for the end of a destination, a title or
	// a label: about 100 KiB for a thousand ordinary links.
	maxLinkScan = 1_000_000
	// maxMarkers bounds the quote and list markers that open one line.
	maxMarkers = 16
	// maxIndent bounds the columns before a line's first quote or list
	// marker: each two open a deeper list.
	maxIndent = 128
)

// Refusal says why Check refuses a text, and where.
type Refusal struct {
	Line   int
	Reason string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("line %d: %s", r.Line, r.Reason)
}

// Check refuses, in time linear in its length, Markdown that goldmark
// would take too long to render: paragraphs holding thousands of brackets
// or emphasis marks, links whose destination or title does not end, and
// lists or quotes nested too deep. Ordinary release notes (headings,
// lists, tables, code, a changelog with hundreds of links) pass.
func Check(src string) error {
	c := checker{src: src}
	return c.run()
}

type checker struct {
	src  string
	line int // current line, from 1
	// the paragraph being read: where it starts, its marks and lines
	paraLine, marks, lines int
	// the work measured so far
	markWork, scanWork, allMarks int
}

func (c *checker) run() error {
	for start := 0; start < len(c.src); {
		end := start
		for end < len(c.src) && c.src[end] != '\n' {
			end++
		}
		c.line++
		if err := c.readLine(start, end); err != nil {
			return err
		}
		start = end + 1
	}
	return c.endParagraph()
}

// readLine measures the line src[start:end] (without its "\n").
func (c *checker) readLine(start, end int) error {
	line := c.src[start:end]
	if blank(line) {
		return c.endParagraph()
	}
	if c.lines == 0 {
		c.paraLine = c.line
	}
	// A lone "\r" ends a line for goldmark too: count those, so that a
	// paragraph of "[a]\r" lines is measured as the many lines it is.
	c.lines++
	for i := 0; i < len(line); i++ {
		if line[i] == '\r' && i+1 < len(line) {
			c.lines++
		}
	}
	if err := c.containers(line); err != nil {
		return err
	}
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; ch {
		case '[':
			c.marks++
		case ']':
			c.marks++
			if i+1 < len(line) && (line[i+1] == '(' || line[i+1] == '[') {
				if err := c.scanLink(start + i + 1); err != nil {
					return err
				}
			}
		case '*', '_', '~':
			c.marks++
			for i+1 < len(line) && line[i+1] == ch {
				i++
			}
		}
	}
	return nil
}

// endParagraph adds the look-back work of the paragraph just read.
func (c *checker) endParagraph() error {
	if c.lines == 0 {
		return nil
	}
	c.markWork += c.marks * (c.marks + c.lines)
	c.allMarks += c.marks
	marks := c.marks
	c.marks, c.lines = 0, 0
	if c.markWork > maxMarks {
		return &Refusal{Line: c.paraLine, Reason: fmt.Sprintf(
			"too many brackets and emphasis marks (*, _, ~) in one paragraph (%d in the paragraph starting here); split it with blank lines, or use fewer", marks)}
	}
	if c.allMarks > maxMarksTotal {
		return &Refusal{Line: c.paraLine, Reason: fmt.Sprintf(
			"too many brackets and emphasis marks (*, _, ~): more than %d in the text", maxMarksTotal)}
	}
	return nil
}

// blank says whether a line is blank: it ends a paragraph.
func blank(line string) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// containers checks the quote and list markers that open a line, and how
// far the first is indented.
func (c *checker) containers(line string) error {
	markers, col, i := 0, 0, 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			if line[i] == '\t' {
				col += 4 - col%4
			} else {
				col++
			}
			i++
		}
		n := marker(line[i:])
		if n == 0 {
			return nil
		}
		if markers == 0 && col > maxIndent {
			return &Refusal{Line: c.line, Reason: fmt.Sprintf("a list or quote is indented %d columns; at most %d are accepted", col, maxIndent)}
		}
		markers++
		if markers > maxMarkers {
			return &Refusal{Line: c.line, Reason: fmt.Sprintf("more than %d lists and quotes open on one line", maxMarkers)}
		}
		i += n
		col += n
	}
}

// marker returns the length of the quote or list marker s starts with, 0
// for none.
func marker(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '>':
		return 1
	case '-', '+', '*':
		if len(s) == 1 || s[1] == ' ' || s[1] == '\t' || s[1] == '\r' {
			return 1
		}
		return 0
	}
	d := 0
	for d < len(s) && d < 10 && s[d] >= '0' && s[d] <= '9' {
		d++
	}
	if d == 0 || d == len(s) || (s[d] != '.' && s[d] != ')') {
		return 0
	}
	if d+1 == len(s) || s[d+1] == ' ' || s[d+1] == '\t' || s[d+1] == '\r' {
		return d + 1
	}
	return 0
}

// scanLink adds what goldmark reads after the "]" before src[at], which is
// "(" or "[", to the scan work, reading no further than the work left
// allows: the check stays linear whatever the text. It over-estimates: it
// ignores the parentheses that end a destination early, and looks for the
// end of a title or label to the end of the text, not of the paragraph.
func (c *checker) scanLink(at int) error {
	end := min(len(c.src), at+1+maxLinkScan-c.scanWork)
	s := c.src[:end]
	i := at + 1
	// upTo moves i to the first byte of s[i:] in set, or to the end.
	upTo := func(set string) {
		if j := strings.IndexAny(s[i:], set); j >= 0 {
			i += j
		} else {
			i = len(s)
		}
	}
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	if c.src[at] == '[' {
		upTo("]")
	} else {
		skipSpace()
		if i < len(s) && s[i] == '<' {
			upTo(">\n")
		} else {
			upTo(" \t\n\r")
		}
		skipSpace()
		if i < len(s) && (s[i] == '"' || s[i] == '\'' || s[i] == '(') {
			closer := s[i]
			if closer == '(' {
				closer = ')'
			}
			i++
			upTo(string(closer))
		}
	}
	c.scanWork += i - (at + 1)
	if i == end && end < len(c.src) {
		return &Refusal{Line: c.line, Reason: "too many links whose destination, title or label does not end (a \"](\" or \"][\" without its closing \")\" or \"]\")"}
	}
	return nil
}
