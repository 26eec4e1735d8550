package worker_test

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/worker"
)

var (
	throttledRecipients = flag.Int("throttled-recipients", 60, "TestAThrottlingRelay: recipients of the release")
	relayLimit          = flag.Int("relay-limit", 10, "TestAThrottlingRelay: messages a second the relay takes; herald's rate is twice that, low enough that herald reaches it however loaded the machine")
)

// technicalContacts makes license L-i of jira for every ten of n people.
func technicalContacts(t *testing.T, b *apptest.Bundle, n int) {
	t.Helper()
	rows := make([]contacts.Row, n)
	for i := range rows {
		rows[i] = contacts.Row{Line: i + 2, LicenseID: fmt.Sprintf("L-%d", i/10), Product: "jira", LicenseName: "Customer",
			Email: fmt.Sprintf("p%05d@acme.test", i), Role: contacts.Technical}
	}
	if _, err := b.Contacts.Import(context.Background(), contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, rows); err != nil {
		t.Fatal(err)
	}
}

// everyoneOnce checks that every one of n people got exactly one message,
// and that no delivery failed or counts an attempt a relay refusal took.
func everyoneOnce(t *testing.T, b *apptest.Bundle, a ledger.Announcement, n int) {
	t.Helper()
	if a.Status != ledger.Done || a.Counts.Sent != n || a.Counts.Recipients != n {
		t.Errorf("announcement %s, counts %+v; want done with all %d sent", a.Status, a.Counts, n)
	}
	per := b.SMTP.PerRecipient()
	if len(per) != n {
		t.Errorf("%d people got mail, want %d", len(per), n)
	}
	for email, got := range per {
		if got != 1 {
			t.Errorf("%s got %d messages", email, got)
		}
	}
	for email, d := range b.Deliveries(t, a.ID) {
		if d.Attempts != 1 {
			t.Errorf("%s: %d attempts counted, want 1", email, d.Attempts)
		}
	}
}

// waitPaused waits until an announcement is paused with none of its
// deliveries being sent, and returns it.
func waitPaused(t *testing.T, b *apptest.Bundle, id int64) ledger.Announcement {
	t.Helper()
	var a ledger.Announcement
	apptest.WaitFor(t, 30*time.Second, "the announcement to pause", func() bool {
		got, err := b.Ledger.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		a = got
		return got.Status == ledger.Paused && got.Counts.Sending == 0
	})
	return a
}

// relayStatus reads the relay's state as the API shows it.
func relayStatus(t *testing.T, b *apptest.Bundle) relay.Status {
	t.Helper()
	s, err := b.Relay.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestARelayThatRefusesHeraldPausesTheSend(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		var refusing atomic.Bool
		refusing.Store(true)
		b := setup(t, database, nil, func(s *smtptest.Server) {
			s.Connect = func() error {
				if refusing.Load() {
					return smtptest.Reply(554, [3]int{5, 7, 1}, "Access denied: this address may not relay")
				}
				return nil
			}
		})
		technicalContacts(t, b, 30)
		a := waitPaused(t, b, announce(t, b, "jira", "9.4.0").ID)
		if a.PausedBy != ledger.PausedByRelay || !strings.Contains(a.PausedReason, "554") || a.Counts.Pending != 30 {
			t.Errorf("paused by %q, %q, counts %+v; want the relay's pause with every delivery pending", a.PausedBy, a.PausedReason, a.Counts)
		}
		if s := relayStatus(t, b); s.State != relay.Failing || !strings.Contains(s.Advice, "HERALD_SMTP_URL") {
			t.Errorf("relay state %+v, want failing with the setting to change", s)
		}
		if n := b.SMTP.Accepted(); n != 0 {
			t.Fatalf("%d messages through a relay that refuses herald", n)
		}

		refusing.Store(false)
		a = b.WaitDone(t, a.ID)
		everyoneOnce(t, b, a, 30)
		if s := relayStatus(t, b); s.State != relay.Working {
			t.Errorf("relay state %+v after it works again, want ok", s)
		}
	})
}

func TestTheSameRefusalForEveryoneIsTheRelays(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		var refusing atomic.Bool
		refusing.Store(true)
		b := setup(t, database, nil, func(s *smtptest.Server) {
			s.Data = func(n int, to []string) error {
				if refusing.Load() {
					// SES refusing an unverified sender, whoever the
					// recipient: the relay's policy, no one's mailbox.
					return smtptest.Reply(554, [3]int{5, 7, 1}, "Message rejected: Email address is not verified")
				}
				return nil
			}
		})
		technicalContacts(t, b, 40)
		a := waitPaused(t, b, announce(t, b, "jira", "9.4.0").ID)
		// The batch was in flight at once: the refusals that came after
		// the pattern paused the announcement while the pattern's own
		// failures were being taken back.
		apptest.WaitFor(t, 10*time.Second, "the pattern's failures taken back", func() bool {
			got, err := b.Ledger.Get(context.Background(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			a = got
			return got.Counts.Failed == 0
		})
		if a.PausedBy != ledger.PausedByRelay || a.Counts.Failed != 0 || a.Counts.Pending != 40 {
			t.Errorf("paused by %q, counts %+v; want the relay's pause with every failure taken back", a.PausedBy, a.Counts)
		}
		for email, d := range b.Deliveries(t, a.ID) {
			if d.Attempts != 0 {
				t.Errorf("%s: %d attempts counted for a refusal that was the relay's", email, d.Attempts)
			}
		}
		for _, c := range []string{"p00000@acme.test", "p00039@acme.test"} {
			if got, err := b.Contacts.GetContact(context.Background(), c); err != nil || got.Suppression != nil {
				t.Errorf("%s suppressed by the relay's refusal (%v)", c, err)
			}
		}

		refusing.Store(false)
		a = b.WaitDone(t, a.ID)
		everyoneOnce(t, b, a, 40)
	})
}

func TestAPauseByHandStays(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite, nil, func(s *smtptest.Server) {
		s.Data = func(int, []string) error {
			time.Sleep(5 * time.Millisecond)
			return nil
		}
	})
	technicalContacts(t, b, 200)
	ctx := context.Background()
	a := announce(t, b, "jira", "9.4.0")
	apptest.WaitFor(t, 30*time.Second, "a few messages", func() bool { return b.SMTP.Accepted() >= 10 })
	if _, err := b.Ledger.Pause(ctx, a.ID, "wrong notes", "cli:ops"); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, 30*time.Second, "the workers to let the release go", b.Queue.Idle)
	atPause := b.SMTP.Accepted()
	// The relay works, and its probes resume only the relay's pauses.
	if res, err := b.Ledger.ResumeForRelay(ctx); err != nil || len(res.Announcements) != 0 {
		t.Errorf("ResumeForRelay = %+v, %v; want a pause by hand left alone", res, err)
	}
	b.Reconcile(t)
	apptest.WaitFor(t, 30*time.Second, "the queue to be idle", b.Queue.Idle)
	if got := b.SMTP.Accepted(); got != atPause {
		t.Errorf("%d messages sent while paused by hand", got-atPause)
	}

	_, res, err := b.Ledger.Resume(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.Reconcile(t) // enqueues the pending chunks, as the API's resume does
	if len(res.Chunks) == 0 {
		t.Errorf("Resume gave no chunk to send")
	}
	everyoneOnce(t, b, b.WaitDone(t, a.ID), 200)
}

// TestAThrottlingRelay sends a release through a relay that takes at most
// 40 messages a second and answers more with 421, with herald's rate set
// at twice that: herald must slow down, and every recipient still gets one
// message, with no throttled attempt counted against a delivery. The
// limit is low enough for herald to exceed it on a loaded machine; the
// issue's run is
//
//	go test -run TestAThrottlingRelay -v ./worker -args -throttled-recipients 2000 -relay-limit 100
func TestAThrottlingRelay(t *testing.T) {
	t.Parallel()
	n, limit := *throttledRecipients, *relayLimit
	var (
		mu        sync.Mutex
		window    time.Time
		inWindow  int
		throttled atomic.Int64
	)
	b := setup(t, dbtest.Any(), func(c *config.Config) {
		c.Mail.SMTPRate = config.Rate{N: 2 * limit, Per: time.Second}
		c.Worker.Concurrency = 8
	}, func(s *smtptest.Server) {
		s.Data = func(int, []string) error {
			mu.Lock()
			defer mu.Unlock()
			if now := time.Now(); now.Sub(window) >= time.Second {
				window, inWindow = now, 0
			}
			if inWindow >= limit {
				throttled.Add(1)
				return smtptest.Reply(421, [3]int{4, 7, 0}, "Too many messages, slow down")
			}
			inWindow++
			return nil
		}
	})
	technicalContacts(t, b, n)
	start := time.Now()
	a := b.WaitDone(t, announce(t, b, "jira", "9.4.0").ID)
	took := time.Since(start)
	everyoneOnce(t, b, a, n)
	if throttled.Load() == 0 {
		t.Errorf("the relay throttled nothing at %d/s: the test tests nothing", 2*limit)
	}
	// Herald slows down: at a steady 200/s, half its tries would be
	// throttled for as long as the send lasts.
	if got := throttled.Load(); got > int64(n/2) {
		t.Errorf("%d throttled replies for %d recipients: herald did not slow down", got, n)
	}
	rate := b.Relay.Rate(context.Background())
	if rate.Effective >= rate.Configured {
		t.Errorf("effective rate %.0f/s at the end, want it lowered from %.0f/s", rate.Effective, rate.Configured)
	}
	t.Logf("%d recipients in %s (%.0f msg/s) through a relay of %d msg/s, herald at %.0f/s: %d throttled replies, %d accepted, effective rate at the end %.0f/s",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), limit, rate.Configured, throttled.Load(), b.SMTP.Accepted(), rate.Effective)
	if diff := cmp.Diff(n, b.SMTP.Accepted()); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
}

func TestTheRelaysPausesEndOnceItWorks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AtStart", func(t *testing.T) {
		t.Parallel()
		// A process paused the release for the relay and stopped; the
		// relay was fixed meanwhile, and the next process to start sends it.
		b := apptest.Start(t, apptest.Options{})
		technicalContacts(t, b, 20)
		a := announce(t, b, "jira", "9.4.0")
		if _, err := b.Ledger.Pause(ctx, a.ID, "the relay fails: 535 5.7.8 Authentication failed", ledger.PausedByRelay); err != nil {
			t.Fatal(err)
		}
		if err := b.StartWorkers(ctx); err != nil {
			t.Fatal(err)
		}
		everyoneOnce(t, b, b.WaitDone(t, a.ID), 20)
	})

	t.Run("PausedByAnotherProcess", func(t *testing.T) {
		t.Parallel()
		// Another process's breaker paused the release and that process
		// went away; this one's breaker never opened, and resumes it.
		b := apptest.Start(t, apptest.Options{Workers: true, Breaker: worker.BreakerConfig{MaxProbe: 100 * time.Millisecond},
			SMTP: func(s *smtptest.Server) {
				s.Data = func(int, []string) error {
					time.Sleep(5 * time.Millisecond)
					return nil
				}
			}})
		technicalContacts(t, b, 100)
		a := announce(t, b, "jira", "9.4.0")
		apptest.WaitFor(t, 30*time.Second, "a few messages", func() bool { return b.SMTP.Accepted() >= 5 })
		if paused, err := b.Ledger.PauseForRelay(ctx, a.ID, "the relay fails: connection refused"); err != nil || !paused {
			t.Fatalf("PauseForRelay = %v, %v", paused, err)
		}
		everyoneOnce(t, b, b.WaitDone(t, a.ID), 100)
	})
}

func TestAMessageThrottledForeverFails(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.Any(), func(c *config.Config) {
		c.Worker.SendMaxThrottles = 3
	}, func(s *smtptest.Server) {
		s.Data = func(_ int, to []string) error {
			if to[0] == "p00000@acme.test" {
				return smtptest.Reply(451, [3]int{4, 7, 0}, "Throttled: too many messages for this account")
			}
			return nil
		}
	})
	technicalContacts(t, b, 10)
	a := b.WaitDone(t, announce(t, b, "jira", "9.4.0").ID)
	if a.Counts.Sent != 9 || a.Counts.Failed != 1 {
		t.Errorf("counts %+v, want 9 sent and the throttled one failed", a.Counts)
	}
	d := b.Deliveries(t, a.ID)["p00000@acme.test"]
	if d.Status != ledger.DeliveryFailed || !strings.HasPrefix(d.LastError, "gave up after 3 throttling replies: 451") || d.Attempts != 1 {
		t.Errorf("the throttled delivery: %s after %d attempts, %q; want failed after 3 throttling replies, one attempt", d.Status, d.Attempts, d.LastError)
	}
}

func TestAPauseReachesMessagesWaitingForTheRate(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.Any(), func(c *config.Config) {
		c.Mail.SMTPRate = config.Rate{N: 1, Per: 2 * time.Second}
		c.Worker.ChunkSize = 5
	}, nil)
	technicalContacts(t, b, 30)
	ctx := context.Background()
	a := announce(t, b, "jira", "9.4.0")
	// Every chunk's task has a message claimed and waiting for the rate.
	apptest.WaitFor(t, 30*time.Second, "the first message", func() bool { return b.SMTP.Accepted() >= 1 })
	if _, err := b.Ledger.Pause(ctx, a.ID, "wrong release notes", "cli:ops"); err != nil {
		t.Fatal(err)
	}
	atPause := b.SMTP.Accepted()
	apptest.WaitFor(t, 30*time.Second, "the workers to let the release go", func() bool {
		got, err := b.Ledger.Get(ctx, a.ID)
		return err == nil && got.Counts.Sending == 0 && b.Queue.Idle()
	})
	// At most the message that had passed the rate as the pause came.
	if sent := b.SMTP.Accepted() - atPause; sent > 1 {
		t.Errorf("%d messages sent after the pause", sent)
	}
	got, err := b.Ledger.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts.Sent != b.SMTP.Accepted() || got.Counts.Pending != 30-got.Counts.Sent {
		t.Errorf("counts %+v after %d accepted; want the rest pending", got.Counts, b.SMTP.Accepted())
	}
}
