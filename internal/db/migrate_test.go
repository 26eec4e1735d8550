package db_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// migrator returns goose on d with the migrations of its dialect, to take a
// database to a version and back.
func migrator(t *testing.T, d *db.DB) *goose.Provider {
	t.Helper()
	dialect := goose.DialectSQLite3
	if d.Dialect == db.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, d.DB.DB, os.DirFS("migrations/"+string(d.Dialect)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// migratedTo opens a database of the test's kind and applies the
// migrations up to version, for a test of the next ones; migrations are
// the rest.
func migratedTo(t *testing.T, database dbtest.Database, version int64) (*db.DB, *goose.Provider) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, database.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	migrations := migrator(t, d)
	if _, err := migrations.UpTo(ctx, version); err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
	return d, migrations
}

// TestSuppressionsMigration takes a database with suppressed contacts from
// before the suppressions table to it: each suppression is kept, with its
// reply and time, and no code or delivery, which were not recorded.
func TestSuppressionsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d, migrations := migratedTo(t, database, 5)
		at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			email, reason string
			suppressedAt  *time.Time
		}{
			{"ann@acme.test", "550 5.1.1 no such user", &at},
			{"bob@acme.test", "", nil},
		} {
			if _, err := db.Exec(ctx, d, `
				INSERT INTO contacts (email, suppressed_at, suppressed_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				c.email, c.suppressedAt, c.reason, at, at); err != nil {
				t.Fatal(err)
			}
		}

		if _, err := migrations.UpTo(ctx, 6); err != nil {
			t.Fatalf("migrate to 6: %v", err)
		}

		type row struct {
			Email     string     `db:"email"`
			Reply     string     `db:"reply"`
			Code      int        `db:"code"`
			Enhanced  string     `db:"enhanced"`
			Delivery  *int64     `db:"delivery_id"`
			CreatedAt time.Time  `db:"created_at"`
			LiftedAt  *time.Time `db:"lifted_at"`
			LiftedBy  string     `db:"lifted_by"`
		}
		var got []row
		if err := db.Select(ctx, d, &got, `SELECT email, reply, code, enhanced, delivery_id, created_at, lifted_at, lifted_by FROM suppressions ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].CreatedAt = got[i].CreatedAt.UTC()
		}
		want := []row{{Email: "ann@acme.test", Reply: "550 5.1.1 no such user", CreatedAt: at}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("suppressions (-want +got):\n%s", diff)
		}

		if _, err := migrations.DownTo(ctx, 5); err != nil {
			t.Fatalf("migrate down to 5: %v", err)
		}
		var suppressed int
		if err := db.Get(ctx, d, &suppressed, `SELECT COUNT(*) FROM contacts WHERE suppressed_at IS NOT NULL`); err != nil || suppressed != 1 {
			t.Errorf("suppressed contacts after migrating down: %d, %v; want ann still", suppressed, err)
		}
	})
}

// TestOptOutSplitMigration takes contacts from one opt-out to two: a
// contact who had opted out of release notices and announcements stays
// out of both, and one who had not stays in both. Down keeps the first.
func TestOptOutSplitMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d, migrations := migratedTo(t, database, 10)
		at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			email  string
			optOut bool
		}{{"ann@acme.test", true}, {"bob@acme.test", false}} {
			if _, err := db.Exec(ctx, d, `INSERT INTO contacts (email, release_opt_out, created_at, updated_at) VALUES (?, ?, ?, ?)`,
				c.email, c.optOut, at, at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := migrations.UpTo(ctx, 11); err != nil {
			t.Fatalf("migrate to 11: %v", err)
		}
		type row struct {
			Email     string `db:"email"`
			Release   bool   `db:"release_opt_out"`
			Broadcast bool   `db:"broadcast_opt_out"`
		}
		var got []row
		if err := db.Select(ctx, d, &got, `SELECT email, release_opt_out, broadcast_opt_out FROM contacts ORDER BY email`); err != nil {
			t.Fatal(err)
		}
		want := []row{{"ann@acme.test", true, true}, {"bob@acme.test", false, false}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("opt-outs (-want +got):\n%s", diff)
		}
		if _, err := migrations.DownTo(ctx, 10); err != nil {
			t.Fatalf("migrate down to 10: %v", err)
		}
		var out int
		if err := db.Get(ctx, d, &out, `SELECT COUNT(*) FROM contacts WHERE release_opt_out`); err != nil || out != 1 {
			t.Errorf("opted out after migrating down: %d, %v; want ann still", out, err)
		}
	})
}

// TestAuditLogWidened takes an audit log of membership changes to the one
// that also records tokens, suppressions and erasures: every entry is kept
// as it was, the new kinds of entry are taken, and migrating down keeps the
// membership changes.
func TestAuditLogWidened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d, migrations := migratedTo(t, database, 12)
		at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		insert := `INSERT INTO audit_log (license_id, action, email, role, is_main, previous_main, via, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
		if _, err := db.Exec(ctx, d, insert, "SEN-1", "promoted", "bob@acme.test", "technical", true, "ann@acme.test", "portal", "ann@acme.test", at); err != nil {
			t.Fatal(err)
		}
		if _, err := migrations.UpTo(ctx, 14); err != nil {
			t.Fatalf("migrate to 14: %v", err)
		}
		type row struct {
			LicenseID    string `db:"license_id"`
			Action       string `db:"action"`
			Email        string `db:"email"`
			Role         string `db:"role"`
			Main         bool   `db:"is_main"`
			PreviousMain string `db:"previous_main"`
			Via          string `db:"via"`
			Actor        string `db:"actor"`
			TokenName    string `db:"token_name"`
		}
		var got []row
		if err := db.Select(ctx, d, &got, `SELECT license_id, action, email, role, is_main, previous_main, via, actor, token_name FROM audit_log`); err != nil {
			t.Fatal(err)
		}
		want := []row{{"SEN-1", "promoted", "bob@acme.test", "technical", true, "ann@acme.test", "portal", "ann@acme.test", ""}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit log after 14 (-want +got):\n%s", diff)
		}
		if _, err := db.Exec(ctx, d, `INSERT INTO audit_log (license_id, action, email, role, via, actor, created_at, token_name) VALUES ('', 'token_created', '', '', 'cli', 'ops', ?, 'ci')`, at); err != nil {
			t.Errorf("a token's entry is refused: %v", err)
		}
		if _, err := db.Exec(ctx, d, `INSERT INTO audit_log (license_id, action, email, role, via, actor, created_at) VALUES ('', 'exploded', '', '', 'cli', 'ops', ?)`, at); err == nil {
			t.Error("an unknown action is taken")
		}
		if _, err := migrations.DownTo(ctx, 12); err != nil {
			t.Fatalf("migrate down to 12: %v", err)
		}
		var n int
		if err := db.Get(ctx, d, &n, `SELECT COUNT(*) FROM audit_log WHERE action = 'promoted'`); err != nil || n != 1 {
			t.Errorf("%d membership changes after migrating down (%v), want 1", n, err)
		}
	})
}
