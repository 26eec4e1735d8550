package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

func (b *testBundle) billingOf() *billing.Billing { return billing.New(b.db, b.ledger, time.Now) }

// remind makes the reminders due as of asOf and starts them.
func (b *testBundle) remind(t *testing.T, asOf string) []ledger.Announcement {
	t.Helper()
	ctx := context.Background()
	made, err := b.billingOf().Remind(ctx, billing.Cadence{Offsets: []int{-7, 0, 7, 14}}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range made {
		if err := b.queue.Enqueue(ctx, queue.NewFanoutTask(a.ID)); err != nil {
			t.Fatal(err)
		}
	}
	return made
}

func (b *testBundle) billedLicense(t *testing.T, status billing.Status) {
	t.Helper()
	ctx := context.Background()
	b.license(t, "SEN-1", "jira", contacts.Active,
		contacts.NewMember{Email: "main@acme.test", Name: "Main", Role: contacts.Billing},
		contacts.NewMember{Email: "second@acme.test", Name: "Second", Role: contacts.Billing},
		contacts.NewMember{Email: "tech@acme.test", Name: "Tech", Role: contacts.Technical})
	de, optOut := "de", true
	if _, err := b.store.UpdateContact(ctx, "second@acme.test", contacts.ContactPatch{Locale: &de, ReleaseOptOut: &optOut}); err != nil {
		t.Fatal(err)
	}
	amount := int64(125050)
	if _, _, err := b.billingOf().Put(ctx, "INV-7", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: today(), Status: status}); err != nil {
		t.Fatal(err)
	}
}

func TestInvoiceReminders(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("MainContactBeforeTheDueDateEveryoneFromIt", func(t *testing.T) {
			b := setup(t, database, options{paymentURL: "https://billing.vendor.test/pay/{{.Invoice.Number | urlquery}}?license={{.License.ID}}"})
			b.billedLicense(t, billing.Open)

			upcoming := b.remind(t, daysAgo(7))
			if len(upcoming) != 1 {
				t.Fatalf("%d reminders on 8 December", len(upcoming))
			}
			b.waitDone(t, upcoming[0].ID, 30*time.Second)
			if diff := cmp.Diff(map[string]int{"main@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
				t.Errorf("before the due date (-want +got):\n%s", diff)
			}

			due := b.remind(t, today())
			b.waitDone(t, due[0].ID, 30*time.Second)
			// The release opt-out of the second contact does not silence
			// invoice reminders: they are transactional.
			if diff := cmp.Diff(map[string]int{"main@acme.test": 2, "second@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
				t.Errorf("on the due date (-want +got):\n%s", diff)
			}
			dueToday := 0
			for _, m := range b.smtp.Messages() {
				text, html := parts(t, m)
				switch {
				case m.To[0] == "second@acme.test":
					if !strings.Contains(text, "€ 1.250,50") {
						t.Errorf("German contact's amount is not in German format:\n%s", text)
					}
				case strings.Contains(m.Header.Get("Subject"), "due today"):
					dueToday++
					if !strings.Contains(text, "€ 1,250.50") || !strings.Contains(text, "INV-7") || !strings.Contains(html, "Customer SEN-1") {
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

		t.Run("PaidBetweenFanoutAndSendIsSkipped", func(t *testing.T) {
			b := setup(t, database, options{})
			b.billedLicense(t, billing.Open)
			ctx := context.Background()
			made, err := b.billingOf().Remind(ctx, billing.Cadence{Offsets: []int{-7, 0, 7, 14}}, today())
			if err != nil || len(made) != 1 {
				t.Fatalf("Remind = %d, %v", len(made), err)
			}
			id := made[0].ID
			// Fan out as the worker would, but hold the send back.
			query, args := contacts.BillingAudienceQuery("SEN-1", false)
			if _, err := b.ledger.Resolve(ctx, id, ledger.Audience{Query: query, Args: args}, 50); err != nil {
				t.Fatal(err)
			}
			amount := int64(125050)
			if _, _, err := b.billingOf().Put(ctx, "INV-7", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: today(), Status: billing.Paid}); err != nil {
				t.Fatal(err)
			}
			if err := b.queue.Enqueue(ctx, queue.NewSendTask(id, 0, time.Time{})); err != nil {
				t.Fatal(err)
			}
			a := b.waitDone(t, id, 30*time.Second)
			if a.Counts.Skipped != 2 || a.Counts.Sent != 0 || b.smtp.Accepted() != 0 {
				t.Errorf("counts %+v and %d messages; want both skipped and none sent", a.Counts, b.smtp.Accepted())
			}
			for email, d := range b.deliveries(t, id) {
				if d.Reason != "invoice paid" {
					t.Errorf("%s: %s %q, want skipped, invoice paid", email, d.Status, d.Reason)
				}
			}
		})
	})
}

// today and daysAgo are dates in UTC: the reminder job refuses days that
// have not come yet.
func today() string { return time.Now().UTC().Format(time.DateOnly) }

func daysAgo(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(time.DateOnly) }
