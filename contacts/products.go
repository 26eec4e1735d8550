package contacts

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Product is a product herald knows of: one that licenses name, or one
// that was given a display name before its first license.
type Product struct {
	Key string
	// Name is the display name staff gave it, empty when none was given.
	Name string
	// Licenses counts the licenses of the product, whatever their status.
	Licenses int
}

// DisplayName is what messages call the product: its name, or its key
// when it has none.
func (p Product) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Key
}

// NormalizeProductName checks a product's display name: required, one
// line, at most 200 characters.
func NormalizeProductName(field, name string) (string, error) {
	return NormalizeName(field, name, true)
}

// productsQuery reads every product: the keys licenses name and those with
// a name, each with its name and how many licenses it has. Its rows are
// ordered by key, after the key bound first.
const productsQuery = `
	SELECT k.key, COALESCE(p.name, '') AS name, (SELECT COUNT(*) FROM licenses l WHERE l.product = k.key) AS licenses
	FROM (SELECT product AS key FROM licenses UNION SELECT key FROM products) k
	LEFT JOIN products p ON p.key = k.key`

type productRow struct {
	Key      string `db:"key"`
	Name     string `db:"name"`
	Licenses int    `db:"licenses"`
}

func (r productRow) product() Product { return Product{Key: r.Key, Name: r.Name, Licenses: r.Licenses} }

// PutProduct gives the product key its display name; created says whether
// the product had none before. A key no license names yet is fine: its
// name is ready for the first.
func (s *Store) PutProduct(ctx context.Context, key, name string) (Product, bool, error) {
	key, err := NormalizeProduct("key", key)
	if err != nil {
		return Product{}, false, err
	}
	if name, err = NormalizeProductName("name", name); err != nil {
		return Product{}, false, err
	}
	var c change
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		c, err = s.nameProduct(ctx, tx, key, name)
		return err
	})
	if err != nil {
		return Product{}, false, fmt.Errorf("name product %s: %w", key, err)
	}
	p, err := s.GetProduct(ctx, key)
	return p, c == created, err
}

// nameProduct sets the name of a checked product key, inserting first so
// that two requests naming a new product at once both succeed.
func (s *Store) nameProduct(ctx context.Context, tx *sqlx.Tx, key, name string) (change, error) {
	now := s.timestamp()
	res, err := db.Exec(ctx, tx, `
		INSERT INTO products (key, name, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, key, name, now, now)
	if err != nil {
		return unchanged, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return created, nil
	}
	res, err = db.Exec(ctx, tx, `UPDATE products SET name = ?, updated_at = ? WHERE key = ? AND name <> ?`, name, now, key, name)
	if err != nil {
		return unchanged, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return updated, nil
	}
	return unchanged, nil
}

// GetProduct returns one product: missing when no license names it and it
// has no name.
func (s *Store) GetProduct(ctx context.Context, key string) (Product, error) {
	key, err := NormalizeProduct("key", key)
	if err != nil {
		return Product{}, err
	}
	var rows []productRow
	if err := db.Select(ctx, s.db, &rows, productsQuery+` WHERE k.key = ?`, key); err != nil {
		return Product{}, fmt.Errorf("get product %s: %w", key, err)
	}
	if len(rows) == 0 {
		return Product{}, fault.NotFound("product %s does not exist: no license names it and it has no name", key)
	}
	return rows[0].product(), nil
}

// ListProducts returns a page of products ordered by key.
func (s *Store) ListProducts(ctx context.Context, req page.Request) (page.Page[Product], error) {
	limit, after, err := req.Decode()
	if err != nil {
		return page.Page[Product]{}, err
	}
	var rows []productRow
	if err := db.Select(ctx, s.db, &rows, productsQuery+` WHERE k.key > ? ORDER BY k.key LIMIT ?`, after, limit+1); err != nil {
		return page.Page[Product]{}, fmt.Errorf("list products: %w", err)
	}
	list := make([]Product, len(rows))
	for i, r := range rows {
		list[i] = r.product()
	}
	return page.Of(list, limit, func(p Product) string { return p.Key }), nil
}

// ProductName is what messages call the product key: its display name, or
// the key itself when it has none.
func (s *Store) ProductName(ctx context.Context, key string) (string, error) {
	var names []string
	if err := db.Select(ctx, s.db, &names, `SELECT name FROM products WHERE key = ?`, key); err != nil {
		return "", fmt.Errorf("name of product %s: %w", key, err)
	}
	if len(names) == 0 {
		return key, nil
	}
	return names[0], nil
}
