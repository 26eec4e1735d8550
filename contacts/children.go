package contacts

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/page"
)

// family says how rows of a parent table (licenses, people) become values
// with their children (contacts, memberships): with two queries for any
// number of parents, never one per parent.
type family[Row, Parent, Child any] struct {
	// rows selects the parent rows from their table; keyColumn is their
	// key.
	rows, keyColumn string
	// parent makes a parent, without children, of a row.
	parent func(Row) Parent
	// key is a parent's key, which its children name.
	key func(Parent) string
	// children selects the children of the parents whose keys are bound to
	// its IN (?), ordered as each parent lists them.
	children string
	// parentOf is the key of a child's parent; adopt gives it the child.
	parentOf func(Child) string
	adopt    func(*Parent, Child)
}

// load makes parents of rows and fills in their children.
func (f family[Row, Parent, Child]) load(ctx context.Context, q sqlx.ExtContext, rows []Row) ([]Parent, error) {
	parents := make([]Parent, len(rows))
	if len(rows) == 0 {
		return parents, nil
	}
	keys := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		parents[i] = f.parent(r)
		keys[i] = f.key(parents[i])
		index[keys[i]] = i
	}
	query, args, err := db.In(f.children, keys)
	if err != nil {
		return nil, err
	}
	var children []Child
	if err := db.Select(ctx, q, &children, query, args...); err != nil {
		return nil, err
	}
	for _, c := range children {
		f.adopt(&parents[index[f.parentOf(c)]], c)
	}
	return parents, nil
}

// one reads the parent of key, with its children: missing when there is
// none; what names the read in other errors.
func (f family[Row, Parent, Child]) one(ctx context.Context, q sqlx.ExtContext, what string, missing error, key string) (Parent, error) {
	var (
		row  Row
		none Parent
	)
	err := db.Get(ctx, q, &row, f.rows+` WHERE `+f.keyColumn+` = ?`, key)
	if db.IsNoRows(err) {
		return none, missing
	}
	if err != nil {
		return none, fmt.Errorf("%s: %w", what, err)
	}
	parents, err := f.load(ctx, q, []Row{row})
	if err != nil {
		return none, fmt.Errorf("%s: %w", what, err)
	}
	return parents[0], nil
}

// list reads the page req asks for of the parents where selects (a
// condition on the rows, with its args), in the order of their key, with
// their children; what names the read in errors.
func (f family[Row, Parent, Child]) list(ctx context.Context, q sqlx.ExtContext, what string, req page.Request, where string, args ...any) (page.Page[Parent], error) {
	limit, after, err := req.Decode()
	if err != nil {
		return page.Page[Parent]{}, err
	}
	query := f.rows + ` WHERE ` + where + ` AND ` + f.keyColumn + ` > ? ORDER BY ` + f.keyColumn + ` LIMIT ?`
	var rows []Row
	if err := db.Select(ctx, q, &rows, query, append(args, after, limit+1)...); err != nil {
		return page.Page[Parent]{}, fmt.Errorf("%s: %w", what, err)
	}
	parents, err := f.load(ctx, q, rows)
	if err != nil {
		return page.Page[Parent]{}, fmt.Errorf("%s: %w", what, err)
	}
	return page.Of(parents, limit, f.key), nil
}
