package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/scheduler"
)

// setup runs herald on database without its scheduler: the tests run the
// jobs, or schedulers of their own, themselves.
func setup(t *testing.T, database dbtest.Database, config func(*config.Config)) *apptest.Bundle {
	t.Helper()
	return apptest.Start(t, apptest.Options{Database: database, Workers: true, Config: config})
}

// acme creates the jira license SEN-1 with members.
func acme(t *testing.T, b *apptest.Bundle, members ...contacts.NewMember) {
	t.Helper()
	b.License(t, "SEN-1", "jira", contacts.Active, members...)
}

// newRunner is the job runner of one more replica, on the bundle's Redis
// and database, with leases of leaseTTL.
func newRunner(b *apptest.Bundle, leaseTTL time.Duration) *scheduler.Runner {
	return scheduler.NewRunner(scheduler.RunnerConfig{Redis: b.Queue.Redis(), Namespace: b.Queue.Name(), DB: b.DB, Logger: b.Logger, LeaseTTL: leaseTTL})
}

// newScheduler is one more replica of the scheduler, with leases of
// leaseTTL.
func newScheduler(t *testing.T, b *apptest.Bundle, leaseTTL time.Duration, jobs []scheduler.Job) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(newRunner(b, leaseTTL), time.UTC, jobs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func TestTwoSchedulersRemindOnce(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, nil)
		ctx := context.Background()
		today := b.Clock.Now().UTC().Format(time.DateOnly)
		const invoices = 100
		for i := range invoices {
			id := fmt.Sprintf("SEN-%03d", i)
			if _, err := b.Contacts.CreateLicense(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, contacts.NewLicense{ID: id, Product: "jira", Name: "Customer " + id, Contacts: []contacts.NewMember{
				{Email: fmt.Sprintf("main%03d@customer.test", i), Role: contacts.Billing},
				{Email: fmt.Sprintf("other%03d@customer.test", i), Role: contacts.Billing},
			}}); err != nil {
				t.Fatal(err)
			}
			amount := int64(1000 + i)
			if _, _, err := b.Billing.Put(ctx, fmt.Sprintf("INV-%03d", i), billing.InvoiceInput{LicenseID: id, AmountMinor: &amount, Currency: "EUR", DueDate: today}); err != nil {
				t.Fatal(err)
			}
		}
		jobs := b.Jobs.List()
		one, two := newScheduler(t, b, time.Minute, jobs), newScheduler(t, b, time.Minute, jobs)

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
		if again, err := b.Jobs.InvoiceReminders(ctx, ""); err != nil || again.AnnouncementsCreated != 0 {
			t.Errorf("a run without the lease made %d, %v", again.AnnouncementsCreated, err)
		}

		b.WaitAllDone(t)
		per := b.SMTP.PerRecipient()
		if len(per) != 2*invoices {
			t.Errorf("%d people reminded, want %d", len(per), 2*invoices)
		}
		for email, n := range per {
			if n != 1 {
				t.Errorf("%s got %d reminders", email, n)
			}
		}

		statuses, err := b.Runner.Statuses(ctx, jobs, time.UTC, b.Clock.Now())
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
	b := setup(t, dbtest.SQLite, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	slow := scheduler.Job{Name: "slow", Spec: "0 0 1 1 *", Run: func(ctx context.Context) (fmt.Stringer, error) {
		once.Do(func() { close(started) })
		<-release
		return scheduler.Created{}, nil
	}}
	// Two replicas with leases of 300ms, renewed every 100ms.
	one, two := newRunner(b, 300*time.Millisecond), newRunner(b, 300*time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := one.RunBy(context.Background(), slow, contacts.Actor{Via: contacts.ViaAPI, Name: "test"})
		done <- err
	}()
	<-started
	// The run outlasts three lease times: only renewal keeps its lease.
	time.Sleep(time.Second)
	if _, err := two.RunBy(context.Background(), slow, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}); !errors.Is(err, scheduler.ErrBusy) {
		t.Errorf("a second run during a run longer than the lease time: %v, want ErrBusy", err)
	}

	// A tick that comes during the run waits for it, then runs.
	s := newScheduler(t, b, 300*time.Millisecond, []scheduler.Job{slow})
	ticked := make(chan error, 1)
	go func() { _, err := s.RunNow(context.Background(), "slow"); ticked <- err }()
	select {
	case err := <-ticked:
		t.Fatalf("the tick did not wait for the run in progress: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-ticked; err != nil {
		t.Errorf("the tick after the run: %v", err)
	}
}

func TestTicksRunOnceAcrossSchedulers(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite, nil)
	var runs atomic.Int32
	job := []scheduler.Job{{Name: "count", Spec: "0 0 1 1 *", Run: func(ctx context.Context) (fmt.Stringer, error) {
		runs.Add(1)
		return scheduler.Created{}, nil
	}}}
	one, two := newScheduler(t, b, time.Minute, job), newScheduler(t, b, time.Minute, job)
	if _, err := one.RunNow(context.Background(), "count"); err != nil {
		t.Fatal(err)
	}
	// The first run is over; the same minute's tick elsewhere still finds
	// it, and a run by hand does not wait for the minute to pass.
	if _, err := two.RunNow(context.Background(), "count"); !errors.Is(err, scheduler.ErrBusy) {
		t.Errorf("the same tick in a second scheduler: %v, want ErrBusy", err)
	}
	if _, err := b.Runner.RunBy(context.Background(), job[0], contacts.Actor{Via: contacts.ViaAPI, Name: "test"}); err != nil {
		t.Errorf("a run by hand after the tick: %v", err)
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs, want the tick's and the one by hand", n)
	}
}

func TestScheduledAnnouncementsStartWhenDue(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, nil)
		ctx := context.Background()
		acme(t, b, apptest.Tech("ann@acme.test", ""))
		later := b.Clock.Now().Add(time.Hour)
		_, due, _, err := b.Ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0", SendAt: later}, kinds.ReleaseAnnouncement)
		if err != nil {
			t.Fatal(err)
		}
		_, cancelled, _, err := b.Ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "2.0", SendAt: later}, kinds.ReleaseAnnouncement)
		if err != nil {
			t.Fatal(err)
		}
		if due.Status != ledger.Scheduled || cancelled.Status != ledger.Scheduled {
			t.Fatalf("statuses %s, %s; want scheduled", due.Status, cancelled.Status)
		}
		if _, err := b.Ledger.Cancel(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		if res, err := b.Jobs.ScheduledAnnouncements(ctx); err != nil || res.Started != 0 {
			t.Errorf("before send_at: %+v, %v", res, err)
		}
		b.Clock.Add(time.Hour)
		if res, err := b.Jobs.ScheduledAnnouncements(ctx); err != nil || res.Started != 1 {
			t.Errorf("at send_at: %+v, %v", res, err)
		}
		b.WaitAllDone(t)
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
}

func TestRetentionKeepsCounts(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, func(c *config.Config) { c.Scheduler.RetentionDays = 1 })
		ctx := context.Background()
		acme(t, b, apptest.Tech("ann@acme.test", ""), apptest.Tech("bob@acme.test", ""))
		a := b.Release(t, ledger.NewRelease{Product: "jira", Version: "1.0"})
		b.WaitAllDone(t)

		if res, err := b.Jobs.Retention(ctx); err != nil || res.Deliveries != 0 {
			t.Fatalf("Retention the day it finished = %+v, %v; want nothing removed", res, err)
		}
		b.Clock.Add(48 * time.Hour)
		res, err := b.Jobs.Retention(ctx)
		if err != nil || res.Deliveries != 2 {
			t.Fatalf("Retention two days later = %+v, %v; want 2 deliveries removed", res, err)
		}
		got, err := b.Ledger.Get(ctx, a.ID)
		if err != nil || got.Counts.Sent != 2 || got.Counts.Recipients != 2 {
			t.Errorf("counts after retention: %+v, %v", got.Counts, err)
		}
		// The announcement stays, and with it the dedupe key: the same
		// release again sends nothing.
		if _, _, created, err := b.Ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0"}, kinds.ReleaseAnnouncement); err != nil || created {
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
		ctx := context.Background()
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
		b := setup(t, database, func(c *config.Config) {
			c.Feeds.ReleaseFeeds = config.ReleaseFeeds{
				{Product: "bamboo", URL: broken.URL + "/500"},
				{Product: "jira", URL: good.URL + "/jira.atom"},
				{Product: "crowd", URL: broken.URL + "/bad.xml"},
			}
		})
		acme(t, b, apptest.Tech("ann@acme.test", ""))
		poller := b.Jobs.Feeds

		first, err := poller.Poll(ctx)
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
				res, err := poller.Poll(ctx)
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
		b.WaitAllDone(t)
		rels, err := b.Ledger.Releases(ctx, "jira", pageAll)
		if err != nil || len(rels.Items) != 1 {
			t.Fatalf("releases: %+v, %v", rels.Items, err)
		}
		rel := rels.Items[0]
		if rel.Version != "9.5.0" || rel.Title != "Jira Software v9.5.0 released" || rel.URL != "https://vendor.test/jira/9.5.0" ||
			!strings.Contains(rel.Notes, "* Faster boards") || strings.Contains(rel.Notes, "x()") || strings.Contains(rel.Notes, "<") {
			t.Errorf("release from the feed: %+v", rel)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
		again, err := poller.Poll(ctx)
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
			var mu sync.Mutex
			body := tc.before
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprint(w, body)
			}))
			t.Cleanup(srv.Close)
			b := setup(t, dbtest.SQLite, func(c *config.Config) {
				c.Feeds.ReleaseFeeds = config.ReleaseFeeds{{Product: tc.product, URL: srv.URL, Pattern: tc.pattern}}
			})
			poller := b.Jobs.Feeds
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
			rels, err := b.Ledger.Releases(ctx, tc.product, pageAll)
			if err != nil || len(rels.Items) != 1 || rels.Items[0].Version != tc.want || !strings.HasPrefix(rels.Items[0].URL, "https://vendor.test/") {
				t.Errorf("releases: %+v, %v", rels.Items, err)
			}
		})
	}
}
