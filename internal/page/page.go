// Package page is keyset pagination for herald's lists: a request for up to
// Limit items after an opaque cursor, and a page that carries the cursor of
// the next one.
package page

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/fault"
)

// Page sizes of lists.
const (
	DefaultSize = 50
	MaxSize     = 500
)

// maxCursorLen bounds a cursor: it encodes one key (an id, a license id, an
// address of at most 254 bytes), so anything longer was not made here.
const maxCursorLen = 1024

// Request asks for up to Limit items after the cursor After.
type Request struct {
	Limit int    // 0 means DefaultSize
	After string // a Page.Next from the same list, or empty for the first page
}

// Page is one slice of a list ordered by key; Next is the cursor of the
// following page, empty on the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// Decode validates the request and decodes its cursor into the key to
// continue after.
func (p Request) Decode() (limit int, after string, err error) {
	limit = p.Limit
	switch {
	case limit == 0:
		limit = DefaultSize
	case limit < 1 || limit > MaxSize:
		return 0, "", fault.Invalid("limit", "must be between 1 and %d", MaxSize)
	}
	if p.After != "" {
		if len(p.After) > maxCursorLen {
			return 0, "", fault.Invalid("after", "is not a cursor returned by this list")
		}
		key, err := base64.RawURLEncoding.DecodeString(p.After)
		if err != nil || len(key) == 0 || !utf8.Valid(key) || bytes.IndexByte(key, 0) >= 0 {
			return 0, "", fault.Invalid("after", "is not a cursor returned by this list")
		}
		after = string(key)
	}
	return limit, after, nil
}

// DecodeID is Decode for lists keyed by a numeric id: the id to continue
// after, 0 on the first page.
func (p Request) DecodeID() (limit int, afterID int64, err error) {
	limit, after, err := p.Decode()
	if err != nil || after == "" {
		return limit, 0, err
	}
	afterID, err = strconv.ParseInt(after, 10, 64)
	if err != nil || afterID <= 0 {
		return 0, 0, fault.Invalid("after", "is not a cursor returned by this list")
	}
	return limit, afterID, nil
}

// Cursor encodes a key as an opaque cursor.
func Cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// Of cuts items (fetched with limit+1) to limit and sets Next.
func Of[T any](items []T, limit int, key func(T) string) Page[T] {
	p := Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = Cursor(key(p.Items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// OfID is Of for lists keyed by a numeric id.
func OfID[T any](items []T, limit int, id func(T) int64) Page[T] {
	return Of(items, limit, func(item T) string { return strconv.FormatInt(id(item), 10) })
}
