package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/internal/browsertest"
)

// TestFindsControlsByTheirNames drives a form as a person does: a field by
// its label, a button by its accessible name, even where the name comes
// from aria-label rather than the text shown (↑, ×).
func TestFindsControlsByTheirNames(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodPost {
			r.ParseForm()
			fmt.Fprintf(w, `<!doctype html><title>Done</title><p id="said">%s pressed %s</p>`, r.PostFormValue("email"), r.PostFormValue("do"))
			return
		}
		fmt.Fprint(w, `<!doctype html><title>Form</title><form method="post">
			<label for="e">Email address</label><input id="e" name="email">
			<button name="do" value="up" aria-label="Make bob@acme.test the main technical contact">↑</button>
			<button name="do" value="remove" aria-label="Remove bob@acme.test from technical contacts">×</button>
		</form>`)
	}))
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		browsertest.Fill("Email address", "ann@acme.test"),
		browsertest.Click("button", "Make bob@acme.test the main technical contact"),
		chromedp.WaitVisible(chromedp.ID("said")),
	)
	if err != nil {
		t.Fatal(err)
	}
	said, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("said")))
	if err != nil || said != "ann@acme.test pressed up" {
		t.Errorf("the page says %q, %v; want the field and the button the test chose", said, err)
	}
	if path := browsertest.Screenshot(t, ctx, "form"); path == "" {
		t.Error("no screenshot")
	} else if b, err := os.ReadFile(path); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s is no PNG (starts % x): %v", path, b[:min(len(b), 8)], err)
	}
}
