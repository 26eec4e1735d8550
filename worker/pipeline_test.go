package worker_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

// setup runs herald with its workers on database, sending to the test's
// SMTP server; config and smtp change the defaults of apptest.
func setup(t *testing.T, database dbtest.Database, config func(*config.Config), smtp func(*smtptest.Server)) *apptest.Bundle {
	t.Helper()
	return apptest.Start(t, apptest.Options{Database: database, Workers: true, Config: config, SMTP: smtp})
}

// announce announces version of product with notes that try to inject
// markup, as the API does.
func announce(t *testing.T, b *apptest.Bundle, product, version string) ledger.Announcement {
	t.Helper()
	return b.Release(t, ledger.NewRelease{
		Product: product, Version: version, Title: strings.ToUpper(product[:1]) + product[1:] + " " + version,
		Notes: "* Faster boards\n* <script>alert('x')</script> stays text", URL: "https://vendor.test/releases/" + version,
	})
}

func TestReleaseReachesEveryTechnicalContactOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, nil, nil)
		b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann <Admin>"), apptest.Tech("bob@acme.test", "Bob"), apptest.Tech("eve@acme.test", "Eve"))
		b.License(t, "SEN-2", "jira", contacts.Active, apptest.Tech("ann@acme.test", ""), apptest.Tech("cy@beta.test", "Cy"),
			apptest.Billing("dee@beta.test", "Dee"))
		b.License(t, "SEN-3", "jira", contacts.Expired, apptest.Tech("old@gamma.test", "Old"))
		b.License(t, "SEN-4", "confluence", contacts.Active, apptest.Tech("other@delta.test", "Other"))
		optOut := true
		if _, err := b.Contacts.UpdateContact(ctx, "eve@acme.test", contacts.ContactPatch{ReleaseOptOut: &optOut}); err != nil {
			t.Fatal(err)
		}
		if err := b.Contacts.Suppress(ctx, "cy@beta.test", contacts.Suppression{Reply: "550 5.1.1 no such user", Code: 550, Enhanced: "5.1.1"}); err != nil {
			t.Fatal(err)
		}

		a := announce(t, b, "jira", "9.4.0")
		a = b.WaitDone(t, a.ID)
		if diff := cmp.Diff(ledger.Counts{Recipients: 4, Sent: 2, Skipped: 2}, a.Counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1, "bob@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
		ds := b.Deliveries(t, a.ID)
		if d := ds["eve@acme.test"]; d.Status != ledger.DeliverySkipped || d.Reason != "opted out" {
			t.Errorf("eve: %s %q, want skipped, opted out", d.Status, d.Reason)
		}
		if d := ds["cy@beta.test"]; d.Status != ledger.DeliverySkipped || !strings.HasPrefix(d.Reason, "suppressed") {
			t.Errorf("cy: %s %q, want skipped, suppressed", d.Status, d.Reason)
		}

		refs, err := b.OpenRefs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range b.SMTP.Messages() {
			h := m.Header
			d := ds[m.To[0]]
			if want := "<" + refs.MessageID(d.ID, a.ID, "vendor.test") + ">"; h.Get("Message-Id") != want || d.MessageID != want[1:len(want)-1] {
				t.Errorf("Message-ID %q (ledger %q), want %s", h.Get("Message-Id"), d.MessageID, want)
			}
			if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != "updates@vendor.test" {
				t.Errorf("From %q", h.Get("From"))
			}
			if _, err := h.Date(); err != nil {
				t.Errorf("Date %q: %v", h.Get("Date"), err)
			}
			if h.Get("Subject") != "Jira 9.4.0 is available" || h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Subject %q, Auto-Submitted %q", h.Get("Subject"), h.Get("Auto-Submitted"))
			}
			text, html := m.MustParts(t)
			if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") && !strings.Contains(html, "raw HTML omitted") {
				t.Errorf("user markup reached the HTML part unescaped:\n%s", html)
			}
			if m.To[0] == "ann@acme.test" {
				to, _ := mail.ParseAddress(h.Get("To"))
				if to.Name != "Ann <Admin>" {
					t.Errorf("To %q, want the name Ann <Admin> quoted", h.Get("To"))
				}
				if !strings.Contains(text, "Customer SEN-1 (SEN-1), Customer SEN-2 (SEN-2)") {
					t.Errorf("Ann's text does not name both licenses:\n%s", text)
				}
				if !strings.Contains(html, "Hello Ann &lt;Admin&gt;,") {
					t.Errorf("Ann's name is not escaped in the HTML part:\n%s", html)
				}
			}
		}

		// The same release again sends nothing new, even when its fan-out
		// runs again: the task is handled once the queue has nothing left.
		again := announce(t, b, "jira", "9.4.0")
		if again.ID != a.ID {
			t.Fatalf("announcing again made announcement %d, want %d", again.ID, a.ID)
		}
		b.Fanout(t, a)
		apptest.WaitFor(t, 10*time.Second, "the queue to be idle", func() bool { return b.Queue.Idle() })
		if n := b.SMTP.Accepted(); n != 2 {
			t.Errorf("%d messages after announcing again, want still 2", n)
		}
	})
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("TemporaryFailuresAreRetried", func(t *testing.T) {
			b := setup(t, database, nil, func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error {
					if n <= 2 {
						return smtptest.Reply(451, [3]int{4, 3, 0}, "try again later")
					}
					return nil
				}
			})
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"))
			a := b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
			d := b.Deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliverySent || d.Attempts != 3 || b.SMTP.Accepted() != 1 {
				t.Errorf("delivery %s after %d attempts, %d accepted; want sent after 3, 1 accepted", d.Status, d.Attempts, b.SMTP.Accepted())
			}
		})

		t.Run("PermanentRejectionFailsAndSuppresses", func(t *testing.T) {
			b := setup(t, database, nil, func(s *smtptest.Server) {
				s.Rcpt = func(to string) error {
					if to == "gone@acme.test" {
						return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user here")
					}
					return nil
				}
			})
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("gone@acme.test", "Gone"), apptest.Tech("bob@acme.test", "Bob"))
			start := b.Clock.Now().UTC().Truncate(time.Microsecond)
			a := b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
			end := b.Clock.Now().UTC()
			ds := b.Deliveries(t, a.ID)
			if d := ds["gone@acme.test"]; d.Status != ledger.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "550") || !strings.Contains(d.LastError, "no such user") {
				t.Errorf("gone: %s after %d attempts, %q; want failed at once with the reply", d.Status, d.Attempts, d.LastError)
			}
			if diff := cmp.Diff(map[string]int{"ann@acme.test": 1, "bob@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
				t.Errorf("accepted (-want +got):\n%s", diff)
			}
			// The suppression says what refused the address, and where.
			c, err := b.Contacts.GetContact(context.Background(), "gone@acme.test")
			if err != nil || c.Suppression == nil {
				t.Fatalf("gone after a 550 on RCPT: suppression %+v (%v), want one", c.Suppression, err)
			}
			gone := ds["gone@acme.test"]
			want := contacts.SuppressionRecord{
				Email:        "gone@acme.test",
				Suppression:  contacts.Suppression{Reply: gone.LastError, Code: 550, Enhanced: "5.1.1", DeliveryID: gone.ID},
				SuppressedAt: c.Suppression.SuppressedAt,
			}
			if diff := cmp.Diff(want, *c.Suppression); diff != "" {
				t.Errorf("suppression of gone (-want +got):\n%s", diff)
			}
			if at := c.Suppression.SuppressedAt; !strings.Contains(c.Suppression.Reply, "5.1.1") || at.Before(start) || at.After(end) {
				t.Errorf("suppression of gone: reply %q at %v; want the reply with its 5.1.1, between %v and %v", c.Suppression.Reply, at, start, end)
			}
			// The next release skips the suppressed address.
			next := b.WaitDone(t, announce(t, b, "jira", "1.1").ID)
			if d := b.Deliveries(t, next.ID)["gone@acme.test"]; d.Status != ledger.DeliverySkipped {
				t.Errorf("gone in the next release: %s, want skipped", d.Status)
			}
		})

		t.Run("DroppedConnectionIsRetried", func(t *testing.T) {
			b := setup(t, database, nil, func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error {
					if n == 1 {
						return smtptest.ErrDrop
					}
					return nil
				}
			})
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"))
			a := b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
			d := b.Deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliverySent || d.Attempts != 2 || b.SMTP.Accepted() != 1 {
				t.Errorf("delivery %s after %d attempts, %d accepted; want sent after 2, 1 accepted", d.Status, d.Attempts, b.SMTP.Accepted())
			}
		})

		t.Run("TemporaryFailuresUntilTheLimitFail", func(t *testing.T) {
			b := setup(t, database, nil, func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error { return smtptest.Reply(451, [3]int{4, 3, 0}, "temporary local problem") }
			})
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"))
			a := b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
			d := b.Deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliveryFailed || d.Attempts != 5 || !strings.Contains(d.LastError, "gave up after 5 attempts") {
				t.Errorf("delivery %s after %d attempts: %q", d.Status, d.Attempts, d.LastError)
			}
		})
	})
}

func TestReplyToPerKind(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite, func(c *config.Config) { c.Lists.ReplyToRelease = "Support <support@vendor.test>" }, nil)
	b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Billing("bob@acme.test", ""))
	b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
	ctx := context.Background()
	today := b.Clock.Now().UTC().Format(time.DateOnly)
	amount := int64(100)
	if _, _, err := b.Billing.Put(ctx, "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: today}); err != nil {
		t.Fatal(err)
	}
	if made, err := b.Jobs.InvoiceReminders(ctx, today); err != nil || made.AnnouncementsCreated != 1 {
		t.Fatalf("InvoiceReminders = %+v, %v", made, err)
	}
	b.WaitAllDone(t)
	if n := len(b.SMTP.Messages()); n != 2 {
		t.Fatalf("%d messages, want the release notice and the reminder", n)
	}
	for _, m := range b.SMTP.Messages() {
		want := ""
		if m.To[0] == "ann@acme.test" {
			want = `"Support" <support@vendor.test>`
		}
		if got := m.Header.Get("Reply-To"); got != want {
			t.Errorf("Reply-To to %s: %q, want %q", m.To[0], got, want)
		}
	}
}

func TestConnectionsAreReused(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite, nil, nil)
	var members []contacts.NewMember
	for i := range 60 {
		members = append(members, apptest.Tech(fmt.Sprintf("p%02d@acme.test", i), ""))
	}
	b.License(t, "SEN-1", "jira", contacts.Active, members...)
	b.WaitDone(t, announce(t, b, "jira", "1.0").ID)
	if b.SMTP.Accepted() != 60 || b.SMTP.Sessions() > 4 {
		t.Errorf("%d messages over %d connections; want 60 over at most 4", b.SMTP.Accepted(), b.SMTP.Sessions())
	}
}
