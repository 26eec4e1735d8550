package admin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

// personDeliveryJSON is a delivery of a person's history as the API shows
// it.
type personDeliveryJSON struct {
	ID             int64      `json:"id"`
	AnnouncementID int64      `json:"announcement_id"`
	Kind           string     `json:"kind"`
	Subject        string     `json:"subject"`
	Email          string     `json:"email"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error"`
	Reason         string     `json:"reason"`
	CreatedAt      time.Time  `json:"created_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	SentAt         *time.Time `json:"sent_at"`
	FinishedAt     *time.Time `json:"finished_at"`
}

type personDeliveryListJSON struct {
	Items []personDeliveryJSON `json:"items"`
	Next  *string              `json:"next"`
}

// history sends ann@acme.test a release notice (sent), a broadcast she has
// opted out of (skipped) and a broadcast her server refuses (failed), and
// returns the three announcements in that order.
func (b *testBundle) history(t *testing.T) [3]int64 {
	t.Helper()
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses",
		body: `{"id":"J-1","product":"jira","name":"Acme","contacts":[{"email":"ann@acme.test","role":"technical"},{"email":"bob@acme.test","role":"technical"}]}`})
	b.startWorkers(t)
	var ids [3]int64
	ids[0] = b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID).ID

	b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/ann@acme.test", body: `{"broadcast_opt_out":true}`})
	ids[1] = b.WaitDone(t, b.broadcast(t, `{"subject":"Maintenance","body":"Sunday.","audience":{"roles":["technical"]}}`)).ID
	b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/ann@acme.test", body: `{"broadcast_opt_out":false}`})

	b.SMTP.Rcpt = func(to string) error {
		if to == "ann@acme.test" {
			return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user")
		}
		return nil
	}
	ids[2] = b.WaitDone(t, b.broadcast(t, `{"subject":"Security advisory","body":"Update.","audience":{"roles":["technical"]}}`)).ID
	return ids
}

func TestContactDeliveries(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ids := b.history(t)
		path := "/api/v1/contacts/Ann@acme.test/deliveries"

		t.Run("EveryAnnouncementNewestFirstWithWhy", func(t *testing.T) {
			got := decodeInto[personDeliveryListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: path}))
			if len(got.Items) != 3 || got.Next != nil {
				t.Fatalf("history: %+v", got)
			}
			type row struct {
				Announcement          int64
				Kind, Subject, Status string
			}
			var rows []row
			for _, d := range got.Items {
				rows = append(rows, row{d.AnnouncementID, d.Kind, d.Subject, d.Status})
				if d.Email != "ann@acme.test" || d.FinishedAt == nil || d.CreatedAt.IsZero() {
					t.Errorf("delivery %+v: want ann's, finished, with times", d)
				}
			}
			want := []row{
				{ids[2], "broadcast", "Security advisory", "failed"},
				{ids[1], "broadcast", "Maintenance", "skipped"},
				{ids[0], "release", "Jira 9.4", "sent"},
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			failed, skipped, sent := got.Items[0], got.Items[1], got.Items[2]
			if !strings.Contains(failed.LastError, "550") || failed.Attempts == 0 {
				t.Errorf("the failed delivery does not say the server's reply: %+v", failed)
			}
			if !strings.Contains(skipped.Reason, "opt") {
				t.Errorf("the skipped delivery does not say she opted out: %+v", skipped)
			}
			if sent.SentAt == nil {
				t.Errorf("the sent delivery has no sent_at: %+v", sent)
			}
		})

		t.Run("FiltersByStatus", func(t *testing.T) {
			got := decodeInto[personDeliveryListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: path + "?status=skipped"}))
			if len(got.Items) != 1 || got.Items[0].AnnouncementID != ids[1] {
				t.Errorf("skipped only: %+v", got)
			}
		})

		t.Run("Pages", func(t *testing.T) {
			var seen []int64
			after := ""
			for range 4 {
				got := decodeInto[personDeliveryListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: path + "?limit=2" + after}))
				for _, d := range got.Items {
					seen = append(seen, d.AnnouncementID)
				}
				if got.Next == nil {
					break
				}
				after = "&after=" + *got.Next
			}
			if diff := cmp.Diff([]int64{ids[2], ids[1], ids[0]}, seen); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})

		t.Run("Refuses", func(t *testing.T) {
			for _, tc := range []struct {
				name, path string
				status     int
				field      string
			}{
				{"UnknownPerson", "/api/v1/contacts/nobody@acme.test/deliveries", http.StatusNotFound, ""},
				{"NotAnAddress", "/api/v1/contacts/not-an-address/deliveries", http.StatusBadRequest, "email"},
				{"BadStatus", path + "?status=lost", http.StatusBadRequest, "status"},
				{"UnknownParameter", path + "?email=ann@acme.test", http.StatusBadRequest, "email"},
				{"BadCursor", path + "?after=zzz", http.StatusBadRequest, "after"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := b.mustDo(t, tc.status, request{method: "GET", path: tc.path})
					if _, field := res.apiError(t); field != tc.field {
						t.Errorf("field %q, want %q: %s", field, tc.field, res.body)
					}
				})
			}
		})
	})
}
