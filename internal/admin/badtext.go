package admin

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// badText finds the first string of a JSON body, value or field name, that
// holds a NUL character or bytes that are not UTF-8, and returns the path
// of its field ("contacts[0].name") and what is wrong. PostgreSQL refuses
// both in text and SQLite stores them; encoding/json would silently turn
// bad bytes into U+FFFD. found is false when every string is clean, or
// when the body is not JSON (the decoder then says why).
func badText(body []byte) (field, why string, found bool) {
	invalidAt := -1
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				invalidAt = i
				break
			}
			i += size
		}
	} else if !bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return "", "", false
	}

	// One frame per open object or array: the key or index of the value
	// being read in it.
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case f.key != "" && !f.expectKey:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if f := stack[n-1]; f.array {
				f.index++
			} else {
				f.expectKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		end := dec.InputOffset()
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{expectKey: true})
			case '[':
				stack = append(stack, &frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		case string:
			var top *frame
			if n := len(stack); n > 0 {
				top = stack[n-1]
			}
			isKey := top != nil && !top.array && top.expectKey
			bad := ""
			switch {
			case invalidAt >= int(start) && invalidAt < int(end):
				bad = "must be UTF-8 text"
			case strings.ContainsRune(v, 0):
				bad = "must not contain NUL characters"
			}
			if bad != "" {
				if isKey {
					return path(), "a field name " + bad, true
				}
				return path(), bad, true
			}
			if isKey {
				top.key, top.expectKey = v, false
				continue
			}
		}
		valueDone()
	}
}
