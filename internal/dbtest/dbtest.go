// Package dbtest gives tests fresh, migrated databases: a SQLite file in a
// temporary directory always, and a schema of its own in the PostgreSQL
// database named by HERALD_TEST_DATABASE_URL when that is set.
package dbtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/db"
)

// EnvDatabaseURL names the PostgreSQL database the tests may use.
const EnvDatabaseURL = "HERALD_TEST_DATABASE_URL"

// Database is one kind of database the tests run on. Each call of URL or
// Open makes a fresh one that is dropped when the test ends.
type Database struct {
	Name string // "sqlite" or "postgres"
	url  func(t testing.TB) string
}

// SQLite is a SQLite file in the test's temporary directory.
var SQLite = Database{Name: "sqlite", url: func(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "herald.db")
}}

// postgres is a schema of its own in the database at pgURL.
func postgres(pgURL string) Database {
	return Database{Name: "postgres", url: func(t testing.TB) string { return newSchema(t, pgURL) }}
}

// URL returns the URL of a fresh, empty database, for herald to open and
// migrate itself (the app, the binary).
func (d Database) URL(t testing.TB) string {
	t.Helper()
	return d.url(t)
}

// Open returns a fresh migrated database, closed when the test ends.
func (d Database) Open(t testing.TB) *db.DB {
	t.Helper()
	return openMigrated(t, d.url(t))
}

// Each runs fn as a subtest once per available database: "sqlite" always,
// "postgres" when HERALD_TEST_DATABASE_URL is set.
func Each(t *testing.T, fn func(t *testing.T, database Database)) {
	for _, d := range All() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

// All lists the available databases.
func All() []Database {
	all := []Database{SQLite}
	if pgURL := os.Getenv(EnvDatabaseURL); pgURL != "" {
		all = append(all, postgres(pgURL))
	}
	return all
}

// Any returns PostgreSQL when HERALD_TEST_DATABASE_URL is set, else SQLite:
// for tests that need one database, not each.
func Any() Database {
	all := All()
	return all[len(all)-1]
}

// URL returns the URL of a fresh database of Any.
func URL(t testing.TB) string {
	t.Helper()
	return Any().URL(t)
}

func openMigrated(t testing.TB, rawURL string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return d
}

// newSchema creates a schema of its own for one test and returns pgURL with
// its search_path pointing there.
func newSchema(t testing.TB, pgURL string) string {
	t.Helper()
	ctx := context.Background()
	schema := "test_" + strings.ToLower(rand.Text()[:12])
	admin, err := db.Open(ctx, pgURL)
	if err != nil {
		t.Fatalf("open %s: %v", EnvDatabaseURL, err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := db.Open(ctx, pgURL)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
