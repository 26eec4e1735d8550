// Package db opens herald's SQL database (SQLite through modernc.org/sqlite,
// or PostgreSQL through pgx), runs the embedded migrations, and translates
// driver errors into the few cases the domain packages care about.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/heraldhq/herald/internal/redact"
)

// pgxDriver is the database/sql driver of PostgreSQL.
const pgxDriver = "pgx"

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a sqlx handle that knows its dialect. Queries are written once, with
// ? placeholders, and run through Get, Select and Exec below, which rebind
// them for the driver.
//
// The embedded handle is the writer: statements that change something, and
// every transaction, go through it. Read is for plain reads outside a
// transaction. On SQLite, which has one writer at a time, they are two
// pools: the writer holds one connection, so that writers queue in Go, and
// Read holds several query-only connections which, in WAL mode, read the
// last committed state while a write transaction is open: a long import
// does not hold up the requests that only read. On PostgreSQL, where the
// server sorts readers from writers, Read is the writer's pool itself.
type DB struct {
	*sqlx.DB
	Read    *sqlx.DB
	Dialect Dialect
}

// Open connects to the database named by rawURL: sqlite:PATH (created if
// missing, WAL, foreign keys on, a busy timeout, transactions that take the
// write lock at BEGIN) or postgres://…. It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	var (
		w, r    *sqlx.DB
		dialect Dialect
		err     error
	)
	switch scheme {
	case "sqlite":
		dialect = SQLite
		w, r, err = openSQLite(rest)
	case "postgres", "postgresql":
		dialect = Postgres
		w, err = sqlx.Open(pgxDriver, rawURL)
		if err == nil {
			w.SetMaxOpenConns(20)
			w.SetMaxIdleConns(10)
			w.SetConnMaxIdleTime(5 * time.Minute)
			r = w
		}
	default:
		return nil, fmt.Errorf("unsupported database scheme %q (use sqlite: or postgres:)", scheme)
	}
	// A driver may quote the URL it was given in its errors (pgx redacts
	// its own, but not every path through database/sql is pgx's).
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, redact.Error(err, rawURL))
	}
	d := &DB{DB: w, Read: r, Dialect: dialect}
	// The writer first: its first connection turns WAL on, which the
	// readers need and, being query-only, cannot do themselves.
	for _, h := range []*sqlx.DB{w, r} {
		if err := h.PingContext(ctx); err != nil {
			d.Close()
			return nil, fmt.Errorf("connect to %s database: %w", dialect, redact.Error(err, rawURL))
		}
	}
	return d, nil
}

// Close closes the readers, then the writer: the last connection to close
// folds the WAL back into the database file, which takes one that may
// write.
func (db *DB) Close() error {
	var err error
	if db.Read != db.DB {
		err = db.Read.Close()
	}
	return errors.Join(err, db.DB.Close())
}

// PingContext checks that the database answers a read, through the
// readers: a readiness probe must not queue behind a long write on
// SQLite's one writer connection.
func (db *DB) PingContext(ctx context.Context) error {
	var one int
	return db.Read.GetContext(ctx, &one, `SELECT 1`)
}

// readers is how many connections read a SQLite database at once.
var readers = max(4, runtime.NumCPU())

func openSQLite(path string) (writer, reader *sqlx.DB, err error) {
	path = strings.TrimPrefix(path, "//")
	path, params, _ := strings.Cut(path, "?")
	if path == "" {
		return nil, nil, errors.New("sqlite: needs a file path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
	}
	q, err := url.ParseQuery(params)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite parameters: %w", err)
	}
	// Pragmas are per connection in SQLite, so they go in the DSN, which
	// every pooled connection runs. A reader waits on the busy timeout too:
	// it can meet a lock for a moment while the WAL is checkpointed.
	rq := maps.Clone(q)
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	// _txlock=immediate takes the write lock at BEGIN: a deferred
	// transaction that reads and then writes can fail with SQLITE_BUSY
	// without ever waiting on the busy timeout.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// A bulk write (an import, a fan-out of a million deliveries) that
	// outgrows the page cache spills pages into the WAL mid-transaction and
	// writes many of them twice.
	q.Add("_pragma", "cache_size(-16384)")
	q.Set("_txlock", "immediate")
	if writer, err = sqlx.Open("sqlite", path+"?"+q.Encode()); err != nil {
		return nil, nil, err
	}
	// SQLite has one writer at a time, and a writer that finds the lock
	// taken sleeps in the busy handler for milliseconds at a time: with
	// many goroutines writing, throughput collapses. One connection queues
	// them in Go instead, where a waiter wakes the moment the lock is free.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if reader, err = sqlx.Open("sqlite", path+"?"+rq.Encode()); err != nil {
		writer.Close()
		return nil, nil, err
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	reader.SetConnMaxIdleTime(5 * time.Minute)
	return writer, reader, nil
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

// InTxAsyncCommit is InTx for a write whose loss in a crash of the
// database server only repeats work, such as a claim that the durable
// commit of its outcome covers: on PostgreSQL its commit does not wait for
// the WAL to reach the disk (synchronous_commit off, for this transaction
// alone), which a send path that claims in batches would otherwise wait on
// once a batch. A later commit that waits (any other) makes it durable
// too, since the WAL is written in order. SQLite's commits never wait for
// the disk here (synchronous NORMAL in WAL mode), so it is InTx there.
func (db *DB) InTxAsyncCommit(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	if db.Dialect != Postgres {
		return db.InTx(ctx, fn)
	}
	return db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
			return fmt.Errorf("commit without waiting for the disk: %w", err)
		}
		return fn(tx)
	})
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
