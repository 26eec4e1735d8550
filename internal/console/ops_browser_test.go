package console_test

import (
	"context"
	"fmt"
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
	shoot := func(name string) { browsertest.Screenshot(t, ctx, "console-ops-"+name) }
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	see := func(step, text string) {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(wait, chromedp.WaitVisible(fmt.Sprintf(`//%s[contains(normalize-space(.), %q)]`, step, text))); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("no %s saying %q: %v; the page says:\n%s", step, text, err, body)
		}
	}
	run(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "ada@herald.test")))
	run(browsertest.Click("button", "Sign in"))
	see("h1", "Licenses")

	run(browsertest.Click("link", "Operations"))
	see("h1", "Jobs")
	run(browsertest.Click("button", "Run invoice-reminders now"))
	see(`p[@class="flash ok"]`, "invoice-reminders ran: 1 announcements created.")
	shoot("jobs")

	b.WaitAllDone(t)
	run(browsertest.Click("link", "Invoices"))
	see("h1", "Invoices")
	shoot("invoices")
	run(browsertest.Click("link", "2026/0042"))
	see("h3", "Invoice 2026/0042 is due in 7 days")
	see(`td/span[@class="status status-sent"]`, "sent")
	shoot("invoice")

	run(browsertest.Click("link", "Templates"))
	see("h1", "Templates")
	shoot("templates")
	run(browsertest.Click("link", "Preview invoice_due in de"))
	see("dd", "ist heute fällig")
	mailStyled(t, ctx)
	shoot("template")

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
	run(browsertest.Click("link", "Relay"))
	see("h2", "Last error")
	see("td/a", "Jira 9.5")
	shoot("relay")

	run(browsertest.Click("link", "API tokens"))
	see("h1", "API tokens")
	run(browsertest.Fill("Name", "billing-sync"), browsertest.Click("button", "Make token"))
	see("h2", "The token billing-sync")
	shoot("token-made")
	run(browsertest.Click("link", "Revoke billing-sync…"))
	see("h2", "Revoke billing-sync?")
	shoot("token-revoke")
	run(browsertest.Click("button", "Revoke billing-sync"))
	see(`p[@class="flash ok"]`, "Revoked billing-sync")

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
	run(browsertest.Click("link", "Queues"))
	// asynqmon's script ran: it drew its dashboard with the queue.
	see("*", b.Queue.Name())
	run(chromedp.Sleep(2 * time.Second)) // its charts grow in
	browsertest.ScreenshotWindow(t, ctx, "console-ops-queues")
	run(chromedp.Navigate(b.URL + "/console/queues/queues/" + b.Queue.Name() + "?status=scheduled"))
	see("*", "send:"+strconv.FormatInt(a.ID, 10)+":0")
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
