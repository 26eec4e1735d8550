package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Page is a test's tab: what it does fails the test when it goes wrong,
// and its screenshots are named with Prefix.
type Page struct {
	T      testing.TB
	Ctx    context.Context
	Prefix string
}

// seeTimeout bounds how long See waits for a page to say something.
const seeTimeout = 30 * time.Second

// Do runs actions, failing the test at the first that fails.
func (p Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	if err := chromedp.Do(p.Ctx, actions...); err != nil {
		p.T.Fatal(err)
	}
}

// See waits for an element (an XPath step such as h1 or
// *[@class="flash ok"]) saying text; if none comes, the test fails with
// what the page says.
func (p Page) See(step, text string) {
	p.T.Helper()
	wait, cancel := context.WithTimeout(p.Ctx, seeTimeout)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(fmt.Sprintf(`//%s[contains(normalize-space(.), %q)]`, step, text))); err != nil {
		body, _ := chromedp.Run(p.Ctx, chromedp.Text(chromedp.CSS("body")))
		p.T.Fatalf("no %s saying %q: %v; the page says:\n%s", step, text, err, body)
	}
}

// Shoot photographs the page as Prefix+name (see Screenshot).
func (p Page) Shoot(name string) { Screenshot(p.T, p.Ctx, p.Prefix+name) }
