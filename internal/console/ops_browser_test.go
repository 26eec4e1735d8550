package console_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
)

// TestOperationsBrowserFlow is Ada, an admin, going through the
// operations pages in Chromium: she runs the reminder job, reads the
// invoice it reminded of, previews a template in German, finds the relay
// failing, makes and revokes an API token, and opens the queue dashboard,
// whose script runs under its own policy. Each page is photographed
// (HERALD_TEST_SCREENSHOTS keeps the pictures).
func TestOperationsBrowserFlow(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	b := setupOps(t, dbtest.SQLite)
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: "console-ops-"}
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "ada@herald.test")))
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")

	tab.Do(browsertest.Click("link", "Operations"))
	tab.See("h1", "Jobs")
	tab.Do(browsertest.Click("button", "Run invoice-reminders now"))
	tab.See(`p[@class="flash ok"]`, "invoice-reminders ran: 1 announcements created.")
	tab.Shoot("jobs")

	b.WaitAllDone(t)
	tab.Do(browsertest.Click("link", "Invoices"))
	tab.See("h1", "Invoices")
	tab.Shoot("invoices")
	tab.Do(browsertest.Click("link", "2026/0042"))
	tab.See("h3", "Invoice 2026/0042 is due in 7 days")
	tab.See(`td/span[@class="status status-sent"]`, "sent")
	tab.Shoot("invoice")

	tab.Do(browsertest.Click("link", "Templates"))
	tab.See("h1", "Templates")
	tab.Shoot("templates")
	tab.Do(browsertest.Click("link", "Preview invoice_due in de"))
	tab.See("dd", "ist heute fällig")
	mailStyled(t, ctx)
	tab.Shoot("template")

	// The relay refuses the password; the release waiting for it is
	// paused.
	if err := b.Relay.SetStatus(context.Background(), relay.Status{State: relay.Failing, Error: "535 5.7.8 Authentication credentials invalid",
		Advice: "The relay refused the user or password of HERALD_SMTP_URL: correct them and restart herald."}); err != nil {
		t.Fatal(err)
	}
	_, a, _, err := b.Ledger.CreateRelease(context.Background(), ledger.NewRelease{Product: "jira", Version: "9.5.0", Title: "Jira 9.5", SendAt: b.Clock.Now().Add(time.Hour)}, kinds.ReleaseAnnouncement)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ledger.Pause(context.Background(), a.ID, "535 5.7.8 Authentication credentials invalid", ledger.PausedByRelay); err != nil {
		t.Fatal(err)
	}
	tab.Do(browsertest.Click("link", "Relay"))
	tab.See("h2", "Last error")
	tab.See("td/a", "Jira 9.5")
	tab.Shoot("relay")

	tab.Do(browsertest.Click("link", "API tokens"))
	tab.See("h1", "API tokens")
	tab.Do(browsertest.Fill("Name", "billing-sync"), browsertest.Click("button", "Make token"))
	tab.See("h2", "The token billing-sync")
	tab.Shoot("token-made")
	tab.Do(browsertest.Click("link", "Revoke billing-sync…"))
	tab.See("h2", "Revoke billing-sync?")
	tab.Shoot("token-revoke")
	tab.Do(browsertest.Click("button", "Revoke billing-sync"))
	tab.See(`p[@class="flash ok"]`, "Revoked billing-sync")

	// Work for the dashboard: sends scheduled for later, and fan-outs of
	// announcements that do not exist, which the workers give up on.
	for i := range 3 {
		if err := b.Queue.Enqueue(context.Background(), queue.NewSendTask(a.ID, i, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	for id := range int64(2) {
		if err := b.Queue.Enqueue(context.Background(), queue.NewFanoutTask(900000+id)); err != nil {
			t.Fatal(err)
		}
	}
	tab.Do(browsertest.Click("link", "Queues"))
	// asynqmon's script ran: it drew its dashboard with the queue.
	tab.See("*", b.Queue.Name())
	tab.Do(chromedp.Sleep(2 * time.Second)) // its charts grow in
	browsertest.ScreenshotWindow(t, ctx, "console-ops-queues")
	tab.Do(chromedp.Navigate(b.URL + "/console/queues/queues/" + b.Queue.Name() + "?status=scheduled"))
	tab.See("*", "send:"+strconv.FormatInt(a.ID, 10)+":0")
	browsertest.ScreenshotWindow(t, ctx, "console-ops-queue")
	if os.Getenv(browsertest.ScreenshotsEnv) == "" {
		t.Logf("set %s to keep the screenshots", browsertest.ScreenshotsEnv)
	}
}

// mailStyled checks, inside the preview's frame, that the mail's inline
// styles apply: its "pay" link is a blue button. The strict policy, which
// the frame inherits, would refuse them. The sandboxed frame has an origin
// of its own, so Chromium runs it as a target of its own.
func mailStyled(t *testing.T, ctx context.Context) {
	t.Helper()
	var frame *target.Info
	apptest.WaitFor(t, 10*time.Second, "the preview's frame", func() bool {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && info.URL == "about:srcdoc" {
				frame = info
			}
		}
		return frame != nil
	})
	frameCtx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(frame.TargetID), chromedp.WithDetachOnCancel())
	defer cancel()
	wait, cancelWait := context.WithTimeout(frameCtx, 10*time.Second)
	defer cancelWait()
	style, err := chromedp.Run(wait, chromedp.ComputedStyle("a"))
	if err != nil {
		t.Fatalf("the mail's link: %v", err)
	}
	got := map[string]string{}
	for _, p := range style {
		got[p.Name] = p.Value
	}
	if got["background-color"] != "rgb(0, 82, 204)" || got["display"] != "inline-block" {
		t.Errorf("the mail's button: background %s, display %s: its styles were refused", got["background-color"], got["display"])
	}
}
