package worker_test

import (
	"context"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// remind makes the reminders due as of asOf and starts them, as the
// scheduler's job does.
func remind(t *testing.T, b *apptest.Bundle, asOf string) {
	t.Helper()
	if _, err := b.Jobs.InvoiceReminders(context.Background(), asOf); err != nil {
		t.Fatal(err)
	}
}

// billedLicense makes SEN-1 with two billing contacts (the second German,
// opted out of release notices) and a technical one, and its invoice INV-7
// due in dueIn days.
func billedLicense(t *testing.T, b *apptest.Bundle, status billing.Status, dueIn int) {
	t.Helper()
	ctx := context.Background()
	b.License(t, "SEN-1", "jira", contacts.Active, apptest.Billing("main@acme.test", "Main"), apptest.Billing("second@acme.test", "Second"),
		apptest.Tech("tech@acme.test", "Tech"))
	de, optOut := "de", true
	if _, err := b.Contacts.UpdateContact(ctx, "second@acme.test", contacts.ContactPatch{Locale: &de, ReleaseOptOut: &optOut}); err != nil {
		t.Fatal(err)
	}
	amount := int64(125050)
	if _, _, err := b.Billing.Put(ctx, "INV-7", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: day(b, dueIn), Status: status}); err != nil {
		t.Fatal(err)
	}
}

// day is the date days after today on the bundle's clock, in UTC: the
// reminder job refuses days that have not come yet.
func day(b *apptest.Bundle, days int) string {
	return b.Clock.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly)
}

func TestInvoiceReminders(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("MainContactBeforeTheDueDateEveryoneFromIt", func(t *testing.T) {
			b := setup(t, database, func(c *config.Config) {
				c.Billing.PaymentURLTemplate = "https://billing.vendor.test/pay/{{.Invoice.Number | urlquery}}?license={{.License.ID}}"
			}, nil)
			billedLicense(t, b, billing.Open, 7)

			remind(t, b, day(b, 0))
			b.WaitAllDone(t)
			if diff := cmp.Diff(map[string]int{"main@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
				t.Errorf("before the due date (-want +got):\n%s", diff)
			}

			// A reminder says what is true on the day it is written: the
			// clock moves to the due date, as the days would.
			b.Clock.Add(7 * 24 * time.Hour)
			remind(t, b, day(b, 0))
			b.WaitAllDone(t)
			// The release opt-out of the second contact does not silence
			// invoice reminders: they are transactional.
			if diff := cmp.Diff(map[string]int{"main@acme.test": 2, "second@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
				t.Errorf("on the due date (-want +got):\n%s", diff)
			}
			dueToday := 0
			for _, m := range b.SMTP.Messages() {
				text, html := m.MustParts(t)
				switch {
				case m.To[0] == "second@acme.test":
					if !strings.Contains(text, "1.250,50 €") {
						t.Errorf("German contact's amount is not in German format:\n%s", text)
					}
				case strings.Contains(m.Header.Get("Subject"), "due today"):
					dueToday++
					if !strings.Contains(text, "€1,250.50") || !strings.Contains(text, "INV-7") || !strings.Contains(html, "Customer SEN-1") {
						t.Errorf("due-today reminder lacks the amount, number or license:\n%s", text)
					}
					if !strings.Contains(text, "https://billing.vendor.test/pay/INV-7?license=SEN-1") || !strings.Contains(html, `href="https://billing.vendor.test/pay/INV-7?license=SEN-1"`) {
						t.Errorf("due-today reminder lacks the payment link:\n%s", text)
					}
				}
				if m.Header.Get("List-Unsubscribe") != "" {
					t.Errorf("an invoice reminder carries List-Unsubscribe")
				}
			}
			if dueToday != 1 {
				t.Errorf("%d English due-today reminders checked, want 1 (to the main contact)", dueToday)
			}
		})

		t.Run("WordingFollowsTheDayItIsWritten", func(t *testing.T) {
			// The scheduler makes, on each license's day, the latest step
			// of the cadence (-7, 0, 7, 14) that has come; a run missed on
			// the due date is caught up three days late by the 0 step,
			// which then must not say "due today".
			now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
			for _, tc := range []struct {
				name, due, locale string
				subject, text     string
			}{
				{"BeforeTheDueDate", "2026-12-10", "en",
					"Invoice INV-7 for Customer SEN-1 is due on 10 December 2026",
					"invoice INV-7 for Customer SEN-1 (SEN-1) over €1,250.50 is due on 10 December 2026, in 7 days."},
				{"OnTheDueDate", "2026-12-03", "en",
					"Invoice INV-7 for Customer SEN-1 is due today",
					"invoice INV-7 for Customer SEN-1 (SEN-1) over €1,250.50 is due today, 3 December 2026."},
				{"ThreeDaysLate", "2026-11-30", "en",
					"Invoice INV-7 for Customer SEN-1 is overdue",
					"invoice INV-7 for Customer SEN-1 (SEN-1) over €1,250.50 was due on 30 November 2026, 3 days ago."},
				{"OneDayLate", "2026-12-02", "en",
					"Invoice INV-7 for Customer SEN-1 is overdue",
					"was due on 2 December 2026, 1 day ago."},
				{"BeforeTheDueDateInGerman", "2026-12-10", "de",
					"Rechnung INV-7 für Customer SEN-1 ist am 10. Dezember 2026 fällig",
					"Die Rechnung INV-7 für Customer SEN-1 (SEN-1) über 1.250,50 € ist am 10. Dezember 2026 fällig, in 7 Tagen."},
				{"OnTheDueDateInGerman", "2026-12-03", "de",
					"Rechnung INV-7 für Customer SEN-1 ist heute fällig",
					"ist heute, am 3. Dezember 2026, fällig."},
				{"ThreeDaysLateInGerman", "2026-11-30", "de",
					"Rechnung INV-7 für Customer SEN-1 ist überfällig",
					"die Rechnung INV-7 für Customer SEN-1 (SEN-1) über 1.250,50 € war am 30. November 2026 fällig, vor 3 Tagen."},
			} {
				t.Run(tc.name, func(t *testing.T) {
					b := setup(t, database, nil, nil)
					b.Clock.Set(now)
					ctx := context.Background()
					b.License(t, "SEN-1", "jira", contacts.Active, apptest.Billing("main@acme.test", "Main"))
					if _, err := b.Contacts.UpdateContact(ctx, "main@acme.test", contacts.ContactPatch{Locale: &tc.locale}); err != nil {
						t.Fatal(err)
					}
					amount := int64(125050)
					if _, _, err := b.Billing.Put(ctx, "INV-7", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: tc.due}); err != nil {
						t.Fatal(err)
					}
					remind(t, b, "")
					b.WaitAllDone(t)
					msgs := b.SMTP.Messages()
					if len(msgs) != 1 {
						t.Fatalf("%d messages, want 1", len(msgs))
					}
					text, html := msgs[0].MustParts(t)
					if got, _ := new(mime.WordDecoder).DecodeHeader(msgs[0].Header.Get("Subject")); got != tc.subject {
						t.Errorf("subject %q, want %q", got, tc.subject)
					}
					if !strings.Contains(text, tc.text) {
						t.Errorf("text lacks %q:\n%s", tc.text, text)
					}
					if !strings.Contains(html, `lang="`+tc.locale+`"`) {
						t.Errorf("HTML part is not marked %s", tc.locale)
					}
				})
			}
		})

		t.Run("PaidBetweenFanoutAndSendIsSkipped", func(t *testing.T) {
			// No workers: the test fans out itself and holds the send back.
			b := apptest.Start(t, apptest.Options{Database: database})
			billedLicense(t, b, billing.Open, 0)
			ctx := context.Background()
			made, err := b.Billing.Remind(ctx, b.Jobs.Cadence, day(b, 0), kinds.ReminderAnnouncement)
			if err != nil || len(made) != 1 {
				t.Fatalf("Remind = %d, %v", len(made), err)
			}
			id := made[0].ID
			open, err := b.Kinds.Open(made[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Ledger.Resolve(ctx, id, open.Audience(), 50); err != nil {
				t.Fatal(err)
			}
			amount := int64(125050)
			if _, _, err := b.Billing.Put(ctx, "INV-7", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: day(b, 0), Status: billing.Paid}); err != nil {
				t.Fatal(err)
			}
			if err := b.Queue.Enqueue(ctx, queue.NewSendTask(id, 0, time.Time{})); err != nil {
				t.Fatal(err)
			}
			if err := b.StartWorkers(ctx); err != nil {
				t.Fatal(err)
			}
			a := b.WaitDone(t, id)
			if a.Counts.Skipped != 2 || a.Counts.Sent != 0 || b.SMTP.Accepted() != 0 {
				t.Errorf("counts %+v and %d messages; want both skipped and none sent", a.Counts, b.SMTP.Accepted())
			}
			for email, d := range b.Deliveries(t, id) {
				if d.Status != ledger.DeliverySkipped || d.Reason != "invoice paid" {
					t.Errorf("%s: %s %q, want skipped, invoice paid", email, d.Status, d.Reason)
				}
			}
		})
	})
}
