package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
)

var consoleLink = regexp.MustCompile(`/console/sign-in/[A-Za-z0-9_-]{43}`)

// TestMailedLink asks for a link on the sign-in page: staff get one by
// mail, which signs in once; a stranger gets the same page and no mail;
// a sixth request within the hour sends nothing.
func TestMailedLink(t *testing.T) {
	t.Parallel()
	b := setupWith(t, apptest.Options{Database: dbtest.SQLite, API: true, Workers: true})
	br := b.browser(t)
	ask := func(email string) page {
		t.Helper()
		return br.submit("/console/sign-in", "/console/sign-in", url.Values{"email": {email}})
	}
	mails := func(to string) []string {
		var links []string
		for _, m := range b.SMTP.Messages() {
			if len(m.To) == 1 && m.To[0] == to {
				text, _ := m.MustParts(t)
				links = append(links, consoleLink.FindString(text))
			}
		}
		return links
	}

	stranger, staff := ask("mallory@evil.test"), ask("Ada@herald.test")
	if stranger.status != http.StatusOK || staff.status != http.StatusOK ||
		strings.ReplaceAll(stranger.body, "mallory@evil.test", "X") != strings.ReplaceAll(staff.body, "ada@herald.test", "X") {
		t.Errorf("the pages differ for staff and a stranger:\n%s\n---\n%s", stranger.body, staff.body)
	}
	var link string
	apptest.WaitFor(t, 30*time.Second, "the sign-in mail", func() bool {
		if l := mails("ada@herald.test"); len(l) == 1 {
			link = l[0]
		}
		return link != ""
	})
	signedIn := b.browser(t)
	if p := signedIn.submit(link, link, nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/licenses" {
		t.Fatalf("mailed link: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := b.browser(t).submit("/console/sign-in", link, nil); p.status != http.StatusNotFound {
		t.Errorf("the mailed link worked twice: %d", p.status)
	}

	if p := ask("not-an-address"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "not an email address") {
		t.Errorf("bad address: %d\n%s", p.status, p.body)
	}
	for range 5 { // 1 asked above + 4 = the limit of 5; the 6th sends nothing
		ask("ada@herald.test")
	}
	b.WaitAllDone(t)
	if n := len(mails("ada@herald.test")); n != 5 {
		t.Errorf("%d mails to ada, want 5 (the limit)", n)
	}
	if n := len(mails("mallory@evil.test")); n != 0 {
		t.Errorf("a stranger got %d mails", n)
	}

	// The first mail's announcement lists its delivery, filtered.
	for _, tt := range []struct {
		query  string
		status int
		shows  bool
	}{
		{"", http.StatusOK, true},
		{"?status=sent", http.StatusOK, true},
		{"?status=failed", http.StatusOK, false},
		{"?email=ADA@herald.test", http.StatusOK, true},
		{"?email=bob@herald.test", http.StatusOK, false},
		{"?status=lost", http.StatusBadRequest, false},
	} {
		p := signedIn.get("/console/announcements/1" + tt.query)
		if p.status != tt.status || strings.Contains(p.body, `<td><a href="/console/people/ada@herald.test">ada@herald.test</a></td>`) != tt.shows {
			t.Errorf("deliveries%s: %d, shows ada %v; want %d, %v\n%s", tt.query, p.status, !tt.shows, tt.status, tt.shows, p.body)
		}
	}
}
