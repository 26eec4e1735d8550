package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

// history sends tom@acme.test a release notice (sent), a broadcast he has
// opted out of (skipped) and a broadcast his server refuses with a 550
// (failed, and so suppressed), and returns the three announcements.
func (b *testBundle) history(t *testing.T) [3]ledger.Announcement {
	t.Helper()
	ctx := context.Background()
	var out [3]ledger.Announcement
	out[0] = b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID)
	optOut := func(v bool) {
		if _, err := b.Contacts.UpdateContact(ctx, "tom@acme.test", contacts.ContactPatch{BroadcastOptOut: &v}); err != nil {
			t.Fatal(err)
		}
	}
	broadcast := func(subject string) ledger.Announcement {
		a, err := kinds.CreateBroadcast(ctx, b.Ledger, kinds.NewBroadcast{Subject: subject, Body: "Text.", Audience: kinds.BroadcastAudience{Products: []string{"jira"}}})
		if err != nil {
			t.Fatal(err)
		}
		b.Fanout(t, a)
		return b.WaitDone(t, a.ID)
	}
	optOut(true)
	out[1] = broadcast("Maintenance on Sunday")
	optOut(false)
	b.SMTP.Rcpt = func(to string) error {
		if to == "tom@acme.test" {
			return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user")
		}
		return nil
	}
	out[2] = broadcast("Security advisory")
	return out
}

// TestPersonPage answers "why did tom not get it?": his page lists his
// memberships, his suppression with the reply, and every delivery to him
// with its status and reason; a viewer reads it but may not lift or erase.
func TestPersonPage(t *testing.T) {
	t.Parallel()
	b := setupWith(t, apptest.Options{Database: dbtest.SQLite, API: true, Public: true, Workers: true})
	h := b.history(t)
	ctx := context.Background()

	viewer := b.browser(t)
	b.signIn(t, viewer, "vic@herald.test")
	// An exact address opens the page; part of one lists the matches.
	if p := viewer.get("/console/people?q=TOM@acme.test"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/people/tom@acme.test" {
		t.Fatalf("exact search: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := viewer.get("/console/people?q=acme"); p.status != http.StatusOK || !strings.Contains(p.body, `href="/console/people/tom@acme.test"`) ||
		!strings.Contains(p.body, `href="/console/people/ann@acme.test"`) || strings.Contains(p.body, "bob@other.test") {
		t.Fatalf("search: %d\n%s", p.status, p.body)
	}
	p := viewer.get("/console/people/tom@acme.test")
	if p.status != http.StatusOK {
		t.Fatalf("page: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{
		`<a href="/console/licenses/ACME-1">ACME-1</a>`,
		"no such user", "<dt>Code</dt><dd>550 (5.1.1)</dd>",
		fmt.Sprintf(`<a href="/console/announcements/%d">Jira 9.4</a>`, h[0].ID), `status-sent">sent</span>`,
		fmt.Sprintf(`<a href="/console/announcements/%d">Maintenance on Sunday</a>`, h[1].ID), `status-skipped">skipped</span>`,
		fmt.Sprintf(`<a href="/console/announcements/%d">Security advisory</a>`, h[2].ID), `status-failed">failed</span>`,
		"CET", // the viewer's timezone, Europe/Berlin
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(p.body, "Lift the suppression") || strings.Contains(p.body, "/erase") {
		t.Error("a viewer is shown the buttons")
	}
	if p := viewer.get("/console/people/nobody@acme.test"); p.status != http.StatusNotFound {
		t.Errorf("a stranger: %d, want 404", p.status)
	}
	if p := viewer.get("/console/people/tom@acme.test?status=lost"); p.status != http.StatusBadRequest {
		t.Errorf("a bad status: %d, want 400", p.status)
	}

	// The license page and the announcement page link to him.
	if p := viewer.get("/console/licenses/ACME-1"); !strings.Contains(p.body, `<a href="/console/people/tom@acme.test">tom@acme.test</a>`) {
		t.Error("the license page does not link to the person")
	}
	if p := viewer.get(fmt.Sprintf("/console/announcements/%d", h[2].ID)); !strings.Contains(p.body, `<a href="/console/people/tom@acme.test">`) {
		t.Error("the announcement page does not link to the person")
	}

	suppressed := func() bool {
		c, err := b.Contacts.GetContact(ctx, "tom@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		return c.Suppression != nil
	}
	if !suppressed() {
		t.Fatal("the 550 did not suppress tom")
	}
	const person = "/console/people/tom@acme.test"
	// A viewer and an editor are refused erasing, a viewer lifting; a
	// forged form is refused too; nothing changes.
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	for _, tt := range []struct {
		name string
		p    page
	}{
		{"viewer lifts", viewer.submit(person, person+"/unsuppress", nil)},
		{"viewer erases", viewer.submit(person, person+"/erase", nil)},
		{"viewer asks to erase", viewer.get(person + "/erase")},
		{"editor erases", editor.submit(person, person+"/erase", nil)},
		{"editor asks to erase", editor.get(person + "/erase")},
		{"forged lift", editor.post(person+"/unsuppress", url.Values{"csrf": {"forged"}})},
	} {
		if tt.p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tt.name, tt.p.status)
		}
	}
	if !suppressed() {
		t.Fatal("a refused lift lifted the suppression")
	}

	// The editor lifts it, audited as the console under her address.
	if p := editor.get(person); !strings.Contains(p.body, "Lift the suppression of tom@acme.test") || strings.Contains(p.body, "/erase") {
		t.Fatalf("the editor's buttons:\n%s", p.body)
	}
	if p := editor.submit(person, person+"/unsuppress", nil); p.status != http.StatusSeeOther || suppressed() {
		t.Fatalf("lift: %d, suppressed %v", p.status, suppressed())
	}
	audit, err := b.Contacts.ListAudit(ctx, contacts.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var lifted bool
	for _, e := range audit.Items {
		if e.Email == "tom@acme.test" && e.By.String() == "console:eve@herald.test" {
			lifted = true
		}
	}
	if !lifted {
		t.Errorf("the lift is not in the audit log as the console's: %+v", audit.Items)
	}
}

// TestErasePerson erases a person from the console: an admin confirms on
// a page that says what happens; a main contact is refused with the
// license named, and nothing changes.
func TestErasePerson(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	admin := b.browser(t)
	b.signIn(t, admin, "ada@herald.test")

	// ann is the main technical contact of ACME-1: refused, named.
	const ann = "/console/people/ann@acme.test"
	if p := admin.get(ann); !strings.Contains(p.body, `href="`+ann+`/erase"`) {
		t.Fatalf("no erase link for an admin:\n%s", p.body)
	}
	p := admin.get(ann + "/erase")
	if p.status != http.StatusOK || !strings.Contains(p.body, "one-way hash") || !strings.Contains(p.body, "Erase ann@acme.test</button>") {
		t.Fatalf("confirmation: %d\n%s", p.status, p.body)
	}
	p = admin.submit(ann+"/erase", ann+"/erase", nil)
	if p.status != http.StatusConflict || !strings.Contains(p.body, "ACME-1") || !strings.Contains(p.body, `class="flash error"`) {
		t.Fatalf("erasing a main contact: %d\n%s", p.status, p.body)
	}
	if _, err := b.Contacts.GetContact(context.Background(), "ann@acme.test"); err != nil {
		t.Fatalf("a refused erasure changed ann: %v", err)
	}

	// tom is neither main nor last: erased.
	const tom = "/console/people/tom@acme.test"
	p = admin.submit(tom+"/erase", tom+"/erase", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/people" {
		t.Fatalf("erasing tom: %d\n%s", p.status, p.body)
	}
	if p := admin.get("/console/people"); !strings.Contains(p.body, "Erased. Memberships removed: 1") {
		t.Errorf("no word of the erasure:\n%s", p.body)
	}
	if p := admin.get(tom); p.status != http.StatusNotFound {
		t.Errorf("tom's page after the erasure: %d, want 404", p.status)
	}
	if p := admin.post(tom+"/erase", url.Values{"csrf": {admin.get("/console/people").csrf(t)}}); p.status != http.StatusNotFound || !strings.Contains(p.body, "erased already") {
		t.Errorf("erasing tom again: %d\n%s", p.status, p.body)
	}
}
