package worker_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/smtptest"
)

var (
	fanoutRecipients = flag.Int("fanout-recipients", 20000, "BenchmarkFirstMessage: contacts the release goes to")
	fanoutMillion    = flag.Bool("fanout-million", false, "BenchmarkFirstMessage: also release to 1,000,000 contacts")
)

// BenchmarkFirstMessage posts a release to -fanout-recipients technical
// contacts (and to a million with -fanout-million) to herald as it runs in
// production (API, workers, its own poll interval, 4 SMTP connections to a
// discarding SMTP server) and reports how long after the POST the SMTP
// server accepted the first message, and how long until every delivery
// was ledgered (and its chunk enqueued). The baseline, in the same run, is
// go-mail dialling the same server and sending one message: the least a
// first message can take.
//
//	go test -run '^$' -bench FirstMessage -benchtime 1x ./worker -fanout-million
func BenchmarkFirstMessage(b *testing.B) {
	sizes := []int{*fanoutRecipients}
	if *fanoutMillion {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				firstMessage(b, n)
			}
		})
	}
}

func firstMessage(b *testing.B, n int) {
	ctx := context.Background()
	b.StopTimer()
	h := apptest.Start(b, apptest.Options{Database: dbtest.Any(), Workers: true, API: true,
		PollInterval: queue.DefaultPollInterval,
		SMTP:         func(s *smtptest.Server) { s.Discard = true },
		Config: func(c *config.Config) {
			c.Mail.From = "Vendor <updates@vendor.test>"
		},
	})
	rows := make([]contacts.Row, n)
	for j := range rows {
		rows[j] = contacts.Row{Line: j + 2, LicenseID: fmt.Sprintf("L-%07d", j/5), Product: "jira", LicenseName: fmt.Sprintf("Customer %d", j/5),
			Email: fmt.Sprintf("person%07d@customer.test", j), Name: fmt.Sprintf("Person %d", j), Role: contacts.Technical, Main: j%5 == 0}
	}
	importStart := time.Now()
	if _, err := h.Contacts.Import(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "bench"}, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d contacts imported in %s", n, time.Since(importStart).Round(time.Millisecond))
	rows = nil

	// The baseline: one message, straight to the server.
	port, _ := strconv.Atoi(h.SMTP.Port())
	start := time.Now()
	client, err := gomail.NewClient("127.0.0.1", gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS))
	if err != nil {
		b.Fatal(err)
	}
	m := gomail.NewMsg()
	_ = m.From("Vendor <updates@vendor.test>")
	_ = m.To("person0000000@customer.test")
	m.Subject("Jira 9.0.0")
	m.SetBodyString(gomail.TypeTextPlain, "Jira 9.0.0 is out.")
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		b.Fatal(err)
	}
	direct := time.Since(start)
	base := h.SMTP.Accepted()

	b.StartTimer()
	start = time.Now()
	req, _ := http.NewRequestWithContext(ctx, "POST", h.URL+"/api/v1/releases", bytes.NewBufferString(`{"product":"jira","version":"9.0.0","notes":"* Faster boards"}`))
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("POST /releases: %s", resp.Status)
	}
	for h.SMTP.Accepted() == base {
		if time.Since(start) > 5*time.Minute {
			b.Fatal("no message after 5 minutes")
		}
		time.Sleep(time.Millisecond)
	}
	first := time.Since(start)
	b.Logf("%s, %d recipients: first message accepted %s after POST /releases", dbtest.Any().Name, n, first.Round(time.Millisecond))
	var a ledger.Announcement
	for {
		rel, found, err := h.Ledger.FindRelease(ctx, "jira", "9.0.0")
		if err != nil || !found {
			b.Fatalf("release: %v (found %v)", err, found)
		}
		if a, err = h.Ledger.Lookup(ctx, rel.AnnouncementID); err != nil {
			b.Fatal(err)
		}
		var pending bool
		if err := db.Get(ctx, h.DB.Read, &pending, `SELECT fanout_pending FROM announcements WHERE id = ?`, a.ID); err != nil {
			b.Fatal(err)
		}
		if a.Status != ledger.Resolving && !pending {
			break
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatal("fan-out not done after 10 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fanout := time.Since(start)
	b.StopTimer()
	var ledgered int
	if err := db.Get(ctx, h.DB.Read, &ledgered, `SELECT COUNT(*) FROM deliveries WHERE announcement_id = ?`, a.ID); err != nil {
		b.Fatal(err)
	}
	if ledgered != n {
		b.Fatalf("%d deliveries ledgered, want %d", ledgered, n)
	}
	if _, err := h.Ledger.Cancel(ctx, a.ID); err != nil { // no need to send them all
		b.Fatal(err)
	}
	b.ReportMetric(first.Seconds(), "first-message-s")
	b.ReportMetric(direct.Seconds(), "gomail-one-message-s")
	b.ReportMetric(fanout.Seconds(), "all-ledgered-s")
	b.Logf("%s, %d recipients: first message accepted %s after POST /releases (go-mail alone, dial and send: %s); every delivery ledgered and enqueued after %s",
		dbtest.Any().Name, n, first.Round(time.Millisecond), direct.Round(time.Millisecond), fanout.Round(time.Millisecond))
}
