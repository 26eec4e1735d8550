package db

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// Migrate brings the schema up to date with the migrations embedded in the
// binary. On PostgreSQL it holds an advisory lock while it runs, so several
// processes starting at once migrate one after the other. The lock is the
// schema's: advisory locks are the whole database's, and herald
// installations (or tests) in other schemas of it need not wait.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithSlog(logger)}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		var schema string
		if err := db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLock(schema)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, db.DB.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// migrationLock is the advisory lock of migrating schema: goose's own in
// the public schema, where herald before this one took it too, so that an
// older and a newer herald starting together still migrate one at a time.
func migrationLock(schema string) int64 {
	if schema == "public" {
		return lock.DefaultLockID
	}
	id := fnv.New64a()
	id.Write([]byte("herald migrations of " + schema))
	return int64(id.Sum64())
}
