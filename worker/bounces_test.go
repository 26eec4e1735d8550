package worker_test

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
)

// TestBouncesComeBackToTheLedger sends a release through the real SMTP
// server, then mails herald's inbound SMTP server what a receiving side
// sends back: a delivery status notification to one message's return
// path, a feedback-loop complaint about another, and a bounce with a
// forged return path. The first two land on their deliveries and people;
// the third changes nothing and is kept for staff.
func TestBouncesComeBackToTheLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, func(c *config.Config) { c.Inbound.BounceDomain = "bounces.vendor.test" }, nil)
		b.License(t, "SEN-1", "jira", contacts.Active,
			apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("bob@acme.test", "Bob"), apptest.Tech("eve@acme.test", "Eve"))
		a := b.WaitDone(t, announce(t, b, "jira", "9.4.0").ID)
		sent := map[string]struct{ returnPath, messageID string }{}
		for _, m := range b.SMTP.Messages() {
			sent[m.To[0]] = struct{ returnPath, messageID string }{m.From, m.Header.Get("Message-Id")}
		}

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.ServeInbound(ctx, ln); err != nil {
			t.Fatal(err)
		}
		mailIn := func(rcpt, msg string) {
			t.Helper()
			msg = strings.ReplaceAll(msg, "\n", "\r\n")
			if err := smtp.SendMail(ln.Addr().String(), nil, "", []string{rcpt}, []byte(msg)); err != nil {
				t.Fatalf("mail to %s: %v", rcpt, err)
			}
		}

		// As Postfix writes it.
		ann := sent["ann@acme.test"]
		mailIn(ann.returnPath, fmt.Sprintf(`From: MAILER-DAEMON@mx.acme.test (Mail Delivery System)
To: %[1]s
Subject: Undelivered Mail Returned to Sender
Message-Id: <20261203.AB12@mx.acme.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test
Arrival-Date: Thu,  3 Dec 2026 18:00:00 +0000

Final-Recipient: rfc822; ann@acme.test
Original-Recipient: rfc822;ann@acme.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <ann@acme.test>: Recipient address rejected: User unknown in local recipient table

--B1
Content-Type: text/rfc822-headers

From: Vendor Updates <updates@vendor.test>
To: ann@acme.test
Message-ID: %[2]s
Subject: Jira 9.4.0

--B1--
`, ann.returnPath, ann.messageID))

		// As a mailbox provider's feedback loop writes it (RFC 5965), to
		// an address at the bounce domain.
		bob := sent["bob@acme.test"]
		mailIn("fbl@bounces.vendor.test", fmt.Sprintf(`From: feedback@mail.example
To: fbl@bounces.vendor.test
Subject: FW: Jira 9.4.0
Message-Id: <arf-20261203-1@mail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B2"

--B2
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--B2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1

--B2
Content-Type: text/rfc822-headers

From: Vendor Updates <updates@vendor.test>
To: redacted@mail.example
Message-ID: %s
Subject: Jira 9.4.0

--B2--
`, bob.messageID))

		// A forged bounce: eve's delivery, another signature.
		eve := ledgerDelivery(t, b, a.ID, "eve@acme.test")
		mailIn(fmt.Sprintf("bounces+%x-aaaaaaaaaaaaaaaa@bounces.vendor.test", eve.ID), `From: MAILER-DAEMON@mx.acme.test
Subject: Undelivered Mail Returned to Sender
Message-Id: <forged-1@mx.acme.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B3"

--B3
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; eve@acme.test
Action: failed
Status: 5.1.1

--B3--
`)

		got, err := b.Ledger.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Counts.Bounced != 1 || got.Counts.Complained != 1 || got.Counts.Sent != 2 {
			t.Errorf("counts %+v, want 1 bounced, 1 complained, 2 sent", got.Counts)
		}
		ds := b.Deliveries(t, a.ID)
		if d := ds["ann@acme.test"]; d.Status != ledger.DeliveryBounced || !strings.Contains(d.Reason, "5.1.1") {
			t.Errorf("ann's delivery %+v, want bounced with 5.1.1", d)
		}
		if d := ds["eve@acme.test"]; d.Status != ledger.DeliverySent {
			t.Errorf("eve's delivery %+v: a forged bounce changed it", d)
		}
		person := func(email string) contacts.Contact {
			c, err := b.Contacts.GetContact(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := person("ann@acme.test"); c.Suppression == nil {
			t.Error("ann's mailbox does not exist, and she is not suppressed")
		}
		if c := person("bob@acme.test"); !c.ReleaseOptOut || c.Suppression != nil {
			t.Errorf("bob complained about a release notice: %+v, want opted out of them only", c)
		}
		if c := person("eve@acme.test"); c.Suppression != nil || c.ReleaseOptOut {
			t.Errorf("eve %+v: a forged bounce changed her", c)
		}
		kept, err := b.Kept().List(ctx, page.Request{})
		if err != nil || len(kept.Items) != 1 {
			t.Fatalf("kept %d messages (%v), want the forged one", len(kept.Items), err)
		}
	})
}

// ledgerDelivery returns an announcement's delivery to email.
func ledgerDelivery(t *testing.T, b *apptest.Bundle, id int64, email string) ledger.Delivery {
	t.Helper()
	d, ok := b.Deliveries(t, id)[email]
	if !ok {
		t.Fatalf("no delivery to %s", email)
	}
	return d
}
