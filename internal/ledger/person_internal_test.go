package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestPersonQueryUsesTheEmailIndex checks the mechanism that keeps a
// person's history fast on a large ledger: the query reads the index on
// (email, id), not every delivery. The other indexes of deliveries lead
// with the announcement or the status, which a person's history has
// neither of.
func TestPersonQueryUsesTheEmailIndex(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		for _, tc := range []struct {
			name   string
			status DeliveryStatus
			before int64
		}{
			{"FirstPage", "", 0},
			{"LaterPageOfFailed", DeliveryFailed, 1000},
		} {
			t.Run(tc.name, func(t *testing.T) {
				query, args, err := personQuery([]string{"ann@acme.test", "Ann@acme.test"}, tc.status, tc.before, 50)
				if err != nil {
					t.Fatal(err)
				}
				plan := queryPlan(t, database, d, query, args...)
				if !strings.Contains(plan, "deliveries_email") {
					t.Errorf("the query does not read deliveries_email:\n%s", plan)
				}
			})
		}
	})
}

// TestSendPathQueriesUsePartialIndexes checks that the queries of the send
// path and the reconciler that look for unfinished deliveries read the
// partial indexes on them (migrations 00017 and 00018), which hold no
// finished delivery: a bound status would hide from either database that
// the index's condition holds, and the query would read an index of every
// delivery, or all of them.
func TestSendPathQueriesUsePartialIndexes(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		for _, tc := range []struct {
			name, query, index string
			args               []any
		}{
			{"Due", dueQuery, "deliveries_due", []any{1, 0, now, Sending, 50}},
			{"NextAttempt", nextAttemptQuery, "deliveries_due", []any{1, 0, Sending}},
			{"PendingChunks", pendingChunksQuery, "deliveries_due", []any{1, 0}},
			{"EarliestOverdue", earliestOverdueQuery, "deliveries_due", []any{1, now}},
			{"ExpireLeases", expireLeasesQuery, "deliveries_leased", []any{DeliveryPending, now, now, now}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if plan := queryPlan(t, database, d, tc.query, tc.args...); !strings.Contains(plan, tc.index) {
					t.Errorf("the query does not read %s:\n%s", tc.index, plan)
				}
			})
		}
	})
}

// queryPlan returns how database would run query.
func queryPlan(t *testing.T, database dbtest.Database, d *db.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	switch database.Name {
	case "sqlite":
		var rows []struct {
			ID      int    `db:"id"`
			Parent  int    `db:"parent"`
			NotUsed int    `db:"notused"`
			Detail  string `db:"detail"`
		}
		if err := db.Select(ctx, d, &rows, `EXPLAIN QUERY PLAN `+query, args...); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			plan = append(plan, r.Detail)
		}
	default:
		// An empty table is scanned whole by choice; forbid that to see
		// whether the index can serve the query. The transaction is rolled
		// back: EXPLAIN of an UPDATE does not run it, but nothing is kept
		// either way.
		err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := db.Exec(ctx, tx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			if err := db.Select(ctx, tx, &plan, `EXPLAIN `+query, args...); err != nil {
				return err
			}
			return errRollBack
		})
		if err != nil && err != errRollBack {
			t.Fatal(err)
		}
	}
	return strings.Join(plan, "\n")
}

var errRollBack = errors.New("roll back")
