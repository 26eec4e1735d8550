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

// separatorHint says which separator a one-column header seems to use,
// when it is not one that separator recognises (a column name misspelt).
func separatorHint(names []string) string {
	if len(names) != 1 {
		return ""
	}
	for _, sep := range separators {
		if strings.ContainsRune(names[0], sep) {
			return "; the file seems to use " + sepName(sep) + " as separator: herald reads ',', ';' or tab, and tells which from a header of known column names"
		}
	}
	return ""
}

func sepName(sep rune) string {
	if sep == '\t' {
		return "tab"
	}
	return "'" + string(sep) + "'"
}
