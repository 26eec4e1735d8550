package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestReadsDoNotWaitForTheWriter holds a write transaction open, as a long
// import does, and reads: the read answers at once with what was committed
// before the transaction, and sees the transaction's rows once it commits.
func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		count := func(t *testing.T) int {
			t.Helper()
			// Far below the transaction, which lasts until the test ends it.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var n int
			if err := db.Get(ctx, d.Read, &n, `SELECT COUNT(*) FROM settings WHERE name LIKE 'read-test-%'`); err != nil {
				t.Fatalf("read while the writer is busy: %v", err)
			}
			return n
		}
		if _, err := db.Exec(ctx, d, `INSERT INTO settings (name, value, created_at) VALUES ('read-test-1', 'v', ?)`, time.Now()); err != nil {
			t.Fatal(err)
		}

		inTx, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- d.InTx(ctx, func(tx *sqlx.Tx) error {
				if _, err := db.Exec(ctx, tx, `INSERT INTO settings (name, value, created_at) VALUES ('read-test-2', 'v', ?)`, time.Now()); err != nil {
					return err
				}
				close(inTx)
				<-release
				return nil
			})
		}()
		select {
		case <-inTx:
		case err := <-done:
			t.Fatalf("the write transaction ended early: %v", err)
		}
		if n := count(t); n != 1 {
			t.Errorf("during the write transaction the reader sees %d rows, want the 1 committed", n)
		}
		if err := d.PingContext(ctx); err != nil {
			t.Errorf("ping during the write transaction: %v", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := count(t); n != 2 {
			t.Errorf("after the commit the reader sees %d rows, want 2", n)
		}
	})
}

// TestSQLiteReadersCannotWrite: a statement that writes by mistake through
// the readers fails in every test, rather than racing the one writer.
func TestSQLiteReadersCannotWrite(t *testing.T) {
	t.Parallel()
	d := dbtest.SQLite.Open(t)
	_, err := db.Exec(context.Background(), d.Read, `INSERT INTO settings (name, value, created_at) VALUES ('x', 'v', ?)`, time.Now())
	if err == nil {
		t.Fatal("a reader wrote a row")
	}
	t.Logf("write through a reader: %v", err)
}

// TestAsyncCommitIsForItsTransactionAlone checks that InTxAsyncCommit
// commits what it writes and, on PostgreSQL, does not wait for the disk in
// that transaction alone: the connection goes back to the pool with
// commits that wait, as every other write needs.
func TestAsyncCommitIsForItsTransactionAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		// One connection, so that the check after reuses the one the
		// transaction had.
		d.SetMaxOpenConns(1)
		err := d.InTxAsyncCommit(ctx, func(tx *sqlx.Tx) error {
			if d.Dialect == db.Postgres {
				var setting string
				if err := db.Get(ctx, tx, &setting, `SHOW synchronous_commit`); err != nil {
					return err
				}
				if setting != "off" {
					t.Errorf("synchronous_commit in the transaction = %q, want off", setting)
				}
			}
			_, err := db.Exec(ctx, tx, `INSERT INTO settings (name, value, created_at) VALUES ('async-commit', 'v', ?)`, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Get(ctx, d, &n, `SELECT COUNT(*) FROM settings WHERE name = 'async-commit'`); err != nil || n != 1 {
			t.Fatalf("rows written = %d, %v; want 1", n, err)
		}
		if d.Dialect == db.Postgres {
			var setting string
			if err := db.Get(ctx, d, &setting, `SHOW synchronous_commit`); err != nil || setting != "on" {
				t.Errorf("synchronous_commit after the transaction = %q, %v; want on", setting, err)
			}
		}
	})
}
