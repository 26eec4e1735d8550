package console_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/smtptest"
)

// TestBroadcastFlowInBrowser is issue 12's story in Chromium: Eve, an
// editor, signs in with a printed link, writes a broadcast to the
// technical contacts of Jira, checks the count against the store, sends a
// test to herself, sends it, and watches the progress bar reach done on
// the announcement's page, updated live (the page is not reloaded); then
// she opens a recipient's page and sees the delivery. The relay holds the
// broadcast's messages until the page has shown it sending, so that the
// live update is seen, not a page that loaded after the end.
func TestBroadcastFlowInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	gate := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	b := setupWith(t, apptest.Options{Database: dbtest.Any(), API: true, Workers: true, SMTP: func(s *smtptest.Server) {
		s.Data = func(_ int, to []string) error {
			if !slices.Contains(to, "eve@herald.test") {
				<-gate // the broadcast waits; the test to Eve does not
			}
			return nil
		}
	}})
	b.customers(t)
	for _, l := range []struct{ id, product, who string }{
		{"INITECH-3", "jira", "pete@initech.test"}, {"STARK-9", "jira", "pepper@stark.test"},
	} {
		b.License(t, l.id, l.product, contacts.Active, apptest.Tech(l.who, ""))
	}
	want, err := kinds.BroadcastAudience{Roles: []contacts.Role{contacts.Technical}, Products: []string{"jira"}}.Count(context.Background(), b.Contacts)
	if err != nil {
		t.Fatal(err)
	}
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: "console-flow-"}
	recipients := fmt.Sprintf("%d recipients", want.Recipients)

	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "eve@herald.test")))
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")
	tab.Do(browsertest.Click("link", "Announcements"), browsertest.Click("link", "New broadcast"))
	tab.See("h1", "New broadcast")
	tab.Do(browsertest.Fill("Subject", "Jira maintenance window"),
		chromedp.SendKeys("textbox Message", "Jira Cloud sync pauses on **Sunday** from 02:00 to 03:00 UTC.\n",
			browsertest.Named("textbox", "Message (Markdown)")),
		chromedp.Click("checkbox technical", browsertest.Named("checkbox", "technical")),
		chromedp.Click("checkbox jira", browsertest.Named("checkbox", "jira")),
		browsertest.Click("button", "Preview"))
	// The count is the store's: the technical contacts of Jira's active
	// licenses, less the opted out.
	tab.See(`p[@class="count"]`, recipients)

	tab.Do(browsertest.Click("button", "Send a test to me"))
	tab.See(`p[@class="flash ok"]`, "Sent a test to eve@herald.test, and to no one else.")
	if !apptest.Eventually(10*time.Second, func() bool { return len(b.SMTP.Messages()) == 1 }) {
		t.Fatalf("the test: %d messages", len(b.SMTP.Messages()))
	}
	if m := b.SMTP.Messages()[0]; !slices.Equal(m.To, []string{"eve@herald.test"}) || !strings.HasPrefix(m.Header.Get("Subject"), "[TEST]") {
		t.Errorf("the test went to %v as %q", m.To, m.Header.Get("Subject"))
	}

	tab.Do(browsertest.Click("button", "Continue"))
	tab.See("h2", "to "+recipients+"?")
	tab.Do(browsertest.Click("button", fmt.Sprintf("Send to %s", recipients)))
	tab.See(`p[@class="flash ok"]`, fmt.Sprintf("Sending to %s.", recipients))
	// The relay holds the messages: the page shows the broadcast under way.
	tab.See(`span[@data-progress-status]`, "sending")
	tab.See(`span[@data-progress-live]`, "Updates by itself while it sends.")
	// A mark on the page tells a live update from a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.heraldTestMark = "same page"`)); err != nil {
		t.Fatal(err)
	}
	tab.Shoot("sending")
	release()
	tab.See(`span[@data-progress-status]`, "done")
	type progressBar struct {
		Value, Max float64
		Mark       string
	}
	bar, err := chromedp.Run(ctx, chromedp.Evaluate[progressBar](`({Value: document.querySelector("progress.big").value, Max: document.querySelector("progress.big").max, Mark: window.heraldTestMark || ""})`))
	if err != nil {
		t.Fatal(err)
	}
	// The deliveries are those sent and those skipped (opted out or
	// suppressed), all done.
	total := float64(want.Recipients + want.Skipped)
	if bar.Value != total || bar.Max != total || bar.Mark != "same page" {
		t.Errorf("the progress bar at done: %+v, want %v of %v on the same page", bar, total, total)
	}
	tab.See(`span[@data-progress-field="sent"]`, fmt.Sprint(want.Recipients))
	tab.See(`span[@data-progress-field="pending"]`, "0")
	tab.Shoot("done")

	// Over, the page offers to reload for what can be done now, and the
	// deliveries as they ended.
	tab.Do(browsertest.Click("link", "Reload to see what can be done now"))
	// The reloaded page of a finished announcement follows nothing.
	tab.Do(chromedp.WaitNotPresent(`//span[@data-progress-live]`))
	tab.See(`td/span[@class="status status-skipped"]`, "skipped")
	// A recipient's page shows the delivery.
	tab.Do(chromedp.Click(`//tbody//a[text()="gavin@hooli.test"]`))
	tab.See("h1", "gavin@hooli.test")
	tab.See("td/a", "Jira maintenance window")
	tab.See(`td/span[@class="status status-sent"]`, "sent")
	tab.Shoot("person")

	// Her own settings, from her address in the header.
	tab.Do(browsertest.Click("link", "eve@herald.test · editor"))
	tab.See("h1", "Your settings")
	tab.Do(chromedp.Clear("#me-timezone"), browsertest.Fill("Timezone", "America/New_York"), browsertest.Click("button", "Save"))
	tab.See(`p[@class="flash ok"]`, "Times are now shown in America/New_York.")
	tab.Shoot("me")
}
