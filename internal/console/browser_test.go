package console_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

// TestBrowserFlow is a staff member's call in Chromium: Eve, an editor,
// signs in with a printed link, finds ACME-1 by a contact's address, adds
// Kim and makes Kim the main technical contact with ↑. Each page is
// photographed (HERALD_TEST_SCREENSHOTS keeps the pictures).
func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	// The workers send, so that a recipient's page has a delivery.
	b := setupWith(t, apptest.Options{Database: dbtest.SQLite, API: true, Public: true, Workers: true})
	// Enough licenses for the list to read as it will in use.
	for _, l := range []struct{ id, product, status, who string }{
		{"GLOBEX-7", "confluence", "active", "hank@globex.test"}, {"INITECH-3", "jira", "cancelled", "pete@initech.test"},
		{"UMBRELLA-12", "bitbucket", "active", "alice@umbrella.test"}, {"HOOLI-5", "jira", "active", "gavin@hooli.test"},
	} {
		b.License(t, l.id, l.product, contacts.Status(l.status), apptest.Tech(l.who, ""))
	}
	shoot := func(name string) { browsertest.Screenshot(t, ctx, "console-"+name) }
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	// see waits for an element (an XPath step such as h1 or
	// *[@class="flash ok"]) saying text.
	see := func(step, text string) {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(wait, chromedp.WaitVisible(fmt.Sprintf(`//%s[contains(normalize-space(.), %q)]`, step, text))); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("no %s saying %q: %v; the page says:\n%s", step, text, err, body)
		}
	}
	run(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+"/console"))
	see("h1", "Sign in to the console")
	shoot("signin")

	run(chromedp.Navigate(b.URL + b.linkPath(t, "eve@herald.test")))
	see("p", "This link signs in eve@herald.test")
	shoot("link")
	run(browsertest.Click("button", "Sign in"))
	see("h1", "Licenses")
	see(`span[@class="who-am-i"]`, "eve@herald.test · editor")
	shoot("licenses")

	run(chromedp.SendKeys("searchbox", "tom@acme", browsertest.Named("searchbox", "Search")), browsertest.Click("button", "Search"))
	see("td", "ACME-1")
	shoot("licenses-search")
	run(chromedp.Click(`//a[text()="ACME-1"]`))
	see("h1", "ACME-1 · jira")

	run(browsertest.Fill("Email", "kim@acme.test"), browsertest.Fill("Name", "Kim"), browsertest.Click("button", "Add contact"))
	see(`p[@class="flash ok"]`, "Added kim@acme.test as a technical contact.")
	run(browsertest.Click("button", "Make kim@acme.test the main technical contact"))
	see(`p[@class="flash ok"]`, "kim@acme.test is now the main technical contact.")
	shoot("license")

	l, err := b.Contacts.GetLicense(context.Background(), "ACME-1")
	if err != nil {
		t.Fatal(err)
	}
	if mainOf(l.Technical) != "kim@acme.test" {
		t.Errorf("main technical contact = %q, want kim@acme.test", mainOf(l.Technical))
	}
	run(chromedp.EmulateViewport(390, 844))
	shoot("license-phone")
	run(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+"/console/import"))
	see("h1", "Import contacts")
	shoot("import")
	// A release notice goes out; a recipient's page shows its delivery.
	release := b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID)
	run(browsertest.Click("link", "Announcements"))
	see("h1", "Announcements")
	shoot("announcements")
	run(chromedp.Click(`//tbody/tr[1]/td[2]/a`))
	see("h2", "Progress")
	shoot("announcement")
	run(chromedp.Navigate(b.URL + "/console/people?q=acme"))
	see("td/a", "tom@acme.test")
	shoot("people")
	run(chromedp.Navigate(fmt.Sprintf("%s/console/announcements/%d", b.URL, release.ID)))
	see("h2", "Progress")
	// Tom's server refused a later mail: Eve sees why, and lifts it.
	if err := b.Contacts.Suppress(context.Background(), "tom@acme.test", contacts.Suppression{Reply: "550 5.1.1 <tom@acme.test>: no such user", Code: 550, Enhanced: "5.1.1"}); err != nil {
		t.Fatal(err)
	}
	run(chromedp.Click(`//tbody//a[text()="tom@acme.test"]`))
	see("h1", "tom@acme.test")
	see(`td/span[@class="status status-sent"]`, "sent")
	see("td/a", "Jira 9.4")
	see("code", "no such user")
	shoot("person")
	run(browsertest.Click("button", "Lift the suppression of tom@acme.test"))
	see(`p[@class="flash ok"]`, "Lifted the suppression of tom@acme.test")

	// Ada, an admin, manages the staff.
	run(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "ada@herald.test")))
	run(browsertest.Click("button", "Sign in"))
	see("h1", "Licenses")
	// Ada is shown what erasing Tom would do, and keeps him.
	run(chromedp.Navigate(b.URL + "/console/people/tom@acme.test"))
	run(browsertest.Click("link", "Erase tom@acme.test…"))
	see("h2", "Erase tom@acme.test?")
	shoot("erase")
	run(browsertest.Click("button", "Keep them"))
	// The erase page's question is gone: the person's page has loaded,
	// and its links are the ones clicked next.
	run(chromedp.WaitNotPresent(`//h2[contains(., "Erase tom@acme.test?")]`))
	see("h1", "tom@acme.test")
	run(chromedp.Click(`//nav//a[text()="Staff"]`))
	see("h1", "Staff")
	run(browsertest.Fill("Email", "kai@herald.test"), browsertest.Click("button", "Add staff member"))
	see(`p[@class="flash ok"]`, "Added kai@herald.test as a viewer.")
	shoot("staff")
	if os.Getenv(browsertest.ScreenshotsEnv) == "" {
		t.Logf("set %s to keep the screenshots", browsertest.ScreenshotsEnv)
	}
}

func mainOf(ms []contacts.Member) string {
	for _, m := range ms {
		if m.Main {
			return m.Email
		}
	}
	return ""
}
