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

// Opener returns a fresh migrated database that is closed (and on
// PostgreSQL dropped) when the test ends.
type Opener func(t testing.TB) *db.DB

// Each runs fn as a subtest once per available database: "sqlite" always,
// "postgres" when HERALD_TEST_DATABASE_URL is set.
func Each(t *testing.T, fn func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite) })
	if pgURL := os.Getenv(EnvDatabaseURL); pgURL != "" {
		t.Run("postgres", func(t *testing.T) {
			fn(t, func(t testing.TB) *db.DB { return OpenPostgres(t, pgURL) })
		})
	}
}

// Open returns a fresh database: PostgreSQL when HERALD_TEST_DATABASE_URL is
// set, else SQLite. For tests that need one database, not each.
func Open(t testing.TB) *db.DB {
	if pgURL := os.Getenv(EnvDatabaseURL); pgURL != "" {
		return OpenPostgres(t, pgURL)
	}
	return OpenSQLite(t)
}

// URL returns a database URL for a process started by the test (the binary
// tests): a fresh PostgreSQL schema when HERALD_TEST_DATABASE_URL is set,
// else a SQLite file in a temporary directory.
func URL(t testing.TB) string {
	if pgURL := os.Getenv(EnvDatabaseURL); pgURL != "" {
		return newSchema(t, pgURL)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "herald.db")
}

// OpenSQLite returns a migrated SQLite database in a temporary directory.
func OpenSQLite(t testing.TB) *db.DB {
	t.Helper()
	return openMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "herald.db"))
}

// OpenPostgres returns a migrated database in a new schema of pgURL's
// database; the schema is dropped when the test ends.
func OpenPostgres(t testing.TB, pgURL string) *db.DB {
	t.Helper()
	return openMigrated(t, newSchema(t, pgURL))
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
