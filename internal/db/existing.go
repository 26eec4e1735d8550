package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/pressly/goose/v3"
)

// ErrNoSchema says that there is no herald database where the URL points:
// a SQLite file that does not exist, or a database herald never migrated.
var ErrNoSchema = errors.New("no herald database")

// OpenExisting opens the database at rawURL as Open does, but only one that
// herald has migrated before: a missing SQLite file is not created (nor
// its directory), and a database without herald's migration table is
// closed again. Either is ErrNoSchema. It does not migrate.
func OpenExisting(ctx context.Context, rawURL string) (*DB, error) {
	if path, ok := sqliteFile(rawURL); ok {
		// Checked before opening: opening creates the file.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoSchema
		}
	}
	d, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	migrated, err := d.migrated(ctx)
	if err == nil && !migrated {
		err = ErrNoSchema
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// sqliteFile returns the file of a sqlite: URL, read as openSQLite reads
// it, and whether rawURL is one.
func sqliteFile(rawURL string) (string, bool) {
	rest, ok := strings.CutPrefix(rawURL, "sqlite:")
	if !ok {
		return "", false
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
	return path, true
}

// migrated reports whether the database (on PostgreSQL, its current schema)
// holds the table in which the migrations record themselves: the mark of a
// database herald made.
func (db *DB) migrated(ctx context.Context) (bool, error) {
	query := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.Dialect == Postgres {
		query = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	if err := Get(ctx, db, &n, query, goose.DefaultTablename); err != nil {
		return false, fmt.Errorf("look for herald's schema: %w", err)
	}
	return n > 0, nil
}
