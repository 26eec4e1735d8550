package ledger

import (
	"context"
	"strings"
	"testing"

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
	ctx := context.Background()

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
					// An empty table is scanned whole by choice; forbid
					// that to see whether the index can serve the query.
					err := d.InTx(ctx, func(tx *sqlx.Tx) error {
						if _, err := db.Exec(ctx, tx, `SET LOCAL enable_seqscan = off`); err != nil {
							return err
						}
						return db.Select(ctx, tx, &plan, `EXPLAIN `+query, args...)
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if !strings.Contains(strings.Join(plan, "\n"), "deliveries_email") {
					t.Errorf("the query does not read deliveries_email:\n%s", strings.Join(plan, "\n"))
				}
			})
		}
	})
}
