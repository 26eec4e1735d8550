package worker_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/queuetest"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	for i := range b.N {
		b.StopTimer()
		d := dbtest.Open(b)
		store, led, q := contacts.NewStore(d, time.Now), ledger.New(d, time.Now), queuetest.Open(b)
		rows := make([]contacts.Row, n)
		for j := range rows {
			rows[j] = contacts.Row{Line: j + 2, LicenseID: fmt.Sprintf("L-%d", j/10), Product: "jira", LicenseName: fmt.Sprintf("Customer %d", j/10),
				Email: fmt.Sprintf("person%06d@customer.test", j), Name: fmt.Sprintf("Person %d", j), Role: contacts.Technical}
		}
		if _, err := store.Import(ctx, rows); err != nil {
			b.Fatal(err)
		}
		srv := smtptest.Start(b)
		srv.Discard = true
		port, _ := strconv.Atoi(srv.Port())
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Connections: conns})
		if err != nil {
			b.Fatal(err)
		}
		renderer, err := templates.New("")
		if err != nil {
			b.Fatal(err)
		}
		mux, err := worker.NewMux(worker.Config{ChunkSize: 100, Lease: time.Minute, MaxAttempts: 3, RetryBase: time.Second, From: "Vendor <updates@vendor.test>"},
			worker.Deps{Ledger: led, Contacts: store, Queue: q, Renderer: renderer, Sender: sender, Logger: logger})
		if err != nil {
			b.Fatal(err)
		}
		workers := q.NewServer(queue.ServerConfig{Concurrency: *benchConcurrency, ShutdownTimeout: 10 * time.Second, PollInterval: 100 * time.Millisecond, Logger: logger})
		if err := workers.Start(mux); err != nil {
			b.Fatal(err)
		}

		b.StartTimer()
		start := time.Now()
		_, a, _, err := led.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: fmt.Sprintf("9.%d.0", i), Notes: "* Faster boards\n* A new API"})
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Enqueue(ctx, queue.NewFanoutTask(a.ID)); err != nil {
			b.Fatal(err)
		}
		for {
			cur, err := led.Lookup(ctx, a.ID)
			if err != nil {
				b.Fatal(err)
			}
			if cur.Status == ledger.Done {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		pipeline := time.Since(start)
		b.StopTimer()
		workers.Shutdown()
		sender.Close()
		if got := srv.Accepted(); got != n {
			b.Fatalf("the server accepted %d messages, want %d", got, n)
		}

		// The baseline: the same messages, rendered beforehand, sent by
		// go-mail over conns connections with no ledger and no queue.
		msgs := make([]*gomail.Msg, n)
		for j := range msgs {
			data, _ := templates.Sample("release")
			notice := data.(*templates.ReleaseNotice)
			notice.Recipient = templates.Recipient{Email: rows[j].Email, Name: rows[j].Name}
			notice.Licenses = []templates.LicenseRef{{ID: rows[j].LicenseID, Name: rows[j].LicenseName}}
			r, err := renderer.Render("release", "en", notice)
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
