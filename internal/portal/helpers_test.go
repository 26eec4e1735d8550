package portal_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// testBundle is herald serving its API and, on a listener of their own,
// the public pages, with workers that send the sign-in mail.
type testBundle struct {
	*apptest.Bundle
	log *syncBuffer
}

func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	log := &syncBuffer{}
	b := apptest.Start(t, apptest.Options{Database: database, API: true, Public: true, Workers: true, Log: log})
	// Ann is the only technical contact of ACME-1; Bob is a contact of
	// another license, which Ann must never see or change.
	b.License(t, "ACME-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Billing("bill@acme.test", "Bill"))
	b.License(t, "OTHER-1", "jira", contacts.Active, apptest.Tech("bob@other.test", "Bob"), apptest.Billing("olga@other.test", "Olga"))
	return &testBundle{Bundle: b, log: log}
}

// browser is a person's browser: its cookies, the site it visits.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	// origin is the Origin its forms send ("" sends none).
	origin string
}

func (b *testBundle) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: b.PublicURL, origin: b.PublicURL, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is an answer as a test reads it.
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

func (p page) location() string { return p.header.Get("Location") }

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

// post sends a form as a browser does, from origin.
func (br *browser) post(path string, form url.Values) page {
	br.t.Helper()
	req, _ := http.NewRequest("POST", br.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if br.origin != "" {
		req.Header.Set("Origin", br.origin)
	}
	return br.do(req)
}

// submit posts a form of the page at from, with its token.
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

var linkPattern = regexp.MustCompile(`/account/sign-in/[A-Za-z0-9_-]{43}`)

// askLink asks for a sign-in link for email and returns the page shown.
func (br *browser) askLink(email string) page {
	br.t.Helper()
	return br.submit("/account/sign-in", "/account/sign-in", url.Values{"email": {email}})
}

// linkFor waits for the n-th sign-in mail to email and returns its link's
// path.
func (b *testBundle) linkFor(t *testing.T, email string, n int) string {
	t.Helper()
	var link string
	apptest.WaitFor(t, 30*time.Second, "sign-in mail to "+email, func() bool {
		seen := 0
		for _, m := range b.SMTP.Messages() {
			if len(m.To) == 1 && m.To[0] == email && strings.Contains(m.Header.Get("Subject"), "sign-in") {
				seen++
				if seen == n {
					text, _ := m.MustParts(t)
					link = linkPattern.FindString(text)
				}
			}
		}
		return link != ""
	})
	return link
}

// signIn signs email in on br through the mail, as a person does.
func (b *testBundle) signIn(t *testing.T, br *browser, email string) {
	t.Helper()
	n := 1
	for _, m := range b.SMTP.Messages() {
		if len(m.To) == 1 && m.To[0] == email && strings.Contains(m.Header.Get("Subject"), "sign-in") {
			n++
		}
	}
	br.askLink(email)
	link := b.linkFor(t, email, n)
	p := br.submit(link, link, nil)
	if p.status != http.StatusSeeOther || p.location() != "/account" {
		t.Fatalf("signing in: %d to %q\n%s", p.status, p.location(), p.body)
	}
}

// syncBuffer is herald's log, read by tests that check what it holds.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
