// Package db opens herald's SQL database (SQLite through modernc.org/sqlite,
// or PostgreSQL through pgx), runs the embedded migrations, and translates
// driver errors into the few cases the domain packages care about.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/heraldhq/herald/internal/redact"
)

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a sqlx handle that knows its dialect. Queries are written once, with
// ? placeholders, and run through Get, Select and Exec below, which rebind
// them for the driver.
type DB struct {
	*sqlx.DB
	Dialect Dialect
}

// Open connects to the database named by rawURL: sqlite:PATH (created if
// missing, WAL, foreign keys on, a busy timeout, transactions that take the
// write lock at BEGIN) or postgres://…. It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	var (
		db      *sqlx.DB
		dialect Dialect
		err     error
	)
	switch scheme {
	case "sqlite":
		dialect = SQLite
		db, err = openSQLite(rest)
	case "postgres", "postgresql":
		dialect = Postgres
		db, err = sqlx.Open("pgx", rawURL)
		if err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(10)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("unsupported database scheme %q (use sqlite: or postgres:)", scheme)
	}
	// A driver may quote the URL it was given in its errors (pgx redacts
	// its own, but not every path through database/sql is pgx's).
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, redact.Error(err, rawURL))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, redact.Error(err, rawURL))
	}
	return &DB{DB: db, Dialect: dialect}, nil
}

func openSQLite(path string) (*sqlx.DB, error) {
	path = strings.TrimPrefix(path, "//")
	path, params, _ := strings.Cut(path, "?")
	if path == "" {
		return nil, errors.New("sqlite: needs a file path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	q, err := url.ParseQuery(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite parameters: %w", err)
	}
	// Foreign keys are a per-connection switch in SQLite, so they go in the
	// DSN, which every pooled connection runs. _txlock=immediate takes the
	// write lock at BEGIN: a deferred transaction that reads and then writes
	// can fail with SQLITE_BUSY without ever waiting on the busy timeout.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sqlx.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// SQLite has one writer at a time, and a writer that finds the lock
	// taken sleeps in the busy handler for milliseconds at a time: with
	// many goroutines writing, throughput collapses. One connection queues
	// them in Go instead, where a waiter wakes the moment the lock is free.
	// Statements are microseconds, so readers lose little.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// InTx runs fn in a transaction and commits it if fn returns nil. A
// transaction PostgreSQL aborted as a deadlock victim is run again, up to
// three times in all; fn must not keep state from a failed run.
func (db *DB) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var err error
	for range 3 {
		if err = db.inTx(ctx, fn); !isRetryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique or primary-key violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isRetryable reports whether a transaction failed only because another
// one got in its way (PostgreSQL's deadlock and serialization failures):
// running it again is the fix.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// IsNoRows reports whether err says a query matched nothing.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// LikePattern returns a LIKE pattern matching s anywhere, with LIKE's
// wildcards in s escaped; use it with ESCAPE '\'.
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// Get runs query (written with ? placeholders) on q, a *sqlx.DB or *sqlx.Tx,
// and scans the one row into dest.
func Get(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, q, dest, q.Rebind(query), args...)
}

// Select runs query on q and scans every row into the slice dest.
func Select(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, q, dest, q.Rebind(query), args...)
}

// Exec runs a statement on q.
func Exec(ctx context.Context, q sqlx.ExtContext, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, q.Rebind(query), args...)
}

// In expands a query's "IN (?)" for slice arguments, as sqlx.In does.
func In(query string, args ...any) (string, []any, error) { return sqlx.In(query, args...) }
