package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

// traces returns where text appears in the database: "table.column" of
// every text value of every row of every table that holds it, in any case.
func traces(t *testing.T, d *db.DB, text string) []string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if d.Dialect == db.Postgres {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	if err := db.Select(ctx, d, &tables, query); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("found only the tables %v", tables)
	}
	var found []string
	for _, table := range tables {
		rows, err := d.QueryxContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			row := map[string]any{}
			if err := rows.MapScan(row); err != nil {
				t.Fatal(err)
			}
			for col, v := range row {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					s = fmt.Sprint(v)
				}
				if strings.Contains(strings.ToLower(s), strings.ToLower(text)) {
					found = append(found, table+"."+col)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return found
}

func TestEraseContact(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		// bob is an ordinary contact of two licenses; ann is the main
		// technical contact of J-1, carl the only billing contact of J-2.
		for _, l := range []string{
			`{"id":"J-1","product":"jira","name":"Acme","contacts":[{"email":"ann@acme.test","role":"technical"},{"email":"bob@acme.test","role":"technical"},{"email":"carl@acme.test","role":"technical"}]}`,
			`{"id":"J-2","product":"jira","name":"Beta","contacts":[{"email":"dee@beta.test","role":"technical"},{"email":"bob@acme.test","role":"technical"},{"email":"carl@acme.test","role":"billing"}]}`,
		} {
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: l})
		}
		b.startWorkers(t)
		release := b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID)
		// bob's server refuses him, quoting his address: the reply is kept
		// in the delivery and the suppression.
		b.SMTP.Rcpt = func(to string) error {
			if to == "bob@acme.test" {
				return smtptest.Reply(550, [3]int{5, 1, 1}, "<bob@acme.test>: no such user")
			}
			return nil
		}
		advisory := b.WaitDone(t, b.broadcast(t, `{"subject":"Security advisory","body":"Update.","audience":{"roles":["technical"]}}`))
		// A bounce of bob's release notice came back, quoting him, and
		// a person's reply naming him was kept for staff.
		bounces, err := b.OpenBounceSink(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if applied, reason, err := bounces.Record(context.Background(), bounce.Event{Kind: bounce.Delay, Delivery: b.Deliveries(t, release.ID)["bob@acme.test"].ID,
			Recipient: "bob@acme.test", Diagnostic: "4.4.7 <bob@acme.test>: still trying", Source: "smtp", EventID: "delay-bob"}); !applied || err != nil {
			t.Fatalf("record a delay of bob's message: %v %s %v", applied, reason, err)
		}
		if _, err := b.Kept().Keep(context.Background(), bounce.KeptMessage{MailFrom: "bob@acme.test", RcptTo: "bounces@bounces.vendor.test",
			Format: "unknown", Reason: "not a report", Raw: []byte("From: Bob <bob@acme.test>\r\n\r\nPlease stop.\r\n")}); err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{"deliveries.last_error", "suppressions.reply", "audit_log.email", "delivery_events.email", "delivery_events.diagnostic", "inbound_kept.raw"} {
			if !slices.Contains(traces(t, b.DB, "bob@acme.test"), where) {
				t.Fatalf("bob left no trace in %s to erase: the test proves less than it says", where)
			}
		}
		counts := func(id int64) any {
			return b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d", id)}).json(t)["counts"]
		}
		before := []any{counts(release.ID), counts(advisory.ID)}

		t.Run("RefusesMainAndLastContacts", func(t *testing.T) {
			for _, tc := range []struct {
				email string
				names []string
			}{
				{"ann@acme.test", []string{"main technical contact of J-1"}},
				{"Carl@acme.test", []string{"main billing contact of J-2"}},
			} {
				t.Run(tc.email, func(t *testing.T) {
					snap := b.snapshot(t)
					res := b.mustDo(t, http.StatusConflict, request{method: "DELETE", path: "/api/v1/contacts/" + tc.email})
					for _, name := range tc.names {
						if !strings.Contains(string(res.body), name) {
							t.Errorf("the refusal does not say %q: %s", name, res.body)
						}
					}
					if after := b.snapshot(t); after != snap {
						t.Errorf("a refused erasure changed something:\nbefore %s\nafter %s", snap, after)
					}
				})
			}
		})

		t.Run("RefusesBadAddresses", func(t *testing.T) {
			snap := b.snapshot(t)
			for _, tc := range []struct {
				name, path string
				status     int
				field      string
			}{
				{"NotAnAddress", "/api/v1/contacts/not-an-address", http.StatusBadRequest, "email"},
				// Earlier versions stored such addresses: looked up, not refused.
				{"IPDomain", "/api/v1/contacts/root@127.0.0.1", http.StatusNotFound, ""},
				{"Nobody", "/api/v1/contacts/nobody@acme.test", http.StatusNotFound, ""},
				{"QueryParameter", "/api/v1/contacts/bob@acme.test?force=true", http.StatusBadRequest, "force"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := b.mustDo(t, tc.status, request{method: "DELETE", path: tc.path})
					if _, field := res.apiError(t); field != tc.field {
						t.Errorf("field %q, want %q: %s", field, tc.field, res.body)
					}
				})
			}
			if after := b.snapshot(t); after != snap {
				t.Errorf("a refused erasure changed something")
			}
		})

		t.Run("LeavesNoTrace", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "DELETE", path: "/api/v1/contacts/Bob@acme.test"}).json(t)
			hash, _ := res["erased"].(string)
			if !strings.HasPrefix(hash, "erased:") || len(hash) != len("erased:")+64 || res["memberships"] != 2.0 || res["deliveries"] != 2.0 {
				t.Errorf("answer %v", res)
			}
			if found := traces(t, b.DB, "bob@acme.test"); len(found) > 0 {
				t.Errorf("the address is still in %v", found)
			}
			if after := []any{counts(release.ID), counts(advisory.ID)}; fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("counts %v, were %v", after, before)
			}
			var n int
			if err := db.Get(context.Background(), b.DB, &n, `SELECT COUNT(*) FROM deliveries WHERE email = ?`, hash); err != nil || n != 2 {
				t.Errorf("%d deliveries to the hash (%v), want bob's 2", n, err)
			}
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/contacts/bob@acme.test"})
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/contacts/bob@acme.test/deliveries"})
			b.mustDo(t, http.StatusNotFound, request{method: "DELETE", path: "/api/v1/contacts/bob@acme.test"})
			audit := decodeInto[auditListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/audit?limit=3"})).Items
			want := auditEntryJSON{Action: "erased", Email: hash, Via: "api", Actor: auth.EnvTokenName}
			if len(audit) == 0 || audit[0] != want {
				t.Errorf("the newest audit entry is %+v, want %+v", audit, want)
			}
		})
	})
}
