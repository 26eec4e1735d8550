package db_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestOpenExisting opens only a database herald made: a fresh one is
// ErrNoSchema and, for SQLite, stays absent; once migrated it opens.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		url := database.URL(t)
		if _, err := db.OpenExisting(ctx, url); !errors.Is(err, db.ErrNoSchema) {
			t.Fatalf("fresh database: %v, want ErrNoSchema", err)
		}
		if file, ok := strings.CutPrefix(url, "sqlite:"); ok {
			if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused %s exists: %v", file, err)
			}
		}
		d, err := db.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		err = d.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		d, err = db.OpenExisting(ctx, url)
		if err != nil {
			t.Fatalf("migrated database: %v", err)
		}
		d.Close()
	})

	t.Run("SQLiteFileOfSomethingElse", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "other.db")
		other, err := db.Open(ctx, "sqlite:"+file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.ExecContext(ctx, `CREATE TABLE notes (body TEXT)`)
		other.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.OpenExisting(ctx, "sqlite:"+file); !errors.Is(err, db.ErrNoSchema) {
			t.Errorf("a SQLite file herald did not make: %v, want ErrNoSchema", err)
		}
	})

	t.Run("SQLiteDirectoryIsNotMade", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if _, err := db.OpenExisting(ctx, "sqlite:"+filepath.Join(dir, "herald.db")+"?_pragma=cache_size(-2000)"); !errors.Is(err, db.ErrNoSchema) {
			t.Errorf("missing directory: %v, want ErrNoSchema", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the directory of the refused file exists: %v", err)
		}
	})
}
