package portal_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/dbtest"
)

func TestSignIn(t *testing.T) {
	t.Parallel()

	t.Run("LinkSignsInOnceAndOnlyByPost", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbtest.SQLite)
		br := b.browser(t)
		if p := br.get("/account"); p.status != http.StatusSeeOther || p.location() != "/account/sign-in" {
			t.Fatalf("/account before sign-in: %d to %q", p.status, p.location())
		}
		p := br.askLink("Ann@ACME.test")
		if p.status != http.StatusOK || !strings.Contains(p.body, "a sign-in link is on its way") {
			t.Fatalf("asking for a link: %d\n%s", p.status, p.body)
		}
		link := b.linkFor(t, "ann@acme.test", 1)

		// Opening the link (a mail scanner does) signs no one in.
		for range 2 {
			if p := br.get(link); p.status != http.StatusOK || !strings.Contains(p.body, ">Sign in</button>") {
				t.Fatalf("link page: %d\n%s", p.status, p.body)
			}
		}
		if p := br.get("/account"); p.status != http.StatusSeeOther {
			t.Fatalf("/account after only opening the link: %d", p.status)
		}
		p = br.submit(link, link, nil)
		if p.status != http.StatusSeeOther || p.location() != "/account" {
			t.Fatalf("POST link: %d to %q", p.status, p.location())
		}
		cookie := p.header.Get("Set-Cookie")
		for _, want := range []string{"herald_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		if p := br.get("/account"); p.status != http.StatusOK || !strings.Contains(p.body, "ACME-1") {
			t.Fatalf("/account after sign-in: %d\n%s", p.status, p.body)
		}

		// The link is used up, in this browser and any other.
		other := b.browser(t)
		if p := other.get(link); p.status != http.StatusNotFound || !strings.Contains(p.body, "This link no longer works") {
			t.Errorf("used link, GET: %d\n%s", p.status, p.body)
		}
		first := br.get("/account/sign-in") // a page with a valid token for the POST
		_ = first
		if p := other.submit("/account/sign-in", link, nil); p.status != http.StatusNotFound {
			t.Errorf("used link, POST: %d\n%s", p.status, p.body)
		}
		if p := other.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("/account with a used link: %d", p.status)
		}

		// The token is in no log line.
		token := strings.TrimPrefix(link, "/account/sign-in/")
		if strings.Contains(b.log.String(), token) {
			t.Errorf("the log holds the sign-in token")
		}
	})

	t.Run("SameAnswerForEveryAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbtest.SQLite)
		known := b.browser(t).askLink("ann@acme.test")
		unknown := b.browser(t).askLink("nobody@acme.test")
		if known.status != unknown.status || known.body != unknown.body {
			t.Errorf("known and unknown addresses answered differently:\n%d %s\n---\n%d %s", known.status, known.body, unknown.status, unknown.body)
		}
		b.linkFor(t, "ann@acme.test", 1)
		for _, m := range b.SMTP.Messages() {
			if m.To[0] == "nobody@acme.test" {
				t.Errorf("a sign-in mail went to an address that is no contact")
			}
		}
	})

	t.Run("ExpiredLink", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbtest.SQLite)
		br := b.browser(t)
		br.askLink("ann@acme.test")
		link := b.linkFor(t, "ann@acme.test", 1)
		page := br.get(link)
		b.Clock.Add(16 * time.Minute) // HERALD_SIGNIN_TTL is 15m
		if p := br.get(link); p.status != http.StatusNotFound {
			t.Errorf("expired link, GET: %d", p.status)
		}
		if p := br.post(link, map[string][]string{"csrf": {page.csrf(t)}}); p.status != http.StatusNotFound {
			t.Errorf("expired link, POST: %d\n%s", p.status, p.body)
		}
		if p := br.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("/account after an expired link: %d", p.status)
		}
	})

	t.Run("SessionEndsWhenIdle", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbtest.SQLite)
		br := b.browser(t)
		b.signIn(t, br, "ann@acme.test")
		b.Clock.Add(50 * time.Minute)
		if p := br.get("/account"); p.status != http.StatusOK {
			t.Fatalf("/account within the idle timeout: %d", p.status)
		}
		b.Clock.Add(50 * time.Minute) // 50m since the last request: within the hour
		if p := br.get("/account"); p.status != http.StatusOK {
			t.Fatalf("/account 50m after the last request: %d", p.status)
		}
		b.Clock.Add(61 * time.Minute)
		if p := br.get("/account"); p.status != http.StatusSeeOther || p.location() != "/account/sign-in" {
			t.Errorf("/account after an hour idle: %d to %q", p.status, p.location())
		}
	})

	t.Run("SignOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbtest.SQLite)
		br := b.browser(t)
		b.signIn(t, br, "ann@acme.test")
		u, _ := http.NewRequest("GET", b.PublicURL, nil)
		cookies := br.client.Jar.Cookies(u.URL)
		p := br.submit("/account", "/account/sign-out", nil)
		if p.status != http.StatusSeeOther || p.location() != "/account/sign-in" {
			t.Fatalf("sign-out: %d to %q", p.status, p.location())
		}
		if p := br.get("/account/sign-in"); !strings.Contains(p.body, "You are signed out.") {
			t.Errorf("no word of signing out:\n%s", p.body)
		}
		// The old cookie, kept by someone, no longer works.
		thief := b.browser(t)
		thief.client.Jar.SetCookies(u.URL, cookies)
		if p := thief.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("/account with the cookie of a signed-out session: %d", p.status)
		}
	})
}
