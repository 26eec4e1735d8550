// Package pagetest walks the pages of a listing in tests, as an API client
// following "next" cursors does.
package pagetest

import (
	"testing"

	"github.com/heraldhq/herald/internal/page"
)

// Walk reads every page of a listing, limit items at a time, and returns
// them page by page. It fails the test on an error, and on a listing that
// never ends.
func Walk[T any](t testing.TB, limit int, list func(page.Request) (page.Page[T], error)) [][]T {
	t.Helper()
	var pages [][]T
	req := page.Request{Limit: limit}
	for {
		p, err := list(req)
		if err != nil {
			t.Fatalf("page after %q: %v", req.After, err)
		}
		pages = append(pages, p.Items)
		if p.Next == "" {
			return pages
		}
		if len(pages) > 1000 {
			t.Fatalf("more than 1000 pages of %d: the cursor does not move", limit)
		}
		req.After = p.Next
	}
}
