package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/scheduler"
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
	if _, err := b.Staff().SetRole(context.Background(), contacts.Actor{Via: contacts.ViaCLI, Name: "test"}, "eve@herald.test", staff.Viewer); err != nil {
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
	if e := audit.Items[0]; e.Action != contacts.LicenseUpdated || e.Detail != "name: Customer ACME-1 → Acme Corp; status: active → expired; timezone: UTC → America/New_York" {
		t.Errorf("the edit is audited as %s %q", e.Action, e.Detail)
	}
	p := br.get(lic)
	if !strings.Contains(p.body, "console:eve@herald.test") || !strings.Contains(p.body, "status: active → expired") {
		t.Error("the license page's audit log does not name the editor and the change")
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
	a, _, err := b.Ledger.Announce(ctx, kinds.StaffSignInAnnouncement("ada@herald.test", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	announcement := fmt.Sprintf("/console/announcements/%d", a.ID)
	// A broadcast and a release that would go out, were the forms let
	// through: they count 3 recipients and 2.
	broadcast := url.Values{"subject": {"Forged"}, "body": {"Forged."}, "product": {"jira"}, "count": {"3"}}
	release := url.Values{"product": {"jira"}, "version": {"6.6.6"}, "count": {"2"}}
	forms := []struct {
		name, path string
		form       url.Values
		need       string // the role a viewer is told it needs ("" for forms of everyone)
	}{
		{"Add", lic + "/contacts", url.Values{"email": {"kim@acme.test"}, "role": {"technical"}}, "editor"},
		{"Promote", lic + "/promote", url.Values{"email": {"tom@acme.test"}, "role": {"technical"}}, "editor"},
		{"Remove", lic + "/remove", url.Values{"email": {"tom@acme.test"}, "role": {"technical"}}, "editor"},
		{"Edit", lic, url.Values{"name": {"Forged"}, "status": {"cancelled"}, "timezone": {""}}, "editor"},
		{"StaffAdd", "/console/staff", url.Values{"email": {"mallory@evil.test"}, "role": {"admin"}}, "admin"},
		{"StaffRole", "/console/staff/role", url.Values{"email": {"vic@herald.test"}, "role": {"admin"}}, "admin"},
		{"StaffRemove", "/console/staff/remove", url.Values{"email": {"ada@herald.test"}}, "admin"},
		{"SignOut", "/console/sign-out", url.Values{}, ""},
		{"AskLink", "/console/sign-in", url.Values{"email": {"ada@herald.test"}}, ""},
		{"SignIn", "/console/sign-in/forged", url.Values{}, ""},
		{"Pause", announcement + "/pause", url.Values{}, "editor"},
		{"Cancel", announcement + "/cancel", url.Values{}, "editor"},
		{"Unsuppress", "/console/people/ann@acme.test/unsuppress", url.Values{}, "editor"},
		{"Erase", "/console/people/tom@acme.test/erase", url.Values{}, "admin"},
		{"Import", "/console/import", url.Values{}, "editor"},
		{"Me", "/console/me", url.Values{"timezone": {"Asia/Tokyo"}}, ""},
		{"BroadcastPreview", "/console/broadcasts/preview", broadcast, "editor"},
		{"BroadcastTest", "/console/broadcasts/test", broadcast, "editor"},
		{"BroadcastContinue", "/console/broadcasts/confirm", broadcast, "editor"},
		{"BroadcastSend", "/console/broadcasts", broadcast, "editor"},
		{"ReleasePreview", "/console/releases/preview", release, "editor"},
		{"ReleaseContinue", "/console/releases/confirm", release, "editor"},
		{"ReleaseAnnounce", "/console/releases", release, "editor"},
		{"RunJob", "/console/jobs/retention/run", url.Values{}, "admin"},
		{"TokenCreate", "/console/tokens", url.Values{"name": {"forged"}}, "admin"},
		{"TokenRevoke", "/console/tokens/forged/revoke", url.Values{}, "admin"},
	}
	// Every form of the console is tried, with the role it asks for.
	for pattern, need := range console.Forms() {
		wild := regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(pattern, "\x00")
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(wild), "\x00", `[^/]+`) + "$")
		if need == "viewer" {
			need = "" // a viewer may: the form is one of everyone's
		}
		found := false
		for _, f := range forms {
			if re.MatchString(f.path) {
				found = true
				if f.need != need {
					t.Errorf("%s asks for %q; the test says %q", pattern, need, f.need)
				}
			}
		}
		if !found {
			t.Errorf("no test tries the form %s", pattern)
		}
	}
	before, _ := b.Contacts.GetLicense(ctx, "ACME-1")
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	viewer := b.browser(t)
	b.signIn(t, viewer, "vic@herald.test")
	foreign := b.browser(t)
	b.signIn(t, foreign, "eve@herald.test")
	foreign.origin = "https://evil.test"
	// The admin's forms are tried with an admin's session: an editor's
	// would be refused by role before the token is looked at.
	admin := b.browser(t)
	b.signIn(t, admin, "ada@herald.test")
	adminForeign := b.browser(t)
	b.signIn(t, adminForeign, "ada@herald.test")
	adminForeign.origin = "https://evil.test"
	for _, f := range forms {
		editor, foreign := editor, foreign
		if f.need == "admin" {
			editor, foreign = admin, adminForeign
		}
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
		if f.need != "" {
			t.Run(f.name+"/Viewer", func(t *testing.T) {
				p := viewer.submit(lic, f.path, f.form)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "needs the "+f.need+" role") {
					t.Errorf("%d, want 403\n%s", p.status, p.body)
				}
			})
		}
	}
	after, _ := b.Contacts.GetLicense(ctx, "ACME-1")
	if after.Name != before.Name || after.Status != before.Status || len(after.Technical) != len(before.Technical) || after.Technical[0] != before.Technical[0] {
		t.Errorf("a refused form changed the license:\n%+v\n%+v", before, after)
	}
	if tokens, _ := b.Tokens.List(ctx); len(tokens) != 0 {
		t.Errorf("a refused form made a token: %+v", tokens)
	}
	if st, _ := b.Runner.Statuses(ctx, b.Jobs.List(), time.UTC, time.Now()); slices.ContainsFunc(st, func(s scheduler.Status) bool { return s.LastRun != nil }) {
		t.Errorf("a refused form ran a job: %+v", st)
	}
	list, _ := b.Staff().List(ctx)
	if len(list) != 3 || list[0].Role != staff.Admin || list[2].Role != staff.Viewer {
		t.Errorf("a refused form changed the staff: %+v", list)
	}
	if got, _ := b.Ledger.Get(ctx, a.ID); got.Status != a.Status {
		t.Errorf("a refused form changed the announcement: %s, was %s", got.Status, a.Status)
	}
	if made := (&testBundle{b.Bundle}).made(t); len(made) != 0 || len(b.SMTP.Messages()) != 0 {
		t.Errorf("a refused form stored %+v or sent %d messages", made, len(b.SMTP.Messages()))
	}
	// An editor is refused the admin's forms too.
	editorAgain := b.browser(t)
	b.signIn(t, editorAgain, "eve@herald.test")
	for _, f := range forms {
		if f.need != "admin" {
			continue
		}
		if p := editorAgain.submit(lic, f.path, f.form); p.status != http.StatusForbidden {
			t.Errorf("editor %s: %d, want 403", f.name, p.status)
		}
	}
	// The sessions are still good: refusals signed no one out.
	if p := editor.get(lic); p.status != http.StatusOK {
		t.Errorf("editor after the forged forms: %d", p.status)
	}
}

// TestStaffPage manages the staff as an admin: add, change a role, remove,
// and the last admin's guard, shown on the page.
func TestStaffPage(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	admin := b.browser(t)
	b.signIn(t, admin, "ada@herald.test")
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	if p := editor.get("/console/staff"); p.status != http.StatusForbidden {
		t.Errorf("editor GET /console/staff: %d", p.status)
	}
	if p := admin.get("/console/licenses"); !strings.Contains(p.body, `href="/console/staff"`) {
		t.Error("an admin's navigation has no Staff")
	}
	ok := func(what string, p page) {
		t.Helper()
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/staff" {
			t.Fatalf("%s: %d to %q\n%s", what, p.status, p.header.Get("Location"), p.body)
		}
	}
	ok("add", admin.submit("/console/staff", "/console/staff", url.Values{"email": {"Kai@herald.test"}, "role": {"editor"}, "timezone": {"Asia/Tokyo"}}))
	if m, err := b.Staff().Get(ctx, "kai@herald.test"); err != nil || m.Role != staff.Editor || m.Timezone != "Asia/Tokyo" {
		t.Errorf("kai = %+v, %v", m, err)
	}
	ok("demote eve", admin.submit("/console/staff", "/console/staff/role", url.Values{"email": {"eve@herald.test"}, "role": {"viewer"}}))
	if p := editor.get("/console/licenses"); p.status != http.StatusSeeOther {
		t.Errorf("eve's session outlived her demotion: %d", p.status)
	}
	ok("remove kai", admin.submit("/console/staff", "/console/staff/remove", url.Values{"email": {"kai@herald.test"}}))
	if _, err := b.Staff().Get(ctx, "kai@herald.test"); err == nil {
		t.Error("kai is still staff")
	}
	for _, tt := range []struct {
		name, path string
		form       url.Values
		status     int
		says       string
	}{
		{"LastAdminRemoved", "/console/staff/remove", url.Values{"email": {"ada@herald.test"}}, http.StatusConflict, "the last admin"},
		{"LastAdminDemoted", "/console/staff/role", url.Values{"email": {"ada@herald.test"}, "role": {"viewer"}}, http.StatusConflict, "the last admin"},
		{"NotAnAddress", "/console/staff", url.Values{"email": {"kai"}, "role": {"viewer"}}, http.StatusBadRequest, "not an email address"},
		{"BadRole", "/console/staff", url.Values{"email": {"kai@herald.test"}, "role": {"owner"}}, http.StatusBadRequest, "is not a role"},
		{"BadZone", "/console/staff", url.Values{"email": {"kai@herald.test"}, "role": {"viewer"}, "timezone": {"Mars/Olympus"}}, http.StatusBadRequest, "Mars/Olympus"},
		{"Twice", "/console/staff", url.Values{"email": {"vic@herald.test"}, "role": {"viewer"}}, http.StatusConflict, "staff already"},
		{"Stranger", "/console/staff/remove", url.Values{"email": {"zed@herald.test"}}, http.StatusNotFound, "not staff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := admin.submit("/console/staff", tt.path, tt.form)
			if p.status != tt.status || !strings.Contains(p.body, tt.says) {
				t.Errorf("%d, want %d saying %q\n%s", p.status, tt.status, tt.says, p.body)
			}
		})
	}
	if list, _ := b.Staff().List(ctx); len(list) != 3 || list[0].Email != "ada@herald.test" || list[0].Role != staff.Admin {
		t.Errorf("staff after the refusals: %+v", list)
	}
}

// TestOwnTimezone: a staff member of any role sets the timezone their
// times are shown in; a timezone that does not exist is refused on the
// page and changes nothing.
func TestOwnTimezone(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	if p := br.get("/console/licenses"); !strings.Contains(p.body, `<a href="/console/me" title="Your settings">vic@herald.test · viewer</a>`) {
		t.Fatalf("the header does not link to the settings:\n%s", p.body)
	}
	p := br.submit("/console/me", "/console/me", url.Values{"timezone": {"Mars/Olympus"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `timezone: &#34;Mars/Olympus&#34; is not an IANA timezone`) {
		t.Errorf("a bad timezone: %d\n%s", p.status, p.body)
	}
	if m, _ := b.Staff().Get(ctx, "vic@herald.test"); m.Timezone != "Europe/Berlin" {
		t.Errorf("a refused timezone changed it to %q", m.Timezone)
	}
	p = br.submit("/console/me", "/console/me", url.Values{"timezone": {"America/New_York"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("setting the timezone: %d\n%s", p.status, p.body)
	}
	if m, _ := b.Staff().Get(ctx, "vic@herald.test"); m.Timezone != "America/New_York" {
		t.Errorf("timezone = %q", m.Timezone)
	}
	p = br.get("/console/me")
	if !strings.Contains(p.body, "Times are now shown in America/New_York.") || !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T`).MatchString(p.body) {
		t.Errorf("the settings page after the change:\n%s", p.body)
	}
}
