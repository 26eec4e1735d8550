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
	shoot := func(name string) { browsertest.Screenshot(t, ctx, name) }
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	run(chromedp.Navigate(b.PublicURL + "/account"))
	shoot("signin")
	run(browsertest.Fill("Email address", "ann@acme.test"))
	t.Log("filled")
	run(browsertest.Click("button", "Send me a sign-in link"))
	t.Log("clicked")
	run(chromedp.WaitVisible(`//p[@class="hint"]`))
	shoot("sent")
	link := b.linkFor(t, "ann@acme.test", 1)
	run(chromedp.Navigate(b.PublicURL + link))
	shoot("link")
	run(browsertest.Click("button", "Sign in"), chromedp.WaitVisible("details.license"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll("details").forEach(d => d.open = true), true`)); err != nil {
		t.Fatal(err)
	}
	shoot("account")
	run(chromedp.EmulateViewport(390, 844))
	shoot("account-phone")
	run(chromedp.EmulateViewport(1024, 900), chromedp.Navigate(b.PublicURL+"/account/preferences"))
	shoot("preferences")
	if os.Getenv(browsertest.ScreenshotsEnv) == "" {
		t.Logf("set %s to keep the screenshots", browsertest.ScreenshotsEnv)
	}
}
