package csvfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/csvfile"
)

// nasty are values a spreadsheet would run as formulas, the quote that
// escapes them, and ordinary values that must come back as they are.
var nasty = []string{
	"=1+1", "+x", "-", "-5", "@a", "'", "''=", "'=1", "'tis", "\tx", "\rx", "=HYPERLINK(\"http://evil.test\",\"x\")",
	"", "a", "Ann O'Hara", "x=1", "a,b", "say \"hi\"", "Zoë", "1+1",
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ value, cell string }{
		{"=1+1", "'=1+1"},
		{"+x", "'+x"},
		{"-", "'-"},
		{"@a", "'@a"},
		{"'", "''"},
		{"''=", "'''="},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'tis", "''tis"},
		{"", ""},
		{"Ann", "Ann"},
		{"x=1", "x=1"},
	} {
		t.Run(fmt.Sprintf("%q", tc.value), func(t *testing.T) {
			if got := csvfile.Escape(tc.value); got != tc.cell {
				t.Errorf("Escape = %q, want %q", got, tc.cell)
			}
			if got := csvfile.Unescape(tc.cell); got != tc.value {
				t.Errorf("Unescape(%q) = %q, want %q", tc.cell, got, tc.value)
			}
		})
	}
	// What a person types keeps its quote unless the quote escapes a
	// formula character, as a spreadsheet saves it.
	for cell, want := range map[string]string{"'tis": "'tis", "'=1": "=1", "'a": "'a", "'": "'"} {
		if got := csvfile.Unescape(cell); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", cell, got, want)
		}
	}
}

// FuzzEscape checks the rule for every value: the cell never starts a
// formula, and unescaping it gives the value back.
func FuzzEscape(f *testing.F) {
	for _, v := range nasty {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		cell := csvfile.Escape(value)
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("Escape(%q) = %q starts a formula", value, cell)
		}
		if got := csvfile.Unescape(cell); got != value {
			t.Errorf("Unescape(Escape(%q)) = %q", value, got)
		}
	})
}

// read reads data with the columns a, b and the optional c, and returns
// the records as maps.
func read(t *testing.T, data io.Reader) ([]map[string]string, *csvfile.Error) {
	t.Helper()
	var got []map[string]string
	problems, err := csvfile.Read(data, []string{"a", "b"}, []string{"c"}, func(rec csvfile.Record) error {
		got = append(got, map[string]string{"a": rec.Get("a"), "b": rec.Get("b"), "c": rec.Get("c")})
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got, problems
}

func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf)
	if err := w.Write([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	var want []map[string]string
	for _, v := range nasty {
		if err := w.Write([]string{v, "x" + v}); err != nil {
			t.Fatal(err)
		}
		want = append(want, map[string]string{"a": v, "b": "x" + v, "c": ""})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\n'=1+1,") || !strings.Contains(buf.String(), "\n'''=,") {
		t.Errorf("cells are not escaped:\n%s", buf.String())
	}
	got, problems := read(t, &buf)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestSeparator(t *testing.T) {
	t.Parallel()
	want := []map[string]string{{"a": "1", "b": "x, y", "c": ""}, {"a": "2", "b": "'", "c": ""}}
	for _, tc := range []struct{ name, data string }{
		{"Comma", "a,b\n1,\"x, y\"\n2,'\n"},
		{"Semicolon", "a;b\n1;x, y\n2;'\n"},
		{"SemicolonQuotedHeader", "\uFEFF\"a\";\"B\"\r\n1;\"x, y\"\r\n2;'\r\n"},
		{"Tab", "a\tb\n1\tx, y\n2\t'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := read(t, strings.NewReader(tc.data))
			if err := problems.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}

	// A header that is not known columns on any separator is read with
	// commas; the problem names the misspelt column and the separator the
	// header seems to use.
	for _, tc := range []struct{ name, data, hint string }{
		{"SemicolonTypo", "a;bb\n1;2\n", `unknown column "bb" in a header separated by ';'`},
		{"TabTypo", "a\tbb\n1\t2\n", `unknown column "bb" in a header separated by tab`},
		{"SpreadsheetSeparatorLine", "sep=;\na;b\n1;2\n", `the first line "sep=;" is a spreadsheet's note of the separator`},
		{"KnownColumnsOneMissing", "a;c\n1;2\n", `missing column "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := read(t, strings.NewReader(tc.data))
			if problems.Err() == nil || len(problems.Lines) != 1 || problems.Lines[0].Line != 1 || !strings.Contains(problems.Lines[0].Message, tc.hint) {
				t.Errorf("problems = %+v, want one on line 1 with %q", problems.Lines, tc.hint)
			}
		})
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestBounds(t *testing.T) {
	t.Parallel()
	const giant = 31 << 20
	for _, tc := range []struct {
		name string
		data io.Reader
		want csvfile.LineError
	}{
		{"GiantField", io.MultiReader(strings.NewReader("a,b\n1,2\n3,"), strings.NewReader(strings.Repeat("x", giant))),
			csvfile.LineError{Line: 3, Message: "column 2 (b) is longer than 8 KiB; the file was read no further"}},
		{"GiantQuotedFieldOverManyLines", io.MultiReader(strings.NewReader("a,b\n\"1"), strings.NewReader(strings.Repeat("x\n", giant/2))),
			csvfile.LineError{Line: 2, Message: "column 1 (a) is longer than 8 KiB; the file was read no further"}},
		{"GiantHeader", strings.NewReader(strings.Repeat("a", giant)),
			csvfile.LineError{Line: 1, Message: "column 1 is longer than 8 KiB; the file was read no further"}},
		{"MillionCommas", io.MultiReader(strings.NewReader("a,b\n"), strings.NewReader(strings.Repeat(",", 1<<20))),
			csvfile.LineError{Line: 2, Message: "the line is longer than 64 KiB; the file was read no further"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingReader{r: tc.data}
			_, problems := read(t, src)
			if diff := cmp.Diff([]csvfile.LineError{tc.want}, problems.Lines); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			// The reader stops at the bound: it has read a buffer or two
			// past it, not the giant rest.
			if src.n > 4*csvfile.MaxLine {
				t.Errorf("read %d bytes of the file, want at most %d", src.n, 4*csvfile.MaxLine)
			}
		})
	}

	t.Run("LongestFieldsAreRead", func(t *testing.T) {
		quoted, bare := strings.Repeat("é", csvfile.MaxField/2-1), strings.Repeat("é", csvfile.MaxField/2)
		got, problems := read(t, strings.NewReader("a,b\n\""+quoted+"\","+bare+"\n"))
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0]["a"] != quoted || got[0]["b"] != bare {
			t.Errorf("the longest fields did not come back whole")
		}
	})
}

func TestReadReportsText(t *testing.T) {
	t.Parallel()
	_, problems := read(t, strings.NewReader("a,b\n1,2\n1,x\x00y\n\xff,2\n"))
	want := []csvfile.LineError{
		{Line: 3, Message: "column 2 (b) is not UTF-8 text or holds a NUL character"},
		{Line: 4, Message: "column 1 (a) is not UTF-8 text or holds a NUL character"},
	}
	if diff := cmp.Diff(want, problems.Lines); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestReadFailure(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	_, err := csvfile.Read(io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotestErr{broken}), []string{"a", "b"}, nil, func(csvfile.Record) error { return nil })
	if !errors.Is(err, broken) {
		t.Errorf("Read = %v, want the reader's error", err)
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

func TestError(t *testing.T) {
	t.Parallel()

	t.Run("KeepsTheFirstLinesAndCountsAll", func(t *testing.T) {
		e := &csvfile.Error{}
		// Lines from the end first, as a second pass over the rows adds
		// them after the first, and two problems on each line.
		for line := 10_000; line >= 1; line-- {
			e.Add(line, "email: %q is not an email address", strings.Repeat("x", 1000))
			e.Add(line, "role: is required")
		}
		if e.Err() == nil {
			t.Fatal("Err = nil")
		}
		if e.BadLines != 10_000 || len(e.Lines) != csvfile.MaxReported {
			t.Fatalf("BadLines %d, %d lines listed; want 10000, %d", e.BadLines, len(e.Lines), csvfile.MaxReported)
		}
		if first, last := e.Lines[0], e.Lines[len(e.Lines)-1]; first.Line != 1 || last.Line != 50 {
			t.Errorf("listed lines %d to %d, want 1 to 50", first.Line, last.Line)
		}
		if n := len(e.Lines[0].Message); n > 150 {
			t.Errorf("a message is %d bytes: %q", n, e.Lines[0].Message)
		}
		if got := e.Unlisted(); got != 10_000-50 {
			t.Errorf("Unlisted = %d, want %d", got, 10_000-50)
		}
		if !strings.HasPrefix(e.Error(), "10000 bad line(s), nothing imported; line 1: email:") {
			t.Errorf("Error = %q", e.Error())
		}
	})

	t.Run("NothingIsNil", func(t *testing.T) {
		if err := (&csvfile.Error{}).Err(); err != nil {
			t.Errorf("Err = %v", err)
		}
	})
}
