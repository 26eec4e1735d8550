package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
)

// guardReason is the reason herald's guard rails give a pause.
const guardReason = "complaints at 0.40% and hard bounces at 0.10% of 1000 messages sent: over the limits of 0.3% and 5%; look at the content and the audience before resuming"

// bouncesBundle is herald after what came back about its mail: a hard
// bounce of tom's release notice, a delay notice about ann's, a spam
// complaint about bill's invoice reminder, and a broadcast paused by
// herald's guard rails.
type bouncesBundle struct {
	*testBundle
	release, reminder, paused ledger.Announcement
	// at is when the hard bounce happened.
	at time.Time
}

func setupBounces(t *testing.T, database dbtest.Database) *bouncesBundle {
	t.Helper()
	ctx := context.Background()
	b := &bouncesBundle{testBundle: setupWith(t, apptest.Options{Database: database, API: true, Workers: true})}
	b.release = b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID)
	today := b.Clock.Now().UTC()
	amount := int64(125000)
	if _, _, err := b.Billing.Put(ctx, "2026/0042", billing.InvoiceInput{LicenseID: "ACME-1", AmountMinor: &amount, Currency: "EUR",
		DueDate: today.AddDate(0, 0, 7).Format(time.DateOnly), Status: billing.Open}); err != nil {
		t.Fatal(err)
	}
	if made, err := b.Jobs.InvoiceReminders(ctx, today.Format(time.DateOnly)); err != nil || made.AnnouncementsCreated != 1 {
		t.Fatalf("reminders: %+v, %v", made, err)
	}
	b.WaitAllDone(t)
	list, err := b.Ledger.List(ctx, ledger.Filter{Kind: kinds.InvoiceReminder})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("reminders: %+v, %v", list.Items, err)
	}
	b.reminder = list.Items[0]

	sink, err := b.OpenBounceSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	record := func(announcement int64, email string, e bounce.Event) {
		d, ok := b.Deliveries(t, announcement)[email]
		if !ok {
			t.Fatalf("announcement %d has no delivery to %s", announcement, email)
		}
		e.Delivery, e.Recipient = d.ID, email
		if applied, reason, err := sink.Record(ctx, e); err != nil || !applied {
			t.Fatalf("record %+v: %v, %q, %v", e, applied, reason, err)
		}
	}
	// What comes back comes an hour or two after the mail left.
	b.Clock.Add(2 * time.Hour)
	b.at = b.Clock.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	record(b.release.ID, "tom@acme.test", bounce.Event{Kind: bounce.Hard, Code: "5.1.1", Diagnostic: "550 5.1.1 <tom@acme.test>: user unknown",
		Mailbox: true, Source: "smtp", EventID: "<dsn-1@mx.acme.test>", At: b.at})
	record(b.release.ID, "ann@acme.test", bounce.Event{Kind: bounce.Delay, Code: "4.4.7", Diagnostic: "451 4.4.7 still trying",
		Source: "smtp", EventID: "<dsn-2@mx.acme.test>", At: b.at})
	record(b.reminder.ID, "bill@acme.test", bounce.Event{Kind: bounce.Complaint, Source: "ses", EventID: "ses-1", At: b.at})

	// A broadcast for tomorrow, paused as the guard rails pause one.
	a, err := kinds.CreateBroadcast(ctx, b.Ledger, kinds.NewBroadcast{Subject: "Spring offer", Body: "Text.",
		Audience: kinds.BroadcastAudience{Products: []string{"jira"}}, SendAt: today.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if b.paused, err = b.Ledger.Pause(ctx, a.ID, guardReason, ledger.PausedByGuardRails); err != nil {
		t.Fatal(err)
	}
	for _, id := range []*ledger.Announcement{&b.release, &b.reminder} {
		if *id, err = b.Ledger.Get(ctx, id.ID); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestBouncesOnPages reads, as a viewer, what came back about the mail:
// each person's deliveries with their events in the viewer's timezone and
// the complaint about an invoice reminder marked; the announcements with
// their bounced and complained counts; an announcement's deliveries
// filtered by bounced; and the pause by herald with its reason.
func TestBouncesOnPages(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setupBounces(t, database)
		viewer := b.browser(t)
		b.signIn(t, viewer, "vic@herald.test")
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		at := b.at.In(berlin).Format("2006-01-02 15:04 MST")

		t.Run("PersonWithABounce", func(t *testing.T) {
			shows(t, "tom's page", viewer.get("/console/people/tom@acme.test"), http.StatusOK,
				`<span class="status status-bounced">bounced</span>`,
				`<span class="status status-event-hard">hard bounce</span> <code>5.1.1</code> 550 5.1.1 &lt;tom@acme.test&gt;: user unknown <span class="hint">via smtp, `+at+`</span>`,
				"<th scope=\"col\">What came back</th>", "<dt>Code</dt><dd>5.1.1</dd>")
		})
		t.Run("PersonWithADelay", func(t *testing.T) {
			p := viewer.get("/console/people/ann@acme.test")
			shows(t, "ann's page", p, http.StatusOK,
				`<span class="status status-event-delay">delayed</span> <code>4.4.7</code> 451 4.4.7 still trying <span class="hint">via smtp, `+at+`</span>`,
				`<span class="status status-sent">sent</span>`)
			if strings.Contains(p.body, "status-complaint") || strings.Contains(p.body, "stops no billing mail") {
				t.Error("ann's page marks a complaint she never made")
			}
		})
		t.Run("ComplaintAboutAnInvoiceReminder", func(t *testing.T) {
			shows(t, "bill's page", viewer.get("/console/people/bill@acme.test"), http.StatusOK,
				`<td>invoice_reminder</td><td><span class="status status-sent">sent</span> <span class="status status-complaint">spam complaint</span></td>`,
				`<span class="status status-event-complaint">spam complaint</span> <span class="hint">via ses, `+at+`</span>`,
				"A complaint about an invoice reminder stops no billing mail")
		})
		t.Run("AnnouncementsCountBouncesAndComplaints", func(t *testing.T) {
			// Sent, failed, skipped, bounced, complaints.
			shows(t, "the announcements", viewer.get("/console/announcements"), http.StatusOK,
				`<th scope="col" class="num">Bounced</th><th scope="col" class="num"><abbr title="Spam complaints">Spam</abbr></th>`,
				`<td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">0</td>`,
				`<td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">1</td>`)
		})
		t.Run("AnnouncementFiltersBounced", func(t *testing.T) {
			href := fmt.Sprintf("/console/announcements/%d", b.release.ID)
			p := viewer.get(href + "?status=bounced")
			shows(t, "the release's bounced deliveries", p, http.StatusOK,
				`<option value="bounced" selected>bounced</option>`,
				`<a href="/console/people/tom@acme.test">tom@acme.test</a>`,
				`<span data-progress-field="bounced">1</span> bounced`,
				`aria-label="2 of 2 done"`)
			if strings.Contains(p.body, "ann@acme.test") {
				t.Error("the bounced filter shows ann's delivery, which was sent")
			}
		})
		t.Run("AnnouncementMarksComplaints", func(t *testing.T) {
			shows(t, "the reminder", viewer.get(fmt.Sprintf("/console/announcements/%d", b.reminder.ID)), http.StatusOK,
				`<span class="status status-sent">sent</span> <span class="status status-complaint">spam complaint</span>`,
				`<span data-progress-field="complained">1</span> marked as spam`)
		})
		t.Run("PausedByTheGuardRails", func(t *testing.T) {
			shows(t, "the paused broadcast", viewer.get(fmt.Sprintf("/console/announcements/%d", b.paused.ID)), http.StatusOK,
				`<h2>Paused by herald&#39;s guard rails: too many complaints or hard bounces</h2>`, "<p>"+guardReason+"</p>", "never by itself")
		})
	})
}

// TestBouncesBrowser photographs the pages that show what came back
// (HERALD_TEST_SCREENSHOTS keeps the pictures).
func TestBouncesBrowser(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	b := setupBounces(t, dbtest.SQLite)
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: "console-bounces-"}
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "vic@herald.test")))
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")

	tab.Do(chromedp.Navigate(b.URL + "/console/people/tom@acme.test"))
	tab.See(`td//span[@class="status status-event-hard"]`, "hard bounce")
	tab.Shoot("person")
	tab.Do(chromedp.Navigate(b.URL + "/console/people/bill@acme.test"))
	tab.See(`td/span[@class="status status-complaint"]`, "spam complaint")
	tab.Shoot("person-complaint")
	tab.Do(chromedp.EmulateViewport(390, 844))
	tab.Shoot("person-complaint-phone")

	tab.Do(chromedp.EmulateViewport(1366, 900), browsertest.Click("link", "Announcements"))
	tab.See("h1", "Announcements")
	tab.Shoot("announcements")
	tab.Do(chromedp.Click(fmt.Sprintf(`//tbody//a[text()="%d"]`, b.release.ID)))
	tab.See("h2", "Progress")
	tab.Do(chromedp.SetValue(`#d-status`, "bounced"), browsertest.Click("button", "Filter"))
	tab.See(`td/span[@class="status status-bounced"]`, "bounced")
	tab.Shoot("announcement-bounced")
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/console/announcements/%d", b.URL, b.paused.ID)))
	tab.See("h2", "Paused by herald")
	tab.Shoot("announcement-paused")
	if os.Getenv(browsertest.ScreenshotsEnv) == "" {
		t.Logf("set %s to keep the screenshots", browsertest.ScreenshotsEnv)
	}
}
