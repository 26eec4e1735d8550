package csvfile

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
)

// separators are those a file may use besides the comma: spreadsheets in
// locales whose decimal mark is a comma save CSV with ';', and "text"
// exports use tabs.
var separators = []rune{';', '\t'}

// separator tells which separator a file uses from its first line, which
// must be the header. A header names only known columns, and no value is a
// column name, so the reading is safe: it is ';' or a tab only when the
// header splits into two or more known column names on it and not on a
// comma; else a comma, and a bad header is reported as usual.
func separator(head []byte, known []string) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i+1]
	}
	header := string(head)
	if splitsInto(header, ',', known) {
		return ','
	}
	for _, sep := range separators {
		if splitsInto(header, sep, known) {
			return sep
		}
	}
	return ','
}

// splitsInto reports whether header, read with sep, is two or more known
// column names.
func splitsInto(header string, sep rune, known []string) bool {
	cr := csv.NewReader(strings.NewReader(header))
	cr.Comma = sep
	names, err := cr.Read()
	if err != nil || len(names) < 2 {
		return false
	}
	for _, name := range names {
		if !slices.Contains(known, columnName(name)) {
			return false
		}
	}
	return true
}

// columnName is a header cell as a column name: trimmed, lower-cased.
func columnName(cell string) string {
	return strings.ToLower(strings.TrimSpace(cell))
}

// misspeltHeader tells a header that uses ';' or a tab but was read with
// commas, because a column name in it is misspelt: a single cell that
// splits on the separator into names of which at least one is known. It
// returns the separator and the names that are not known.
func misspeltHeader(cells, known []string) (rune, []string, bool) {
	if len(cells) != 1 {
		return 0, nil, false
	}
	for _, sep := range separators {
		parts := strings.Split(cells[0], string(sep))
		if len(parts) < 2 {
			continue
		}
		var unknown []string
		for _, p := range parts {
			if !slices.Contains(known, columnName(p)) {
				unknown = append(unknown, columnName(p))
			}
		}
		if len(unknown) < len(parts) {
			return sep, unknown, true
		}
	}
	return 0, nil, false
}

func sepName(sep rune) string {
	if sep == '\t' {
		return "tab"
	}
	return "'" + string(sep) + "'"
}
