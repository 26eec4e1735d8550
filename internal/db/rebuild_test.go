package db

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestRebuildingAnnouncementsKeepsDeliveries migrates a SQLite database
// that holds an announcement and its delivery through 00007, which builds
// the announcements table again: its deliveries must not cascade away.
func TestRebuildingAnnouncementsKeepsDeliveries(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.DB.DB, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO announcements (id, kind, dedupe_key, template, send_at, status, created_at, updated_at) VALUES (1, 'release', 'k', 'release', '2026-12-01', 'sending', '2026-12-01', '2026-12-01')`,
		`INSERT INTO deliveries (announcement_id, email, chunk, status, next_attempt_at, created_at, updated_at) VALUES (1, 'a@acme.test', 0, 'pending', '2026-12-01', '2026-12-01', '2026-12-01')`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	if err := d.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.GetContext(ctx, &n, `SELECT COUNT(*) FROM deliveries WHERE announcement_id = 1`); err != nil || n != 1 {
		t.Fatalf("%d deliveries after the migration (%v), want 1", n, err)
	}
	for _, q := range []string{
		`UPDATE announcements SET status = 'paused', paused_from = 'sending', paused_by = 'relay' WHERE id = 1`,
		`INSERT INTO announcements (kind, dedupe_key, template, send_at, status, created_at, updated_at) VALUES ('bounce_notice', 'b', 'b', '2026-12-01', 'done', '2026-12-01', '2026-12-01')`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Errorf("after the migration, %s: %v", q, err)
		}
	}
	var violations []struct {
		Table  string `db:"table"`
		RowID  int64  `db:"rowid"`
		Parent string `db:"parent"`
		FKID   int64  `db:"fkid"`
	}
	if err := d.SelectContext(ctx, &violations, `PRAGMA foreign_key_check`); err != nil || len(violations) != 0 {
		t.Errorf("foreign key check: %+v, %v", violations, err)
	}
}
