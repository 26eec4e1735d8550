package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/staff"
)

// testBundle is herald serving its API, and so the console, with three
// staff members (one per role) and two licenses.
type testBundle struct {
	*apptest.Bundle
}

func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	return setupWith(t, apptest.Options{Database: database, API: true, Public: true})
}

func setupWith(t *testing.T, opts apptest.Options) *testBundle {
	t.Helper()
	b := apptest.Start(t, opts)
	ctx := context.Background()
	for email, role := range map[string]staff.Role{"ada@herald.test": staff.Admin, "eve@herald.test": staff.Editor, "vic@herald.test": staff.Viewer} {
		if _, err := b.Staff().Add(ctx, contacts.Actor{Via: contacts.ViaCLI, Name: "test"}, email, role, "Europe/Berlin"); err != nil {
			t.Fatal(err)
		}
	}
	b.License(t, "ACME-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("tom@acme.test", "Tom"), apptest.Billing("bill@acme.test", "Bill"))
	b.License(t, "OTHER-1", "confluence", contacts.Expired, apptest.Tech("bob@other.test", "Bob"))
	return &testBundle{Bundle: b}
}

// browser is a staff member's browser.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	origin string
}

func (b *testBundle) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: b.URL, origin: b.URL, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form token on the page:\n%s", p.body)
	}
	return m[1]
}

func (br *browser) do(req *http.Request) page {
	br.t.Helper()
	res, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (br *browser) get(path string) page {
	br.t.Helper()
	req, _ := http.NewRequest("GET", br.base+path, nil)
	return br.do(req)
}

func (br *browser) post(path string, form url.Values) page {
	br.t.Helper()
	req, _ := http.NewRequest("POST", br.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if br.origin != "" {
		req.Header.Set("Origin", br.origin)
	}
	return br.do(req)
}

// submit posts to `to` a form with the token of the page at from.
func (br *browser) submit(from, to string, form url.Values) page {
	br.t.Helper()
	p := br.get(from)
	if p.status != http.StatusOK {
		br.t.Fatalf("GET %s: %d\n%s", from, p.status, p.body)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", p.csrf(br.t))
	return br.post(to, form)
}

// linkPath is the path of a fresh printed sign-in link for email.
func (b *testBundle) linkPath(t *testing.T, email string) string {
	t.Helper()
	link, err := b.ConsoleSignInLink(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// signIn signs email in on br with a printed link.
func (b *testBundle) signIn(t *testing.T, br *browser, email string) {
	t.Helper()
	link := b.linkPath(t, email)
	p := br.submit(link, link, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/licenses" {
		t.Fatalf("signing in: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
}
