package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/scheduler"
)

func TestInvoicesAndJobs(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		before := b.snapshot(t)

		t.Run("BadInvoices", func(t *testing.T) {
			for _, tc := range []struct {
				name, path, body, field string
			}{
				{"Negative", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":-5,"currency":"EUR","due_date":"2026-12-15"}`, "amount_minor"},
				{"Fractional", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":12.5,"currency":"EUR","due_date":"2026-12-15"}`, "amount_minor"},
				{"UnknownCurrency", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"ABC","due_date":"2026-12-15"}`, "currency"},
				{"UnknownLicense", "/api/v1/invoices/INV-1", `{"license_id":"SEN-9","amount_minor":5,"currency":"EUR","due_date":"2026-12-15"}`, "license_id"},
				{"BadDate", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"15.12.2026"}`, "due_date"},
				{"DueBeforeTheBounds", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"1989-12-31"}`, "due_date"},
				{"DueAfterTheBounds", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"2201-01-01"}`, "due_date"},
				{"DueInYearOne", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"0001-01-01"}`, "due_date"},
				{"CRLFInNumber", "/api/v1/invoices/INV-1%0D%0ABcc:x", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"2026-12-15"}`, "number"},
				{"UnknownField", "/api/v1/invoices/INV-1", `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"2026-12-15","vat":1}`, "vat"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, field := b.mustDo(t, http.StatusBadRequest, request{method: "PUT", path: tc.path, body: tc.body}).apiError(t)
					if field != tc.field {
						t.Errorf("field %q, want %q", field, tc.field)
					}
					if after := b.snapshot(t); after != before {
						t.Error("a refused invoice changed the database")
					}
					b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/invoices/INV-1"})
				})
			}
		})

		t.Run("DueDatesOnTheBounds", func(t *testing.T) {
			for number, due := range map[string]string{"INV-FIRST": "1990-01-01", "INV-LAST": "2200-12-31"} {
				res := b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/invoices/" + number,
					body: `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"` + due + `"}`}).json(t)
				if res["due_date"] != due {
					t.Errorf("%s: %v", number, res)
				}
				b.mustDo(t, http.StatusOK, request{method: "PUT", path: "/api/v1/invoices/" + number,
					body: `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"` + due + `","status":"void"}`})
			}
		})

		t.Run("PutGetList", func(t *testing.T) {
			body := `{"license_id":"SEN-1234","amount_minor":125000,"currency":"EUR","due_date":"` + time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly) + `"}`
			created := b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/invoices/2026%2F0042", body: body}).json(t)
			if created["number"] != "2026/0042" || created["status"] != "open" || created["reminders"] == nil {
				t.Errorf("created: %v", created)
			}
			b.mustDo(t, http.StatusOK, request{method: "PUT", path: "/api/v1/invoices/2026%2F0042", body: strings.Replace(body, "125000", "130000", 1)})
			got := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/invoices/2026%2F0042"}).json(t)
			if got["amount_minor"] != 130000.0 {
				t.Errorf("after update: %v", got)
			}
			list := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/invoices?status=open&license_id=SEN-1234"}).json(t)
			if items := list["items"].([]any); len(items) != 1 {
				t.Errorf("list: %v", list)
			}
		})

		t.Run("RunRemindersNowOncePerDay", func(t *testing.T) {
			for i, want := range []float64{1, 0} {
				res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/jobs/invoice-reminders", body: `{"as_of":"` + time.Now().UTC().Format(time.DateOnly) + `"}`}).json(t)
				if res["announcements_created"] != want {
					t.Errorf("run %d: %v, want %v created", i+1, res, want)
				}
			}
			for _, bad := range []string{"tomorrow", time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)} {
				if _, field := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/jobs/invoice-reminders", body: `{"as_of":"` + bad + `"}`}).apiError(t); field != "as_of" {
					t.Errorf("as_of %s: field %q", bad, field)
				}
			}
			var inv struct {
				Reminders []struct {
					DedupeKey string `json:"dedupe_key"`
					Kind      string
				}
			}
			if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/invoices/2026%2F0042"}).body, &inv); err != nil {
				t.Fatal(err)
			}
			if len(inv.Reminders) != 1 || inv.Reminders[0].DedupeKey != "invoice:2026/0042:-7" || inv.Reminders[0].Kind != "invoice_reminder" {
				t.Errorf("reminders of the invoice: %+v", inv.Reminders)
			}

			var jobs struct {
				Items []struct {
					Name, Spec string
					LastRun    *string `json:"last_run"`
					LastResult string  `json:"last_result"`
					NextRun    string  `json:"next_run"`
				}
			}
			if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/jobs"}).body, &jobs); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, j := range jobs.Items {
				if j.NextRun == "" || j.Spec == "" {
					t.Errorf("job without a schedule: %+v", j)
				}
				if j.Name == "invoice-reminders" {
					found = true
					if j.LastRun == nil || !strings.HasPrefix(j.LastResult, "0 announcements created") {
						t.Errorf("invoice-reminders job: %+v", j)
					}
				}
			}
			if !found {
				t.Errorf("jobs: %+v", jobs.Items)
			}
		})

		t.Run("ReleaseFeedsWithoutFeeds", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/jobs/release-feeds"}).json(t)
			if res["announcements_created"] != 0.0 || len(res["feeds"].([]any)) != 0 {
				t.Errorf("release-feeds with none configured: %v", res)
			}
		})

		t.Run("ARunningJobIsAConflict", func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				// Another scheduler's run of the job, holding its lease.
				_, err := b.Runner.RunBy(context.Background(), scheduler.Job{Name: scheduler.JobInvoiceReminders, Run: func(context.Context) (fmt.Stringer, error) {
					close(started)
					<-release
					return scheduler.Created{}, nil
				}}, contacts.Actor{Via: contacts.ViaCLI, Name: "ops"})
				done <- err
			}()
			<-started
			res := b.mustDo(t, http.StatusConflict, request{method: "POST", path: "/api/v1/jobs/invoice-reminders"})
			if code, _ := res.apiError(t); code != "conflict" {
				t.Errorf("code %q, want conflict", code)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/jobs/invoice-reminders"})
		})
	})
}
