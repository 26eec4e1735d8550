package worker_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/mail"
	"os"
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
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/templates"
)

var (
	benchRecipients  = flag.Int("recipients", 20000, "BenchmarkPipeline: contacts the release goes to")
	benchConnections = flag.Int("connections", 4, "BenchmarkPipeline: SMTP connections, for herald and the baseline")
	benchConcurrency = flag.Int("concurrency", 10, "BenchmarkPipeline: asynq worker concurrency")
	benchUnrecorded  = flag.Int("unrecorded", 64, "BenchmarkPipeline: HERALD_SEND_UNRECORDED")
	benchLatency     = flag.Duration("latency", 0, "BenchmarkPipeline: delay of the SMTP server's reply to each MAIL, RCPT and message")
)

// BenchmarkPipeline fans a release out to -recipients contacts through the
// whole pipeline (ledger, queue, workers, templates, SMTP connections) into
// an in-process SMTP server that discards mail, and, in the same run,
// sends the same messages with go-mail straight to the same server over
// the same number of connections, composing, rendering and building each
// inside its timing as herald must. It reports both rates and their ratio
// (what herald's guarantees cost against sending blind) and logs one table
// saying what each side does.
//
//	go test -run '^$' -bench Pipeline -benchtime 1x ./worker
//	go test -run '^$' -bench Pipeline -benchtime 1x ./worker -args -connections=16 -latency=2ms
func BenchmarkPipeline(b *testing.B) {
	n, conns := *benchRecipients, *benchConnections
	ctx := context.Background()
	database := dbtest.Any()

	for i := range b.N {
		b.StopTimer()
		h := apptest.Start(b, apptest.Options{Database: database, Workers: true,
			SMTP: func(s *smtptest.Server) { s.Discard = true; s.Latency = *benchLatency },
			Config: func(c *config.Config) {
				c.Worker.ChunkSize = 100
				c.Worker.Concurrency = *benchConcurrency
				c.Mail.SMTPConnections = conns
				c.Worker.SendUnrecorded = *benchUnrecorded
				c.Mail.From = "Vendor <updates@vendor.test>"
			},
		})
		srv := h.SMTP
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
		firstAt := make(chan time.Duration, 1)
		go func() {
			for srv.Accepted() == 0 {
				time.Sleep(time.Millisecond)
			}
			firstAt <- time.Since(start)
		}()
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
		first := <-firstAt
		b.StopTimer()
		if err := h.Close(); err != nil { // the baseline runs alone
			b.Fatal(err)
		}
		if got := srv.Accepted(); got != n {
			b.Fatalf("the server accepted %d messages, want %d", got, n)
		}

		base := srv.Accepted()
		direct := sendDirect(b, h.Renderer, srv, rows, conns)
		if got := srv.Accepted() - base; got != n {
			b.Fatalf("the baseline delivered %d messages, want %d", got, n)
		}

		pipelineRate := float64(n) / pipeline.Seconds()
		directRate := float64(n) / direct.Seconds()
		b.ReportMetric(pipelineRate, "herald-msgs/s")
		b.ReportMetric(directRate, "gomail-msgs/s")
		b.ReportMetric(pipelineRate/directRate, "ratio")
		b.ReportMetric(first.Seconds(), "first-msg-s")
		b.Logf("%d recipients, %d connections, %s per SMTP reply, %s; herald's first message after %s\n"+
			"| side | per message, inside the timing | msgs/s | time | ratio |\n"+
			"| --- | --- | --- | --- | --- |\n"+
			"| herald | POST to done: ledger the delivery, queue the chunk, read the recipient and claim the delivery (batches of 100), compose, render, sign the unsubscribe link, build, send, record the outcome (group commit) | %.0f | %s | %.2f |\n"+
			"| go-mail direct | compose, render, sign the unsubscribe link, build, send | %.0f | %s | 1.00 |",
			n, conns, *benchLatency, stores(database), first.Round(time.Millisecond), pipelineRate, pipeline.Round(time.Millisecond), pipelineRate/directRate,
			directRate, direct.Round(time.Millisecond))
	}
}

// sendDirect sends a release notice to each of rows with go-mail over
// conns connections to srv, with no ledger and no queue: each message is
// composed (the same template data, the unsubscribe link signed), rendered
// and built inside the timing, as herald does. It returns how long that
// took.
func sendDirect(b *testing.B, renderer *templates.Renderer, srv *smtptest.Server, rows []contacts.Row, conns int) time.Duration {
	b.Helper()
	ctx := context.Background()
	port, _ := strconv.Atoi(srv.Port())
	tokens, err := unsubscribe.New([]byte(rand.Text()))
	if err != nil {
		b.Fatal(err)
	}
	release := kinds.ReleaseInfo{Product: "jira", ProductName: "jira", Version: "9.0.0", Title: "jira 9.0.0", Notes: "* Faster boards\n* A new API"}
	n := len(rows)
	start := time.Now()
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
				row := rows[j]
				token := tokens.Make(row.Email, unsubscribe.CategoryReleases)
				link := "http://herald.test/unsubscribe/" + token
				r, err := renderer.Render("release", "en", &kinds.ReleaseData{
					Recipient:      kinds.Recipient{Email: row.Email, Name: row.Name},
					Release:        release,
					Licenses:       []kinds.LicenseRef{{ID: row.LicenseID, Name: row.LicenseName}},
					UnsubscribeURL: link,
					AccountURL:     "http://herald.test/account",
				})
				if err != nil {
					b.Error(err)
					return
				}
				m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
				_ = m.From("Vendor <updates@vendor.test>")
				_ = m.To((&mail.Address{Name: row.Name, Address: row.Email}).String())
				m.Subject(r.Subject)
				m.SetMessageIDWithValue(fmt.Sprintf("%d.1@vendor.test", j))
				m.SetDate()
				m.SetGenHeader("Auto-Submitted", "auto-generated")
				m.SetGenHeader("List-Unsubscribe", "<"+link+">")
				m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
				m.SetBodyString(gomail.TypeTextPlain, r.Text)
				m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
				if err := client.Send(m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// stores names the database and the Redis the benchmark runs on.
func stores(database dbtest.Database) string {
	redis := "embedded Redis"
	if os.Getenv("HERALD_TEST_REDIS_URL") != "" {
		redis = "Redis"
	}
	return database.Name + " + " + redis
}
