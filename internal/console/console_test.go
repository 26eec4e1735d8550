package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/staff"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	br := b.browser(t)

	if p := br.get("/console/licenses"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/sign-in" {
		t.Fatalf("signed out, the list: %d to %q", p.status, p.header.Get("Location"))
	}
	link := b.linkPath(t, "eve@herald.test")
	// Opening the link (as a mail scanner does) signs no one in.
	if p := br.get(link); p.status != http.StatusOK || !strings.Contains(p.body, "eve@herald.test") {
		t.Fatalf("link page: %d\n%s", p.status, p.body)
	}
	if p := br.get("/console/licenses"); p.status != http.StatusSeeOther {
		t.Fatalf("a GET of the link signed in: %d", p.status)
	}
	p := br.submit(link, link, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/licenses" {
		t.Fatalf("sign-in: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := br.get("/console/licenses"); p.status != http.StatusOK || !strings.Contains(p.body, "eve@herald.test · editor") {
		t.Fatalf("signed in, the list: %d\n%s", p.status, p.body)
	}
	// The link is used: a second browser cannot use it.
	if p := b.browser(t).get(link); p.status != http.StatusNotFound {
		t.Errorf("a used link's page: %d, want 404", p.status)
	}

	// Lowering the role takes effect at once and ends the session.
	if _, err := b.Staff().SetRole(context.Background(), "eve@herald.test", staff.Viewer); err != nil {
		t.Fatal(err)
	}
	if p := br.get("/console/licenses"); p.status != http.StatusSeeOther {
		t.Errorf("after demotion: %d, want a redirect to sign in", p.status)
	}

	// The console is not on the public listener.
	res, err := http.Get(b.PublicURL + "/console/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public listener /console/sign-in: %d, want 404", res.StatusCode)
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	if p := br.submit("/console/licenses", "/console/sign-out", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/sign-in" {
		t.Fatalf("sign-out: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := br.get("/console/licenses"); p.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", p.status)
	}
}

func TestLicenses(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	for _, tt := range []struct {
		query      string
		want, omit []string
		status     int
	}{
		{"", []string{"ACME-1", "OTHER-1"}, nil, 200},
		{"?q=bob%40other", []string{"OTHER-1"}, []string{"ACME-1"}, 200},
		{"?product=jira", []string{"ACME-1"}, []string{"OTHER-1"}, 200},
		{"?status=expired", []string{"OTHER-1"}, []string{">ACME-1<"}, 200},
		{"?status=lost", []string{"status", "ACME-1"}, nil, 400},
		{"?after=garbage", []string{"ACME-1"}, nil, 400},
	} {
		t.Run(tt.query, func(t *testing.T) {
			p := br.get("/console/licenses" + tt.query)
			if p.status != tt.status {
				t.Errorf("status %d, want %d\n%s", p.status, tt.status, p.body)
			}
			for _, s := range tt.want {
				if !strings.Contains(p.body, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tt.omit {
				if strings.Contains(p.body, `href="/console/licenses/`+strings.Trim(s, "<>")+`"`) {
					t.Errorf("shows %q", s)
				}
			}
		})
	}
	p := br.get("/console/licenses/ACME-1")
	if p.status != http.StatusOK || !strings.Contains(p.body, "tom@acme.test") || !strings.Contains(p.body, "bill@acme.test") {
		t.Fatalf("license page: %d\n%s", p.status, p.body)
	}
	// A viewer sees no buttons or forms that change anything.
	if strings.Contains(p.body, "Make tom@acme.test the main technical contact") || strings.Contains(p.body, "Add contact") {
		t.Error("a viewer is shown the change buttons")
	}
	if p := br.get("/console/licenses/NOPE-1"); p.status != http.StatusNotFound {
		t.Errorf("no such license: %d", p.status)
	}
}

// TestEditorChanges makes each change as an editor, through the store's
// rules, and finds it in the audit log under the editor's address.
func TestEditorChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	br := b.browser(t)
	b.signIn(t, br, "eve@herald.test")
	const lic = "/console/licenses/ACME-1"
	ok := func(what string, p page) {
		t.Helper()
		if p.status != http.StatusSeeOther || p.header.Get("Location") != lic {
			t.Fatalf("%s: %d to %q\n%s", what, p.status, p.header.Get("Location"), p.body)
		}
	}
	ok("add", br.submit(lic, lic+"/contacts", url.Values{"email": {"Kim@Acme.test"}, "name": {"Kim"}, "role": {"technical"}}))
	ok("promote", br.submit(lic, lic+"/promote", url.Values{"email": {"tom@acme.test"}, "role": {"technical"}}))
	ok("remove", br.submit(lic, lic+"/remove", url.Values{"email": {"ann@acme.test"}, "role": {"technical"}}))
	ok("edit", br.submit(lic, lic, url.Values{"name": {"Acme Corp"}, "status": {"expired"}, "timezone": {"America/New_York"}}))

	l, err := b.Contacts.GetLicense(ctx, "ACME-1")
	if err != nil {
		t.Fatal(err)
	}
	var tech []string
	for _, m := range l.Technical {
		s := m.Email
		if m.Main {
			s += "*"
		}
		tech = append(tech, s)
	}
	if strings.Join(tech, ",") != "tom@acme.test*,kim@acme.test" && strings.Join(tech, ",") != "kim@acme.test,tom@acme.test*" {
		t.Errorf("technical = %v", tech)
	}
	if l.Name != "Acme Corp" || l.Status != contacts.Expired || l.Timezone != "America/New_York" {
		t.Errorf("license = %+v", l)
	}
	audit, err := b.Contacts.ListAudit(ctx, contacts.AuditFilter{LicenseID: "ACME-1", Via: contacts.ViaConsole})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit.Items) < 3 {
		t.Fatalf("audit by the console: %+v", audit.Items)
	}
	for _, e := range audit.Items {
		if e.By.Name != "eve@herald.test" {
			t.Errorf("audit entry by %v, want eve@herald.test", e.By)
		}
	}
	p := br.get(lic)
	if !strings.Contains(p.body, "console:eve@herald.test") {
		t.Error("the license page's audit log does not name the editor")
	}

	// The store's rules hold: the last billing contact stays, and the
	// page says why, changing nothing.
	p = br.submit(lic, lic+"/remove", url.Values{"email": {"bill@acme.test"}, "role": {"billing"}})
	if p.status < 400 || p.status >= 500 || !strings.Contains(p.body, "bill@acme.test") {
		t.Errorf("removing the last billing contact: %d\n%s", p.status, p.body)
	}
	for _, tt := range []struct {
		name, path string
		form       url.Values
		field      string
	}{
		{"AddNotAnAddress", "/contacts", url.Values{"email": {"kim"}, "role": {"technical"}}, "not an email address"},
		{"AddBadRole", "/contacts", url.Values{"email": {"zed@acme.test"}, "role": {"boss"}}, "role"},
		{"EditBadStatus", "", url.Values{"name": {"X"}, "status": {"lost"}, "timezone": {""}}, "status"},
		{"EditBadZone", "", url.Values{"name": {"X"}, "status": {"active"}, "timezone": {"Mars/Olympus"}}, "Mars/Olympus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := br.submit(lic, lic+tt.path, tt.form)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.field) {
				t.Errorf("%d, want 400 naming %q\n%s", p.status, tt.field, p.body)
			}
		})
	}
	after, _ := b.Contacts.GetLicense(ctx, "ACME-1")
	if after.Name != "Acme Corp" || len(after.Technical) != 2 || len(after.Billing) != 1 {
		t.Errorf("bad input changed the license: %+v", after)
	}
}

// TestForms tries each form with a forged token, from a foreign origin,
// and with a viewer's own session: each is refused with 403 and nothing
// changes.
func TestForms(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	const lic = "/console/licenses/ACME-1"
	forms := []struct {
		name, path string
		form       url.Values
		viewer     bool // a viewer is refused it (sign-out is theirs)
	}{
		{"Add", lic + "/contacts", url.Values{"email": {"kim@acme.test"}, "role": {"technical"}}, true},
		{"Promote", lic + "/promote", url.Values{"email": {"tom@acme.test"}, "role": {"technical"}}, true},
		{"Remove", lic + "/remove", url.Values{"email": {"tom@acme.test"}, "role": {"technical"}}, true},
		{"Edit", lic, url.Values{"name": {"Forged"}, "status": {"cancelled"}, "timezone": {""}}, true},
		{"SignOut", "/console/sign-out", url.Values{}, false},
		{"AskLink", "/console/sign-in", url.Values{"email": {"ada@herald.test"}}, false},
	}
	before, _ := b.Contacts.GetLicense(ctx, "ACME-1")
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	viewer := b.browser(t)
	b.signIn(t, viewer, "vic@herald.test")
	foreign := b.browser(t)
	b.signIn(t, foreign, "eve@herald.test")
	foreign.origin = "https://evil.test"
	for _, f := range forms {
		t.Run(f.name+"/ForgedToken", func(t *testing.T) {
			form := url.Values{}
			for k, v := range f.form {
				form[k] = v
			}
			form.Set("csrf", "forged")
			if p := editor.post(f.path, form); p.status != http.StatusForbidden {
				t.Errorf("%d, want 403", p.status)
			}
		})
		t.Run(f.name+"/ForeignOrigin", func(t *testing.T) {
			if p := foreign.submit(lic, f.path, f.form); p.status != http.StatusForbidden {
				t.Errorf("%d, want 403", p.status)
			}
		})
		if f.viewer {
			t.Run(f.name+"/Viewer", func(t *testing.T) {
				p := viewer.submit(lic, f.path, f.form)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "needs the editor role") {
					t.Errorf("%d, want 403\n%s", p.status, p.body)
				}
			})
		}
	}
	after, _ := b.Contacts.GetLicense(ctx, "ACME-1")
	if after.Name != before.Name || after.Status != before.Status || len(after.Technical) != len(before.Technical) || after.Technical[0] != before.Technical[0] {
		t.Errorf("a refused form changed the license:\n%+v\n%+v", before, after)
	}
	// The sessions are still good: refusals signed no one out.
	if p := editor.get(lic); p.status != http.StatusOK {
		t.Errorf("editor after the forged forms: %d", p.status)
	}
}
