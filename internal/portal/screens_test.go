package portal_test

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestScreens walks the portal's pages in Chromium by the names of their
// controls and takes a screenshot of each, for a person to judge
// (HERALD_TEST_SCREENSHOTS keeps them). The FAQ story itself is the
// browser test of the whole issue; this one checks that the pages work in
// a browser, with the page's own CSP, at a laptop's and a phone's width.
func TestScreens(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	b := setup(t, dbtest.SQLite)
	b.License(t, "ACME-2", "jira", "active", apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("dora@gmail.com", "Dora"))
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: ""}
	tab.Do(chromedp.Navigate(b.PublicURL + "/account"))
	tab.Shoot("signin")
	tab.Do(browsertest.Fill("Email address", "ann@acme.test"))
	t.Log("filled")
	tab.Do(browsertest.Click("button", "Send me a sign-in link"))
	t.Log("clicked")
	tab.Do(chromedp.WaitVisible(`//p[@class="hint"]`))
	tab.Shoot("sent")
	link := b.linkFor(t, "ann@acme.test", 1)
	tab.Do(chromedp.Navigate(b.PublicURL + link))
	tab.Shoot("link")
	tab.Do(browsertest.Click("button", "Sign in"), chromedp.WaitVisible("details.license"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll("details").forEach(d => d.open = true), true`)); err != nil {
		t.Fatal(err)
	}
	tab.Shoot("account")
	tab.Do(chromedp.EmulateViewport(390, 844))
	tab.Shoot("account-phone")
	tab.Do(chromedp.EmulateViewport(1024, 900), chromedp.Navigate(b.PublicURL+"/account/preferences"))
	tab.Shoot("preferences")
	if os.Getenv(browsertest.ScreenshotsEnv) == "" {
		t.Logf("set %s to keep the screenshots", browsertest.ScreenshotsEnv)
	}
}
