package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
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
	db      *db.DB
	store   *contacts.Store
	ledger  *ledger.Ledger
	billing *billing.Billing
	queue   *queue.Queue
	smtp    *smtptest.Server
	jobs    *scheduler.Jobs
	logger  *slog.Logger
}

func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	d := database.Open(t)
	b := &testBundle{db: d, queue: queuetest.Open(t), smtp: smtptest.Start(t), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.store = contacts.NewStore(d, time.Now)
	b.ledger = ledger.New(d, time.Now)
	b.billing = billing.New(d, b.ledger, time.Now)
	b.jobs = &scheduler.Jobs{
		Ledger: b.ledger, Billing: b.billing, Queue: b.queue,
		Cadence:       billing.Cadence{Offsets: []int{-7, 0, 7, 14}},
		Reconciler:    &scheduler.Reconciler{Ledger: b.ledger, Queue: b.queue, Grace: 200 * time.Millisecond, Logger: b.logger},
		RetentionDays: 90, Logger: b.logger, Now: time.Now,
	}
	return b
}

// startWorkers runs the workers, sending to the test's SMTP server.
func (b *testBundle) startWorkers(t *testing.T) {
	t.Helper()
	workertest.Start(t, worker.Config{ChunkSize: 50, Lease: time.Minute, MaxAttempts: 3, RetryBase: 50 * time.Millisecond, From: "Vendor <billing@vendor.test>"},
		worker.Deps{Ledger: b.ledger, Contacts: b.store, Billing: b.billing, Queue: b.queue, Sender: workertest.Sender(t, b.smtp), Logger: b.logger}, 8)
}

// acme creates the jira license SEN-1 with members.
func (b *testBundle) acme(t *testing.T, members ...contacts.NewMember) {
	t.Helper()
	if _, err := b.store.CreateLicense(context.Background(), contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme", Contacts: members}); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) newScheduler(t *testing.T, leaseTTL time.Duration, jobs []scheduler.Job) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(scheduler.Config{Location: time.UTC, Redis: b.queue.Redis(), Namespace: b.queue.Name(), DB: b.db, Logger: b.logger, LeaseTTL: leaseTTL}, jobs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// waitAllDone runs the reconciler until no announcement is left to send.
func (b *testBundle) waitAllDone(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(timeout); ; {
		var open int
		if err := db.Get(ctx, b.db, &open, `SELECT COUNT(*) FROM announcements WHERE status IN ('scheduled', 'resolving', 'sending')`); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d announcements still open after %s", open, timeout)
		}
		if _, err := b.jobs.Reconciler.Run(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTwoSchedulersRemindOnce(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ctx := context.Background()
		today := time.Now().UTC().Format(time.DateOnly)
		const invoices = 100
		for i := range invoices {
			id := fmt.Sprintf("SEN-%03d", i)
			if _, err := b.store.CreateLicense(ctx, contacts.NewLicense{ID: id, Product: "jira", Name: "Customer " + id, Contacts: []contacts.NewMember{
				{Email: fmt.Sprintf("main%03d@customer.test", i), Role: contacts.Billing},
				{Email: fmt.Sprintf("other%03d@customer.test", i), Role: contacts.Billing},
			}}); err != nil {
				t.Fatal(err)
			}
			amount := int64(1000 + i)
			if _, _, err := b.billing.Put(ctx, fmt.Sprintf("INV-%03d", i), billing.InvoiceInput{LicenseID: id, AmountMinor: &amount, Currency: "EUR", DueDate: today}); err != nil {
				t.Fatal(err)
			}
		}
		b.startWorkers(t)

		jobs := b.jobs.List(scheduler.Specs{InvoiceReminders: "0 9 * * *", Announcements: "* * * * *", Retention: "30 3 * * *", ReconcileInterval: time.Minute})
		one, two := b.newScheduler(t, time.Minute, jobs), b.newScheduler(t, time.Minute, jobs)

		// Both tick at once.
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			results []string
		)
		for _, s := range []*scheduler.Scheduler{one, two} {
			wg.Go(func() {
				res, err := s.RunNow(ctx, scheduler.JobInvoiceReminders)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, scheduler.ErrBusy):
					results = append(results, "busy")
				case err != nil:
					t.Errorf("RunNow: %v", err)
				default:
					results = append(results, res.String())
				}
			})
		}
		wg.Wait()
		if strings.Join(results, "|") != "busy|100 announcements created" && strings.Join(results, "|") != "100 announcements created|busy" {
			t.Errorf("runs: %q; want one run that made 100 and one that found the lease taken", results)
		}
		// The second line of defence: running the job again without the
		// lease makes nothing new.
		if again, err := b.jobs.InvoiceReminders(ctx, ""); err != nil || again.AnnouncementsCreated != 0 {
			t.Errorf("a run without the lease made %d, %v", again.AnnouncementsCreated, err)
		}

		b.waitAllDone(t, 60*time.Second)
		per := b.smtp.PerRecipient()
		if len(per) != 2*invoices {
			t.Errorf("%d people reminded, want %d", len(per), 2*invoices)
		}
		for email, n := range per {
			if n != 1 {
				t.Errorf("%s got %d reminders", email, n)
			}
		}

		statuses, err := scheduler.Statuses(ctx, b.db, jobs, time.UTC, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, st := range statuses {
			if st.Name == scheduler.JobInvoiceReminders {
				found = true
				if st.LastRun == nil || st.LastRun.Result != "100 announcements created" || !st.NextRun.After(time.Now()) {
					t.Errorf("status of the reminder job: %+v", st)
				}
			}
		}
		if !found {
			t.Errorf("no status for the reminder job in %+v", statuses)
		}
	})
}

func TestLeaseIsHeldWhileTheJobRuns(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	slow := []scheduler.Job{{Name: "slow", Spec: "0 0 1 1 *", Run: func(ctx context.Context) (fmt.Stringer, error) {
		once.Do(func() { close(started) })
		<-release
		return scheduler.Created{}, nil
	}}}
	// A lease of 300ms, renewed every 100ms, held for a second.
	one, two := b.newScheduler(t, 300*time.Millisecond, slow), b.newScheduler(t, 300*time.Millisecond, slow)
	done := make(chan error, 1)
	go func() { _, err := one.RunNow(context.Background(), "slow"); done <- err }()
	<-started
	time.Sleep(time.Second)
	if _, err := two.RunNow(context.Background(), "slow"); !errors.Is(err, scheduler.ErrBusy) {
		t.Errorf("second scheduler during a run longer than the lease time: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestScheduledAnnouncementsStartWhenDue(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ctx := context.Background()
		b.acme(t, contacts.NewMember{Email: "ann@acme.test", Role: contacts.Technical})
		b.startWorkers(t)
		soon := time.Now().Add(time.Second)
		_, due, _, err := b.ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0", SendAt: soon})
		if err != nil {
			t.Fatal(err)
		}
		_, cancelled, _, err := b.ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "2.0", SendAt: soon})
		if err != nil {
			t.Fatal(err)
		}
		if due.Status != ledger.Scheduled || cancelled.Status != ledger.Scheduled {
			t.Fatalf("statuses %s, %s; want scheduled", due.Status, cancelled.Status)
		}
		if _, err := b.ledger.Cancel(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		if res, err := b.jobs.ScheduledAnnouncements(ctx); err != nil || res.Started != 0 {
			t.Errorf("before send_at: %+v, %v", res, err)
		}
		time.Sleep(time.Until(soon))
		if res, err := b.jobs.ScheduledAnnouncements(ctx); err != nil || res.Started != 1 {
			t.Errorf("after send_at: %+v, %v", res, err)
		}
		b.waitAllDone(t, 30*time.Second)
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
}

func TestRetentionKeepsCounts(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ctx := context.Background()
		b.acme(t, contacts.NewMember{Email: "ann@acme.test", Role: contacts.Technical}, contacts.NewMember{Email: "bob@acme.test", Role: contacts.Technical})
		b.startWorkers(t)
		_, a, _, err := b.ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.queue.Enqueue(ctx, queue.NewFanoutTask(a.ID)); err != nil {
			t.Fatal(err)
		}
		b.waitAllDone(t, 30*time.Second)

		b.jobs.RetentionDays = 1
		b.jobs.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
		res, err := b.jobs.Retention(ctx)
		if err != nil || res.Deliveries != 2 {
			t.Fatalf("Retention = %+v, %v; want 2 deliveries removed", res, err)
		}
		got, err := b.ledger.Get(ctx, a.ID)
		if err != nil || got.Counts.Sent != 2 || got.Counts.Recipients != 2 {
			t.Errorf("counts after retention: %+v, %v", got.Counts, err)
		}
		// The announcement stays, and with it the dedupe key: the same
		// release again sends nothing.
		if _, _, created, err := b.ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0"}); err != nil || created {
			t.Errorf("the release after retention: created %v, %v", created, err)
		}
	})
}

// feedServer serves an Atom feed whose entries the test changes.
type feedServer struct {
	mu      sync.Mutex
	entries []string // versions, newest first
}

func (f *feedServer) add(version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append([]string{version}, f.entries...)
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/atom+xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Jira releases</title><id>urn:jira</id><updated>2026-11-29T00:00:00Z</updated>`)
	for _, v := range f.entries {
		fmt.Fprintf(w, `<entry><title>Jira Software v%s released</title><id>urn:jira:%s</id><updated>2026-11-29T00:00:00Z</updated>
			<link href="https://vendor.test/jira/%s"/><summary type="html">&lt;p&gt;What is new in %s:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Faster boards&lt;/li&gt;&lt;/ul&gt;&lt;script&gt;x()&lt;/script&gt;</summary></entry>`, v, v, v, v)
	}
	fmt.Fprint(w, `</feed>`)
}

func TestReleaseFeeds(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ctx := context.Background()
		b.acme(t, contacts.NewMember{Email: "ann@acme.test", Role: contacts.Technical})
		b.startWorkers(t)
		jira := &feedServer{}
		jira.add("9.3.0")
		jira.add("9.4.0")
		good := httptest.NewServer(jira)
		t.Cleanup(good.Close)
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/500") {
				http.Error(w, "down", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, "<feed><entry><title>v1.0")
		}))
		t.Cleanup(broken.Close)
		poller := func() *scheduler.FeedPoller {
			return &scheduler.FeedPoller{
				Feeds: []config.ReleaseFeed{
					{Product: "bamboo", URL: broken.URL + "/500"},
					{Product: "jira", URL: good.URL + "/jira.atom"},
					{Product: "crowd", URL: broken.URL + "/bad.xml"},
				},
				Ledger: b.ledger, Queue: b.queue, HTTP: good.Client(), Logger: b.logger,
			}
		}

		first, err := poller().Poll(ctx)
		if err != nil || first.AnnouncementsCreated != 0 {
			t.Fatalf("first poll: %+v, %v; want the back catalogue recorded, nothing announced", first, err)
		}
		if first.Feeds[0].Error == "" || first.Feeds[2].Error == "" || first.Feeds[1].Error != "" {
			t.Errorf("feed errors: %+v; want the two broken feeds to fail and jira to work", first.Feeds)
		}

		jira.add("9.5.0")
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for range 2 { // two schedulers poll at once
			wg.Go(func() {
				res, err := poller().Poll(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += res.AnnouncementsCreated
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != 1 {
			t.Errorf("two polls after a new entry created %d announcements, want 1", total)
		}
		b.waitAllDone(t, 30*time.Second)
		rels, err := b.ledger.Releases(ctx, "jira", pageAll)
		if err != nil || len(rels.Items) != 1 {
			t.Fatalf("releases: %+v, %v", rels.Items, err)
		}
		rel := rels.Items[0]
		if rel.Version != "9.5.0" || rel.Title != "Jira Software v9.5.0 released" || rel.URL != "https://vendor.test/jira/9.5.0" ||
			!strings.Contains(rel.Notes, "* Faster boards") || strings.Contains(rel.Notes, "x()") || strings.Contains(rel.Notes, "<") {
			t.Errorf("release from the feed: %+v", rel)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, b.smtp.PerRecipient()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
		again, err := poller().Poll(ctx)
		if err != nil || again.AnnouncementsCreated != 0 {
			t.Errorf("polling again: %+v, %v", again, err)
		}
	})
}

func TestReleaseFeedFormats(t *testing.T) {
	t.Parallel()
	rss := func(versions ...string) string {
		var items strings.Builder
		for _, v := range versions {
			fmt.Fprintf(&items, `<item><title>Bamboo %s</title><link>https://vendor.test/bamboo/%s</link><description>Fixes.</description></item>`, v, v)
		}
		return `<?xml version="1.0"?><rss version="2.0"><channel><title>Bamboo</title>` + items.String() + `</channel></rss>`
	}
	jsonFeed := func(versions ...string) string {
		var items []string
		for _, v := range versions {
			items = append(items, fmt.Sprintf(`{"id":"%s","title":"Crowd %s is out","url":"https://vendor.test/crowd/%s","content_text":"Faster."}`, v, v, v))
		}
		return `{"version":"https://jsonfeed.org/version/1.1","title":"Crowd","items":[` + strings.Join(items, ",") + `]}`
	}
	for _, tc := range []struct {
		name, product, pattern string
		before, after          string
		want                   string
	}{
		{"RSS", "bamboo", `Bamboo (\d+\.\d+\.\d+)`, rss("9.1.0"), rss("9.2.0", "9.1.0"), "9.2.0"},
		{"JSONFeed", "crowd", "", jsonFeed("5.0.1"), jsonFeed("5.1.0", "5.0.1"), "5.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, dbtest.SQLite)
			var mu sync.Mutex
			body := tc.before
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprint(w, body)
			}))
			t.Cleanup(srv.Close)
			poller := &scheduler.FeedPoller{Feeds: []config.ReleaseFeed{{Product: tc.product, URL: srv.URL, Pattern: tc.pattern}},
				Ledger: b.ledger, Queue: b.queue, HTTP: srv.Client(), Logger: b.logger}
			ctx := context.Background()
			if res, err := poller.Poll(ctx); err != nil || res.AnnouncementsCreated != 0 || res.Feeds[0].Error != "" {
				t.Fatalf("first poll: %+v, %v", res, err)
			}
			mu.Lock()
			body = tc.after
			mu.Unlock()
			if res, err := poller.Poll(ctx); err != nil || res.AnnouncementsCreated != 1 {
				t.Fatalf("second poll: %+v, %v", res, err)
			}
			rels, err := b.ledger.Releases(ctx, tc.product, pageAll)
			if err != nil || len(rels.Items) != 1 || rels.Items[0].Version != tc.want || !strings.HasPrefix(rels.Items[0].URL, "https://vendor.test/") {
				t.Errorf("releases: %+v, %v", rels.Items, err)
			}
		})
	}
}
