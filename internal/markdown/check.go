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
	// maxTableCells bounds the cells, columns × rows, of a text's tables:
	// goldmark pads every short row to the header's width, so a header of
	// 2,000 columns over 2,000 one-word rows is 4 million cells (40 MB of
	// HTML, seconds to render) from 12 KB of text. A cell goldmark parses
	// costs it up to 5 µs: 20,000 of them take about as long as the
	// slowest text the other bounds accept. A table of 50 columns and 300
	// rows has 15,000.
	maxTableCells = 20_000
	// maxEscapedPipes bounds backticks × escaped pipes ("\|") in table
	// rows: goldmark matches every escaped pipe in a cell's code against
	// every other one in the text.
	maxEscapedPipes = 4_000_000
	// maxRefCopy bounds the bytes goldmark copies out of link reference
	// definitions ("[a]: https://…"): each "[a]" repeats the destination
	// and title, so one 40 KB destination used 6,000 times is 240 MB of
	// HTML. Check counts every "]" as a use of the longest definition.
	maxRefCopy = 2 << 20
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
// or emphasis marks, links whose destination or title does not end, lists
// or quotes nested too deep, and tables of too many cells. Ordinary
// release notes (headings, lists, tables, code, a changelog with a
// thousand links) pass.
//
// Code blocks are not counted: goldmark parses no links or emphasis in
// them. Check skips a fenced or indented code block only where it is sure
// goldmark sees one (at the top level, not inside an HTML block, a list
// or a quote); elsewhere it counts, which may refuse but never lets slow
// text through.
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

	// What the previous lines opened, as far as Check can be sure.
	afterBlank bool   // the previous line was blank, or there was none
	fence      string // the fence of the code block being read, "" outside one
	indented   bool   // in an indented code block
	html       bool   // maybe in an HTML block; htmlEnd ends it, "" a blank line
	htmlEnd    string
	// containers says a list or quote may be open: an indented line may
	// then be a paragraph, and a fence belong to a list item.
	containers bool
	// unsure says a fence may have opened or closed where Check could not
	// follow (in a list, a quote, an HTML block): from there on it skips
	// no fenced code, lest it skip text goldmark parses.
	unsure bool

	// the table being read: its header line, widest delimiter row, rows
	tableLine, tableCols, tableRows int
	tableCells                      int // over the text's tables
	// backticks and escaped pipes in table rows, and in the line before,
	// which is a table's header if a delimiter row follows
	backticks, escapedPipes int
	prevTicks, prevEscapes  int

	// closers counts the "]" read; defAt is where the definition being
	// read starts (its "]:"), defLong whether it may run to the end of
	// its block, lastEnd where the last line read ends; longestDef is the
	// longest definition, defLine its line.
	closers, defAt, defAtLine, lastEnd, longestDef, defLine int
	defLong                                                 bool
}

func (c *checker) run() error {
	c.afterBlank, c.defAt = true, -1
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
	if err := c.endParagraph(); err != nil {
		return err
	}
	if err := c.endTable(); err != nil {
		return err
	}
	c.endBlock()
	if c.closers*c.longestDef > maxRefCopy {
		return &Refusal{Line: c.defLine, Reason: fmt.Sprintf(
			"a link reference definition of %d bytes may be repeated by up to %d links, %d MiB of HTML; shorten it, or use it in fewer links",
			c.longestDef, c.closers, c.closers*c.longestDef>>20)}
	}
	return nil
}

// endBlock ends the block of lines read since the last blank line,
// fence or indented code: a link reference definition in it ends no
// later.
func (c *checker) endBlock() {
	c.endDef()
}

// endDef ends the link reference definition being read, at the end of
// the last line read.
func (c *checker) endDef() {
	if c.defAt >= 0 && c.lastEnd-c.defAt > c.longestDef {
		c.longestDef, c.defLine = c.lastEnd-c.defAt, c.defAtLine
	}
	c.defAt, c.defLong = -1, false
}

// definitions follows the link reference definitions a line may start
// or continue. One ends with its line, unless its destination or title
// may go on: then it is taken to run to the end of its block.
func (c *checker) definitions(line string, start, end int) {
	if c.defAt >= 0 && !c.defLong {
		// A title may start on the line after the destination.
		if s := strings.TrimLeft(line, " \t"); s != "" && strings.IndexByte(`"'(`, s[0]) >= 0 {
			c.defLong = true
		} else {
			c.endDef()
		}
	}
	c.lastEnd = end
	if c.defAt >= 0 {
		return
	}
	i := strings.Index(line, "]:")
	if i < 0 {
		return
	}
	c.defAt, c.defAtLine = start+i, c.line
	c.defLong = !definitionEnds(line[i+2:])
}

// definitionEnds says whether the rest of a line after "]:" surely holds
// all of a definition's destination and title.
func definitionEnds(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return false // the destination is on the next line
	}
	if s[0] == '<' {
		j := strings.IndexByte(s, '>')
		if j < 0 {
			return false
		}
		s = s[j+1:]
	} else if j := strings.IndexAny(s, " \t"); j >= 0 {
		s = s[j:]
	} else {
		return true
	}
	s = strings.TrimSpace(s)
	if s == "" || strings.IndexByte(`"'(`, s[0]) < 0 {
		return true
	}
	closer := s[0]
	if closer == '(' {
		closer = ')'
	}
	return len(s) > 1 && s[len(s)-1] == closer && s[len(s)-2] != '\\'
}

// readLine measures the line src[start:end] (without its "\n"). A lone
// "\r" does not end a line for goldmark's blocks (a fence is a fence to
// the "\n"), but does for its inline parsers.
func (c *checker) readLine(start, end int) error {
	line := c.src[start:end]
	wasBlank := c.afterBlank
	c.afterBlank = blank(line)
	if c.fence != "" {
		if closesFence(line, c.fence) {
			c.fence = ""
		}
		return nil
	}
	if c.afterBlank {
		c.endBlock()
		if c.html && c.htmlEnd == "" {
			c.html = false
		}
		if err := c.endParagraph(); err != nil {
			return err
		}
		return c.endTable()
	}
	indent := indentation(line)
	if c.indented && indent >= 4 {
		return nil
	}
	c.indented = false
	if fence, ok := opensFence(line); ok && indent <= 3 && !c.html && !c.unsure && (indent == 0 || !c.containers) {
		// A fence at the top level: the code runs to its closing fence.
		// One in the first column also closes any list or quote.
		c.fence, c.containers = fence, false
		c.endBlock()
		if err := c.endParagraph(); err != nil {
			return err
		}
		return c.endTable()
	} else if fenceLike(line) {
		c.unsure = true
	}
	if wasBlank && indent >= 4 && !c.html && !c.containers {
		c.indented = true
		return nil
	}
	c.definitions(line, start, end)
	if wasBlank && indent == 0 {
		// After a blank line, a line in the first column is in no list
		// or quote (it cannot continue a paragraph), unless it opens one.
		c.containers = false
	}
	c.htmlBlock(line, indent)
	if newBlock(line, indent) {
		// A list item with text always starts a paragraph of its own:
		// goldmark parses each item's links and emphasis apart.
		if err := c.endParagraph(); err != nil {
			return err
		}
	}
	if c.lines == 0 {
		c.paraLine = c.line
	}
	// Count the lone "\r", so that a paragraph of "[a]\r" lines is
	// measured as the many lines it is to the inline parsers.
	c.lines++
	for i := 0; i < len(line); i++ {
		if line[i] == '\r' && i+1 < len(line) {
			c.lines++
		}
	}
	opens, err := c.checkContainers(line)
	if err != nil {
		return err
	}
	c.containers = c.containers || opens
	if err := c.table(line); err != nil {
		return err
	}
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; ch {
		case '[':
			c.marks++
		case ']':
			c.marks++
			c.closers++
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
	marks, lines := c.marks, c.lines
	c.marks, c.lines = 0, 0
	if c.markWork > maxMarks {
		advice := "use fewer"
		switch {
		case c.tableLine > 0:
			advice = "split the table into smaller ones, each with its header row, or use fewer"
		case lines > 1:
			advice = "split it with blank lines, or use fewer"
		}
		return &Refusal{Line: c.paraLine, Reason: fmt.Sprintf(
			"too many brackets and emphasis marks (*, _, ~) in one paragraph (%d in the paragraph starting here); %s", marks, advice)}
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

// indentation returns the columns of white space a line starts with.
func indentation(line string) int {
	col := 0
	for i := 0; i < len(line) && (line[i] == ' ' || line[i] == '\t'); i++ {
		if line[i] == '\t' {
			col += 4 - col%4
		} else {
			col++
		}
	}
	return col
}

// opensFence returns the fence a line opens a code block with ("```",
// "~~~~", …) if it is one: three or more backticks or tildes after at
// most three spaces, and no backtick after backticks (that is code in a
// paragraph).
func opensFence(line string) (string, bool) {
	s := strings.TrimLeft(line, " ")
	if len(line)-len(s) > 3 || len(s) < 3 || (s[0] != '`' && s[0] != '~') {
		return "", false
	}
	n := 0
	for n < len(s) && s[n] == s[0] {
		n++
	}
	if n < 3 || (s[0] == '`' && strings.IndexByte(s[n:], '`') >= 0) {
		return "", false
	}
	return s[:n], true
}

// closesFence says whether a line closes the code block opened by fence:
// at least as many of its characters after at most three spaces, and
// nothing else.
func closesFence(line, fence string) bool {
	s := strings.TrimLeft(line, " ")
	if len(line)-len(s) > 3 {
		return false
	}
	n := 0
	for n < len(s) && s[n] == fence[0] {
		n++
	}
	return n >= len(fence) && blank(s[n:])
}

// fenceLike says whether a line, past any white space and list or quote
// markers, starts as a fence: goldmark may see one where Check cannot
// tell.
func fenceLike(line string) bool {
	s := strings.TrimLeft(line, " \t")
	for n := marker(s); n > 0; n = marker(s) {
		s = strings.TrimLeft(s[n:], " \t")
	}
	return strings.HasPrefix(s, "```") || strings.HasPrefix(s, "~~~")
}

// newBlock says whether a line starts a list item that interrupts any
// paragraph: a bullet, or the number 1, with text after it.
func newBlock(line string, indent int) bool {
	if indent > 3 {
		return false
	}
	s := strings.TrimLeft(line, " \t")
	n := marker(s)
	if n == 0 || s[0] == '>' || (s[0] >= '0' && s[0] <= '9' && s[:n-1] != "1") {
		return false
	}
	return !blank(s[n:])
}

// htmlBlock follows the HTML blocks a line may open or close: in one, a
// fence is not a fence, nor an indented line code. It errs towards
// longer blocks than goldmark's, never shorter.
func (c *checker) htmlBlock(line string, indent int) {
	if !c.html && indent <= 3 && strings.HasPrefix(strings.TrimLeft(line, " "), "<") {
		s := strings.ToLower(strings.TrimLeft(line, " "))
		c.html, c.htmlEnd = true, ""
		for _, tag := range []string{"script", "pre", "style", "textarea"} {
			if rest, ok := strings.CutPrefix(s, "<"+tag); ok && (rest == "" || strings.IndexByte(" \t\r\f>", rest[0]) >= 0 || strings.HasPrefix(rest, "/>")) {
				c.htmlEnd = "</" + tag + ">"
			}
		}
		switch {
		case c.htmlEnd != "":
		case strings.HasPrefix(s, "<!--"):
			c.htmlEnd = "-->"
		case strings.HasPrefix(s, "<?"):
			c.htmlEnd = "?>"
		case strings.HasPrefix(s, "<![cdata["):
			c.htmlEnd = "]]>"
		case strings.HasPrefix(s, "<!"):
			c.htmlEnd = ">"
		}
	}
	if c.html && c.htmlEnd != "" && strings.Contains(strings.ToLower(line), c.htmlEnd) {
		c.html = false
	}
}

// table counts the cells of the table a line may belong to. A line that
// looks like a delimiter row ("| --- | :-: |") makes the line before it
// a header and those after it rows, to the next blank line: goldmark ends
// a table no later. Where the count cannot be exact it is over.
func (c *checker) table(line string) error {
	ticks, escapes := strings.Count(line, "`"), strings.Count(line, `\|`)
	if escapes == 0 {
		ticks = 0
	}
	if cols := delimiterRow(line); cols > 0 && c.lines > 1 {
		if c.tableLine == 0 {
			c.tableLine, c.tableRows = c.line-1, 1
			c.backticks += c.prevTicks
			c.escapedPipes += c.prevEscapes
		}
		c.tableCols = max(c.tableCols, cols)
	}
	c.prevTicks, c.prevEscapes = ticks, escapes
	if c.tableLine == 0 {
		return nil
	}
	c.tableRows++
	c.backticks += ticks
	c.escapedPipes += escapes
	if c.backticks*c.escapedPipes > maxEscapedPipes {
		return &Refusal{Line: c.line, Reason: fmt.Sprintf(
			"too many escaped pipes (\\|) in code in table cells (%d in the text's tables); use fewer", c.escapedPipes)}
	}
	return nil
}

// endTable adds the cells of the table just read, if any.
func (c *checker) endTable() error {
	if c.tableLine == 0 {
		return nil
	}
	// The delimiter row is not a row of the table.
	cols, rows, line := c.tableCols, c.tableRows-1, c.tableLine
	c.tableLine, c.tableCols, c.tableRows = 0, 0, 0
	c.tableCells += cols * rows
	if c.tableCells > maxTableCells {
		return &Refusal{Line: line, Reason: fmt.Sprintf(
			"a table of %d columns and %d rows is too large to send: every row gets all %d columns, and at most %d cells (columns × rows) are accepted in all of a text's tables; use fewer columns, or split it into smaller tables",
			cols, rows, cols, maxTableCells)}
	}
	return nil
}

// delimiterRow returns the columns of a line that may be a table's
// delimiter row, past any list or quote markers: only "-", ":", "|" and
// white space, with a "-"; 0 for any other line. A line of "-" alone
// counts as one column: goldmark may take it for one.
func delimiterRow(line string) int {
	s := strings.TrimLeft(line, " \t")
	for n := marker(s); n > 0 && n < len(s); n = marker(s) {
		s = strings.TrimLeft(s[n:], " \t")
	}
	dash, pipes := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			dash = true
		case '|':
			pipes++
		case ':', ' ', '\t', '\r':
		default:
			return 0
		}
	}
	if !dash {
		return 0
	}
	// Pipes before the first cell and after the last open and close
	// the row, not a column.
	s = strings.TrimRight(s, " \t\r")
	cols := pipes + 1
	if s[0] == '|' {
		cols--
	}
	if len(s) > 1 && s[len(s)-1] == '|' {
		cols--
	}
	return max(cols, 1)
}

// checkContainers checks the quote and list markers that open a line, and
// how far the first is indented; it says whether there was one.
func (c *checker) checkContainers(line string) (bool, error) {
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
			return markers > 0, nil
		}
		if markers == 0 && col > maxIndent {
			return true, &Refusal{Line: c.line, Reason: fmt.Sprintf("a list or quote is indented %d columns; at most %d are accepted", col, maxIndent)}
		}
		markers++
		if markers > maxMarkers {
			return true, &Refusal{Line: c.line, Reason: fmt.Sprintf("more than %d lists and quotes open on one line", maxMarkers)}
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
