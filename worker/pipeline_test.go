package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/queuetest"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/workertest"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/worker"
)

type testBundle struct {
	db         *db.DB
	store      *contacts.Store
	ledger     *ledger.Ledger
	queue      *queue.Queue
	smtp       *smtptest.Server
	reconciler *scheduler.Reconciler
}

type options struct {
	chunkSize   int
	concurrency int
	lease       time.Duration
	smtp        func(*smtptest.Server)
	paymentURL  string
	replyTo     map[ledger.Kind]string
}

func setup(t *testing.T, database dbtest.Database, opt options) *testBundle {
	t.Helper()
	if opt.chunkSize == 0 {
		opt.chunkSize = 50
	}
	if opt.concurrency == 0 {
		opt.concurrency = 4
	}
	if opt.lease == 0 {
		opt.lease = time.Minute
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := database.Open(t)
	b := &testBundle{
		db:     d,
		store:  contacts.NewStore(d, time.Now),
		ledger: ledger.New(d, time.Now),
		queue:  queuetest.Open(t),
		smtp:   smtptest.Start(t),
	}
	if opt.smtp != nil {
		opt.smtp(b.smtp)
	}
	var payURL *template.Template
	if opt.paymentURL != "" {
		payURL = template.Must(template.New("pay").Parse(opt.paymentURL))
	}
	workertest.Start(t, worker.Config{
		ChunkSize: opt.chunkSize, Lease: opt.lease, MaxAttempts: 5, RetryBase: 20 * time.Millisecond,
		From: "Vendor Updates <updates@vendor.test>", PaymentURL: payURL, ReplyTo: opt.replyTo,
	}, worker.Deps{Ledger: b.ledger, Contacts: b.store, Billing: billing.New(d, b.ledger, time.Now), Queue: b.queue,
		Sender: workertest.Sender(t, b.smtp), Logger: logger}, opt.concurrency)
	b.reconciler = &scheduler.Reconciler{Ledger: b.ledger, Queue: b.queue, Grace: 200 * time.Millisecond, Logger: logger}
	return b
}

func (b *testBundle) license(t *testing.T, id, product string, status contacts.Status, members ...contacts.NewMember) {
	t.Helper()
	if _, err := b.store.CreateLicense(context.Background(), contacts.NewLicense{
		ID: id, Product: product, Name: "Customer " + id, Status: status, Contacts: members,
	}); err != nil {
		t.Fatal(err)
	}
}

func tech(email, name string) contacts.NewMember {
	return contacts.NewMember{Email: email, Name: name, Role: contacts.Technical}
}

// announce creates a release and starts its fan-out, as the API does.
func (b *testBundle) announce(t *testing.T, product, version string) ledger.Announcement {
	t.Helper()
	ctx := context.Background()
	_, a, created, err := b.ledger.CreateRelease(ctx, ledger.NewRelease{
		Product: product, Version: version, Title: strings.ToUpper(product[:1]) + product[1:] + " " + version,
		Notes: "* Faster boards\n* <script>alert('x')</script> stays text", URL: "https://vendor.test/releases/" + version,
	})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		if err := b.queue.Enqueue(ctx, queue.NewFanoutTask(a.ID)); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// waitDone waits until the announcement is done, running the reconciler as
// the scheduler would.
func (b *testBundle) waitDone(t *testing.T, id int64, timeout time.Duration) ledger.Announcement {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		a, err := b.ledger.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == ledger.Done {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("announcement %d not done after %s: %s %+v", id, timeout, a.Status, a.Counts)
		}
		if _, err := b.reconciler.Run(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *testBundle) deliveries(t *testing.T, id int64) map[string]ledger.Delivery {
	t.Helper()
	p, err := b.ledger.Deliveries(context.Background(), id, ledger.DeliveryFilter{Page: pageAll})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ledger.Delivery{}
	for _, d := range p.Items {
		out[d.Email] = d
	}
	return out
}

// parts returns the text and HTML parts of a multipart/alternative message.
func parts(t *testing.T, m smtptest.Message) (text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p) // multipart decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		}
	}
	if text == "" || html == "" {
		t.Fatalf("message lacks a part: text %d bytes, html %d bytes", len(text), len(html))
	}
	return text, html
}

func TestReleaseReachesEveryTechnicalContactOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, options{})
		b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann <Admin>"), tech("bob@acme.test", "Bob"), tech("eve@acme.test", "Eve"))
		b.license(t, "SEN-2", "jira", contacts.Active, tech("ann@acme.test", ""), tech("cy@beta.test", "Cy"),
			contacts.NewMember{Email: "dee@beta.test", Name: "Dee", Role: contacts.Billing})
		b.license(t, "SEN-3", "jira", contacts.Expired, tech("old@gamma.test", "Old"))
		b.license(t, "SEN-4", "confluence", contacts.Active, tech("other@delta.test", "Other"))
		optOut := true
		if _, err := b.store.UpdateContact(ctx, "eve@acme.test", contacts.ContactPatch{ReleaseOptOut: &optOut}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Suppress(ctx, "cy@beta.test", "550 5.1.1 no such user"); err != nil {
			t.Fatal(err)
		}

		a := b.announce(t, "jira", "9.4.0")
		a = b.waitDone(t, a.ID, 30*time.Second)
		if diff := cmp.Diff(ledger.Counts{Recipients: 4, Sent: 2, Skipped: 2}, a.Counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1, "bob@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
		ds := b.deliveries(t, a.ID)
		if d := ds["eve@acme.test"]; d.Status != ledger.DeliverySkipped || d.Reason != "opted out" {
			t.Errorf("eve: %s %q, want skipped, opted out", d.Status, d.Reason)
		}
		if d := ds["cy@beta.test"]; d.Status != ledger.DeliverySkipped || !strings.HasPrefix(d.Reason, "suppressed") {
			t.Errorf("cy: %s %q, want skipped, suppressed", d.Status, d.Reason)
		}

		for _, m := range b.smtp.Messages() {
			h := m.Header
			d := ds[m.To[0]]
			if want := fmt.Sprintf("<%d.%d@vendor.test>", d.ID, a.ID); h.Get("Message-Id") != want || d.MessageID != want[1:len(want)-1] {
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
			text, html := parts(t, m)
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

		// The same release again sends nothing new.
		again := b.announce(t, "jira", "9.4.0")
		if again.ID != a.ID {
			t.Fatalf("announcing again made announcement %d, want %d", again.ID, a.ID)
		}
		if err := b.queue.Enqueue(ctx, queue.NewFanoutTask(a.ID)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if n := b.smtp.Accepted(); n != 2 {
			t.Errorf("%d messages after announcing again, want still 2", n)
		}
	})
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("TemporaryFailuresAreRetried", func(t *testing.T) {
			b := setup(t, database, options{smtp: func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error {
					if n <= 2 {
						return smtptest.Reply(451, [3]int{4, 3, 0}, "try again later")
					}
					return nil
				}
			}})
			b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann"))
			a := b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
			d := b.deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliverySent || d.Attempts != 3 || b.smtp.Accepted() != 1 {
				t.Errorf("delivery %s after %d attempts, %d accepted; want sent after 3, 1 accepted", d.Status, d.Attempts, b.smtp.Accepted())
			}
		})

		t.Run("PermanentRejectionFailsAndSuppresses", func(t *testing.T) {
			b := setup(t, database, options{smtp: func(s *smtptest.Server) {
				s.Rcpt = func(to string) error {
					if to == "gone@acme.test" {
						return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user here")
					}
					return nil
				}
			}})
			b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann"), tech("gone@acme.test", "Gone"), tech("bob@acme.test", "Bob"))
			a := b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
			ds := b.deliveries(t, a.ID)
			if d := ds["gone@acme.test"]; d.Status != ledger.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "550") || !strings.Contains(d.LastError, "no such user") {
				t.Errorf("gone: %s after %d attempts, %q; want failed at once with the reply", d.Status, d.Attempts, d.LastError)
			}
			if diff := cmp.Diff(map[string]int{"ann@acme.test": 1, "bob@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
				t.Errorf("accepted (-want +got):\n%s", diff)
			}
			c, err := b.store.GetContact(context.Background(), "gone@acme.test")
			if err != nil || !c.Suppressed || !strings.Contains(c.SuppressedReason, "550") {
				t.Errorf("gone after a 550 on RCPT: suppressed %v %q (%v)", c.Suppressed, c.SuppressedReason, err)
			}
			// The next release skips the suppressed address.
			next := b.waitDone(t, b.announce(t, "jira", "1.1").ID, 30*time.Second)
			if d := b.deliveries(t, next.ID)["gone@acme.test"]; d.Status != ledger.DeliverySkipped {
				t.Errorf("gone in the next release: %s, want skipped", d.Status)
			}
		})

		t.Run("DroppedConnectionIsRetried", func(t *testing.T) {
			b := setup(t, database, options{smtp: func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error {
					if n == 1 {
						return smtptest.ErrDrop
					}
					return nil
				}
			}})
			b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann"))
			a := b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
			d := b.deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliverySent || d.Attempts != 2 || b.smtp.Accepted() != 1 {
				t.Errorf("delivery %s after %d attempts, %d accepted; want sent after 2, 1 accepted", d.Status, d.Attempts, b.smtp.Accepted())
			}
		})

		t.Run("TemporaryFailuresUntilTheLimitFail", func(t *testing.T) {
			b := setup(t, database, options{smtp: func(s *smtptest.Server) {
				s.Data = func(n int, to []string) error { return smtptest.Reply(421, [3]int{4, 7, 0}, "busy") }
			}})
			b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann"))
			a := b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
			d := b.deliveries(t, a.ID)["ann@acme.test"]
			if d.Status != ledger.DeliveryFailed || d.Attempts != 5 || !strings.Contains(d.LastError, "gave up after 5 attempts") {
				t.Errorf("delivery %s after %d attempts: %q", d.Status, d.Attempts, d.LastError)
			}
		})
	})
}

func TestReplyToPerKind(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite, options{replyTo: map[ledger.Kind]string{ledger.KindRelease: "Support <support@vendor.test>"}})
	b.license(t, "SEN-1", "jira", contacts.Active, tech("ann@acme.test", "Ann"), contacts.NewMember{Email: "bob@acme.test", Role: contacts.Billing})
	b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
	today := time.Now().UTC().Format(time.DateOnly)
	amount := int64(100)
	if _, _, err := billing.New(b.db, b.ledger, time.Now).Put(context.Background(), "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: today}); err != nil {
		t.Fatal(err)
	}
	made, err := billing.New(b.db, b.ledger, time.Now).Remind(context.Background(), billing.Cadence{Offsets: []int{0}}, today)
	if err != nil || len(made) != 1 {
		t.Fatalf("Remind = %d, %v", len(made), err)
	}
	if err := b.queue.Enqueue(context.Background(), queue.NewFanoutTask(made[0].ID)); err != nil {
		t.Fatal(err)
	}
	b.waitDone(t, made[0].ID, 30*time.Second)
	if n := len(b.smtp.Messages()); n != 2 {
		t.Fatalf("%d messages, want the release notice and the reminder", n)
	}
	for _, m := range b.smtp.Messages() {
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
	b := setup(t, dbtest.SQLite, options{})
	var members []contacts.NewMember
	for i := range 60 {
		members = append(members, tech(fmt.Sprintf("p%02d@acme.test", i), ""))
	}
	b.license(t, "SEN-1", "jira", contacts.Active, members...)
	b.waitDone(t, b.announce(t, "jira", "1.0").ID, 30*time.Second)
	if b.smtp.Accepted() != 60 || b.smtp.Sessions() > 4 {
		t.Errorf("%d messages over %d connections; want 60 over at most 4", b.smtp.Accepted(), b.smtp.Sessions())
	}
}
