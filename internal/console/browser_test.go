package console_test

import (
	"context"
	"fmt"
	"os"
	"testing"

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
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: "console-"}
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+"/console"))
	tab.See("h1", "Sign in to the console")
	tab.Shoot("signin")

	tab.Do(chromedp.Navigate(b.URL + b.linkPath(t, "eve@herald.test")))
	tab.See("p", "This link signs in eve@herald.test")
	tab.Shoot("link")
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")
	tab.See(`span[@class="who-am-i"]`, "eve@herald.test · editor")
	tab.Shoot("licenses")

	tab.Do(chromedp.SendKeys("searchbox", "tom@acme", browsertest.Named("searchbox", "Search")), browsertest.Click("button", "Search"))
	tab.See("td", "ACME-1")
	tab.Shoot("licenses-search")
	tab.Do(chromedp.Click(`//a[text()="ACME-1"]`))
	tab.See("h1", "ACME-1 · jira")

	tab.Do(browsertest.Fill("Email", "kim@acme.test"), browsertest.Fill("Name", "Kim"), browsertest.Click("button", "Add contact"))
	tab.See(`p[@class="flash ok"]`, "Added kim@acme.test as a technical contact.")
	tab.Do(browsertest.Click("button", "Make kim@acme.test the main technical contact"))
	tab.See(`p[@class="flash ok"]`, "kim@acme.test is now the main technical contact.")
	tab.Shoot("license")

	l, err := b.Contacts.GetLicense(context.Background(), "ACME-1")
	if err != nil {
		t.Fatal(err)
	}
	if mainOf(l.Technical) != "kim@acme.test" {
		t.Errorf("main technical contact = %q, want kim@acme.test", mainOf(l.Technical))
	}
	tab.Do(chromedp.EmulateViewport(390, 844))
	tab.Shoot("license-phone")
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+"/console/import"))
	tab.See("h1", "Import contacts")
	tab.Shoot("import")
	// A release notice goes out; a recipient's page shows its delivery.
	release := b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID)
	tab.Do(browsertest.Click("link", "Announcements"))
	tab.See("h1", "Announcements")
	tab.Shoot("announcements")
	tab.Do(chromedp.Click(`//tbody/tr[1]/td[2]/a`))
	tab.See("h2", "Progress")
	tab.Shoot("announcement")
	tab.Do(chromedp.Navigate(b.URL + "/console/people?q=acme"))
	tab.See("td/a", "tom@acme.test")
	tab.Shoot("people")
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/console/announcements/%d", b.URL, release.ID)))
	tab.See("h2", "Progress")
	// Tom's server refused a later mail: Eve sees why, and lifts it.
	if err := b.Contacts.Suppress(context.Background(), "tom@acme.test", contacts.Suppression{Reply: "550 5.1.1 <tom@acme.test>: no such user", Code: 550, Enhanced: "5.1.1"}); err != nil {
		t.Fatal(err)
	}
	tab.Do(chromedp.Click(`//tbody//a[text()="tom@acme.test"]`))
	tab.See("h1", "tom@acme.test")
	tab.See(`td/span[@class="status status-sent"]`, "sent")
	tab.See("td/a", "Jira 9.4")
	tab.See("code", "no such user")
	tab.Shoot("person")
	tab.Do(browsertest.Click("button", "Lift the suppression of tom@acme.test"))
	tab.See(`p[@class="flash ok"]`, "Lifted the suppression of tom@acme.test")

	// Ada, an admin, manages the staff.
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "ada@herald.test")))
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")
	// Ada is shown what erasing Tom would do, and keeps him.
	tab.Do(chromedp.Navigate(b.URL + "/console/people/tom@acme.test"))
	tab.Do(browsertest.Click("link", "Erase tom@acme.test…"))
	tab.See("h2", "Erase tom@acme.test?")
	tab.Shoot("erase")
	tab.Do(browsertest.Click("button", "Keep them"))
	// The erase page's question is gone: the person's page has loaded,
	// and its links are the ones clicked next.
	tab.Do(chromedp.WaitNotPresent(`//h2[contains(., "Erase tom@acme.test?")]`))
	tab.See("h1", "tom@acme.test")
	tab.Do(chromedp.Click(`//nav//a[text()="Staff"]`))
	tab.See("h1", "Staff")
	tab.Do(browsertest.Fill("Email", "kai@herald.test"), browsertest.Click("button", "Add staff member"))
	tab.See(`p[@class="flash ok"]`, "Added kai@herald.test as a viewer.")
	tab.Shoot("staff")
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
