package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestStoredAdminTokenIsForgotten: herald before 00010 stored the token of
// HERALD_ADMIN_TOKEN, which kept opening the API after the variable was
// removed. Migrating deletes it, and only it.
func TestStoredAdminTokenIsForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d, migrations := migratedTo(t, database, 8)
		at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		for _, name := range []string{"HERALD_ADMIN_TOKEN", "ci"} {
			if _, err := db.Exec(ctx, d, `INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)`, name, "hash of "+name, at); err != nil {
				t.Fatal(err)
			}
		}

		if _, err := migrations.UpTo(ctx, 10); err != nil {
			t.Fatalf("migrate to 10: %v", err)
		}
		var names []string
		if err := db.Select(ctx, d, &names, `SELECT name FROM api_tokens ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"ci"}, names); diff != "" {
			t.Errorf("stored tokens after the migration (-want +got):\n%s", diff)
		}
	})
}
