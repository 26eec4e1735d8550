package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
)

// TestPublicListener checks HERALD_PUBLIC_ADDR: the public listener serves
// the portal, unsubscribe links and their assets, and nothing of the API;
// the API's listener still serves everything.
func TestPublicListener(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	get := func(base, path string, token bool) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token {
			req.Header.Set("Authorization", "Bearer "+b.Token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Content-Type")
	}
	for _, tc := range []struct {
		base, path string
		want       int
	}{
		{b.PublicURL, "/account/sign-in", http.StatusOK},
		{b.PublicURL, "/assets/herald.css", http.StatusOK},
		{b.PublicURL, "/unsubscribe/not-a-token", http.StatusNotFound}, // served: the page says the link is not valid
		{b.PublicURL, "/healthz", http.StatusOK},
		{b.PublicURL, "/api/v1/licenses", http.StatusNotFound},
		{b.PublicURL, "/api/v1/openapi.json", http.StatusNotFound},
		{b.PublicURL, "/metrics", http.StatusNotFound},
		{b.PublicURL, "/readyz", http.StatusNotFound},
		{b.URL, "/api/v1/licenses", http.StatusOK},
		{b.URL, "/metrics", http.StatusOK},
		{b.URL, "/account/sign-in", http.StatusOK},
	} {
		if got, _ := get(tc.base, tc.path, true); got != tc.want {
			t.Errorf("GET %s%s: %d, want %d", tc.base, tc.path, got, tc.want)
		}
	}
	// A page sends its Origin with its forms: under no-referrer, browsers
	// send "Origin: null", which the form check refuses.
	res, err := http.Get(b.PublicURL + "/account/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for header, want := range map[string]string{
		"Referrer-Policy":         "same-origin",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Cache-Control":           "no-store",
	} {
		if got := res.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if _, ct := get(b.PublicURL, "/assets/herald.css", false); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("herald.css served as %q", ct)
	}
	if _, ct := get(b.PublicURL, "/unsubscribe/not-a-token", false); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("the unsubscribe page on the public listener is %q", ct)
	}
}

// TestSignInLimits checks that links are limited per address and per
// client, and that the page says the same whether or not one is sent.
func TestSignInLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	sent := func(email string) int {
		var n int
		if err := db.Get(context.Background(), b.DB, &n, `SELECT COUNT(*) FROM announcements WHERE kind = ? AND audience LIKE ?`,
			kinds.SignIn, "%"+email+"%"); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := b.browser(t).askLink("ann@acme.test")
	for range 6 {
		if p := b.browser(t).askLink("ann@acme.test"); p.status != first.status || p.body != first.body {
			t.Fatalf("a request over the limit is answered differently: %d\n%s", p.status, p.body)
		}
	}
	if got := sent("ann@acme.test"); got != 5 {
		t.Errorf("%d sign-in mails for one address in an hour, want 5", got)
	}
	// Other addresses from the same client count against the client's 20.
	for range 20 {
		b.browser(t).askLink("stranger@example.test")
	}
	if got := sent("bill@acme.test"); got != 0 {
		t.Fatalf("bill asked for nothing, got %d", got)
	}
	b.browser(t).askLink("bill@acme.test")
	if got := sent("bill@acme.test"); got != 0 {
		t.Errorf("a client over its limit still had a link sent (%d)", got)
	}
}
