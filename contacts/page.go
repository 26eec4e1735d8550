package contacts

import (
	"encoding/base64"

	"github.com/heraldhq/herald/internal/fault"
)

// Page sizes of lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageRequest asks for up to Limit items after the cursor After.
type PageRequest struct {
	Limit int    // 0 means DefaultPageSize
	After string // a Page.Next from the same list, or empty for the first page
}

// Page is one slice of a list ordered by key; Next is the cursor of the
// following page, empty on the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// limit validates the request and decodes its cursor into the key to
// continue after.
func (p PageRequest) limit() (limit int, after string, err error) {
	limit = p.Limit
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		return 0, "", fault.Invalid("limit", "must be between 1 and %d", MaxPageSize)
	}
	if p.After != "" {
		key, err := base64.RawURLEncoding.DecodeString(p.After)
		if err != nil || len(key) == 0 {
			return 0, "", fault.Invalid("after", "is not a cursor returned by this list")
		}
		after = string(key)
	}
	return limit, after, nil
}

// cursor encodes a key as an opaque cursor.
func cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// pageOf cuts items (fetched with limit+1) to limit and sets Next.
func pageOf[T any](items []T, limit int, key func(T) string) Page[T] {
	p := Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = cursor(key(p.Items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
