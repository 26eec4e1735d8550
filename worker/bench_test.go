package worker_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

var (
	benchRecipients  = flag.Int("recipients", 20000, "BenchmarkPipeline: contacts the release goes to")
	benchConnections = flag.Int("connections", 4, "BenchmarkPipeline: SMTP connections, for herald and the baseline")
	benchConcurrency = flag.Int("concurrency", 10, "BenchmarkPipeline: asynq worker concurrency")
)

// BenchmarkPipeline fans a release out to -recipients contacts through the
// whole pipeline (ledger, queue, workers, templates, SMTP pool) into an
// in-process SMTP server that discards mail, and, in the same run, sends
// the same rendered messages with go-mail straight to the same server over
// the same number of connections. It reports both rates and their ratio:
// what herald's guarantees (a ledger row written per outcome, queue
// round-trips) cost against sending blind.
//
//	go test -run '^$' -bench Pipeline -benchtime 1x ./worker
func BenchmarkPipeline(b *testing.B) {
	n, conns := *benchRecipients, *benchConnections
	ctx := context.Background()

	for i := range b.N {
		b.StopTimer()
		h := apptest.Start(b, apptest.Options{Database: dbtest.Any(), Workers: true,
			SMTP: func(s *smtptest.Server) { s.Discard = true },
			Config: func(c *config.Config) {
				c.Worker.ChunkSize = 100
				c.Worker.Concurrency = *benchConcurrency
				c.Mail.SMTPConnections = conns
				c.Mail.From = "Vendor <updates@vendor.test>"
			},
		})
		srv := h.SMTP
		port, _ := strconv.Atoi(srv.Port())
		rows := make([]contacts.Row, n)
		for j := range rows {
			rows[j] = contacts.Row{Line: j + 2, LicenseID: fmt.Sprintf("L-%d", j/10), Product: "jira", LicenseName: fmt.Sprintf("Customer %d", j/10),
				Email: fmt.Sprintf("person%06d@customer.test", j), Name: fmt.Sprintf("Person %d", j), Role: contacts.Technical}
		}
		if _, err := h.Contacts.Import(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, rows); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		a := h.Release(b, ledger.NewRelease{Product: "jira", Version: fmt.Sprintf("9.%d.0", i), Notes: "* Faster boards\n* A new API"})
		done := apptest.Eventually(30*time.Minute, func() bool {
			cur, err := h.Ledger.Lookup(ctx, a.ID)
			if err != nil {
				b.Fatal(err)
			}
			return cur.Status == ledger.Done
		})
		if !done {
			b.Fatalf("announcement %d not done after 30 minutes", a.ID)
		}
		pipeline := time.Since(start)
		b.StopTimer()
		if err := h.Close(); err != nil { // the baseline runs alone
			b.Fatal(err)
		}
		if got := srv.Accepted(); got != n {
			b.Fatalf("the server accepted %d messages, want %d", got, n)
		}

		// The baseline: the same messages, rendered beforehand, sent by
		// go-mail over conns connections with no ledger and no queue.
		msgs := make([]*gomail.Msg, n)
		for j := range msgs {
			data, _ := h.Renderer.Sample("release")
			notice := data.(*kinds.ReleaseData)
			notice.Recipient = kinds.Recipient{Email: rows[j].Email, Name: rows[j].Name}
			notice.Licenses = []kinds.LicenseRef{{ID: rows[j].LicenseID, Name: rows[j].LicenseName}}
			r, err := h.Renderer.Render("release", "en", notice)
			if err != nil {
				b.Fatal(err)
			}
			m := gomail.NewMsg()
			_ = m.From("Vendor <updates@vendor.test>")
			_ = m.AddToFormat(rows[j].Name, rows[j].Email)
			m.Subject(r.Subject)
			m.SetMessageID()
			m.SetDate()
			m.SetBodyString(gomail.TypeTextPlain, r.Text)
			m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
			msgs[j] = m
		}
		base := srv.Accepted()
		start = time.Now()
		var wg sync.WaitGroup
		for c := range conns {
			wg.Go(func() {
				client, err := gomail.NewClient("127.0.0.1", gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithoutNoop(), gomail.WithoutRset())
				if err != nil {
					b.Error(err)
					return
				}
				if err := client.DialWithContext(ctx); err != nil {
					b.Error(err)
					return
				}
				defer client.Close()
				for j := c; j < n; j += conns {
					if err := client.Send(msgs[j]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		direct := time.Since(start)
		if got := srv.Accepted() - base; got != n {
			b.Fatalf("the baseline delivered %d messages, want %d", got, n)
		}

		pipelineRate := float64(n) / pipeline.Seconds()
		directRate := float64(n) / direct.Seconds()
		b.ReportMetric(pipelineRate, "herald-msgs/s")
		b.ReportMetric(directRate, "gomail-msgs/s")
		b.ReportMetric(pipelineRate/directRate, "ratio")
		b.Logf("%d recipients, %d connections: herald %.0f msgs/s (%s), go-mail alone %.0f msgs/s (%s), ratio %.2f",
			n, conns, pipelineRate, pipeline.Round(time.Millisecond), directRate, direct.Round(time.Millisecond), pipelineRate/directRate)
	}
}
