package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
)

// opsBundle is herald with its workers, two invoices and a staff member
// of each role signed in: the operations pages have something to show.
type opsBundle struct {
	*testBundle
	admin, editor, viewer *browser
}

func setupOps(t *testing.T, database dbtest.Database) *opsBundle {
	t.Helper()
	b := &opsBundle{testBundle: setupWith(t, apptest.Options{Database: database, API: true, Workers: true})}
	// Due in a week: the reminder job's first step (-7) is due today.
	due := b.Clock.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	b.invoice(t, "2026/0042", "ACME-1", 125000, due, billing.Open)
	b.invoice(t, "INV-PAID", "OTHER-1", 9900, "2026-01-15", billing.Paid)
	b.admin, b.editor, b.viewer = b.browser(t), b.browser(t), b.browser(t)
	b.signIn(t, b.admin, "ada@herald.test")
	b.signIn(t, b.editor, "eve@herald.test")
	b.signIn(t, b.viewer, "vic@herald.test")
	return b
}

func (b *opsBundle) invoice(t *testing.T, number, license string, amount int64, due string, status billing.Status) {
	t.Helper()
	if _, _, err := b.Billing.Put(context.Background(), number, billing.InvoiceInput{LicenseID: license, AmountMinor: &amount, Currency: "EUR", DueDate: due, Status: status}); err != nil {
		t.Fatal(err)
	}
}

// shows fails the test unless p has status and holds every one of want.
func shows(t *testing.T, what string, p page, status int, want ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: %d, want %d\n%s", what, p.status, status, p.body)
	}
	for _, s := range want {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s does not show %q", what, s)
		}
	}
}

// TestOperationsPages runs the reminder job from the jobs page as an
// admin, lets the workers send the reminder, and reads every operations
// page as a viewer: the job's run, the invoice and its reminder's
// delivery, a template in German, the relay failing with the announcement
// it paused.
func TestOperationsPages(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setupOps(t, database)
		ctx := context.Background()

		t.Run("RunNow", func(t *testing.T) {
			p := b.admin.submit("/console/jobs", "/console/jobs/invoice-reminders/run", nil)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/jobs" {
				t.Fatalf("run now: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
			}
			shows(t, "the jobs page after the run", b.admin.get("/console/jobs"), http.StatusOK,
				`<p class="flash ok" role="status">invoice-reminders ran: 1 announcements created.</p>`)
			// Through the runner: recorded as the job's last run, naming
			// the admin.
			statuses, err := b.Runner.Statuses(ctx, b.Jobs.List(), time.UTC, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range statuses {
				if st.Name == scheduler.JobInvoiceReminders && (st.LastRun == nil || st.LastRun.Result != "1 announcements created (run in the console by ada@herald.test)") {
					t.Errorf("the recorded run: %+v", st.LastRun)
				}
			}
			// And in the audit log, under the admin.
			log, err := b.Contacts.ListAudit(ctx, contacts.AuditFilter{Via: contacts.ViaConsole})
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Items) == 0 || log.Items[0].Action != contacts.JobRun || log.Items[0].By.Name != "ada@herald.test" ||
				log.Items[0].Detail != "invoice-reminders: 1 announcements created" {
				t.Errorf("the run in the audit log: %+v", log.Items)
			}
			// Editors and viewers are refused, and nothing runs.
			for who, br := range map[string]*browser{"editor": b.editor, "viewer": b.viewer} {
				form := url.Values{"csrf": {br.get("/console/jobs").csrf(t)}}
				if p := br.post("/console/jobs/invoice-reminders/run", form); p.status != http.StatusForbidden || !strings.Contains(p.body, "needs the admin role") {
					t.Errorf("%s runs a job: %d, want 403", who, p.status)
				}
			}
			if p := b.admin.submit("/console/jobs", "/console/jobs/no-such-job/run", nil); p.status != http.StatusNotFound {
				t.Errorf("an unknown job: %d, want 404", p.status)
			}
		})
		b.WaitAllDone(t)

		t.Run("Jobs", func(t *testing.T) {
			p := b.viewer.get("/console/jobs")
			shows(t, "the jobs page", p, http.StatusOK, ">invoice-reminders</th>", "<code>0 9 * * *</code>",
				"1 announcements created (run in the console by ada@herald.test)", "Times are in Europe/Berlin", ">retention</th>")
			// The staff member's timezone: Berlin is CET or CEST.
			if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d CES?T`).MatchString(p.body) {
				t.Error("the times are not in the viewer's timezone")
			}
			if strings.Contains(p.body, "Run now") || strings.Contains(p.body, "API tokens") || strings.Contains(p.body, "/console/queues") {
				t.Error("a viewer is shown the admins' buttons or tabs")
			}
			shows(t, "the admin's jobs page", b.admin.get("/console/jobs"), http.StatusOK,
				`aria-label="Run invoice-reminders now"`, `href="/console/tokens"`, `href="/console/queues/"`)
		})

		t.Run("Invoices", func(t *testing.T) {
			for _, tt := range []struct {
				query      string
				status     int
				want, omit []string
			}{
				{"", 200, []string{`href="/console/invoices/2026%2F0042"`, `href="/console/invoices/INV-PAID"`, "€1,250.00"}, nil},
				{"?status=open", 200, []string{"2026/0042"}, []string{"INV-PAID"}},
				{"?status=paid", 200, []string{"INV-PAID"}, []string{"2026/0042"}},
				{"?license=OTHER-1", 200, []string{"INV-PAID"}, []string{"2026/0042"}},
				{"?status=lost", 400, []string{"status: &#34;lost&#34; is not a status"}, nil},
				{"?license=bad%20id", 400, []string{"license: &#34;bad id&#34;", "INV-PAID"}, nil},
			} {
				p := b.viewer.get("/console/invoices" + tt.query)
				shows(t, "invoices"+tt.query, p, tt.status, tt.want...)
				for _, s := range tt.omit {
					if strings.Contains(p.body, s) {
						t.Errorf("invoices%s shows %s", tt.query, s)
					}
				}
			}
			reminders, err := b.Ledger.ByRef(ctx, kinds.InvoiceReminder, "2026/0042")
			if err != nil || len(reminders) != 1 {
				t.Fatalf("reminders: %+v, %v", reminders, err)
			}
			p := b.viewer.get("/console/invoices/2026%2F0042")
			shows(t, "the invoice page", p, http.StatusOK, `href="/console/licenses/ACME-1"`, "€1,250.00",
				fmt.Sprintf(`<a href="/console/announcements/%d">Invoice 2026/0042 is due in 7 days</a>`, reminders[0].ID),
				`<a href="/console/people/bill@acme.test">bill@acme.test</a></td><td><span class="status status-sent">sent</span>`)
			shows(t, "the paid invoice", b.viewer.get("/console/invoices/INV-PAID"), http.StatusOK, "No reminder was made for this invoice yet.")
			shows(t, "no such invoice", b.viewer.get("/console/invoices/INV-9"), http.StatusNotFound, "invoice INV-9 does not exist")
			shows(t, "the license page", b.viewer.get("/console/licenses/ACME-1"), http.StatusOK, `<a href="/console/invoices/2026%2F0042">2026/0042</a>`)
		})

		t.Run("Templates", func(t *testing.T) {
			shows(t, "the templates", b.viewer.get("/console/templates"), http.StatusOK,
				`<a href="/console/templates/invoice_due?locale=en">invoice_due</a>`, `aria-label="Preview invoice_due in de"`)
			p := b.viewer.get("/console/templates/invoice_due?locale=de")
			shows(t, "the German preview", p, http.StatusOK, `<option value="de" selected>de</option>`,
				"ist heute fällig</dd>", // the subject
				"ist heute, am",         // the text part
				// The HTML part, escaped into the frame's srcdoc.
				`<iframe class="mail" sandbox srcdoc="`, "&lt;html lang=&#34;de&#34;&gt;", "ist &lt;strong&gt;heute&lt;/strong&gt;")
			if strings.Contains(p.body, "allow-scripts") {
				t.Error("the preview's frame may run scripts")
			}
			// The page allows the mail's own inline styles by their hash,
			// and nothing else inline.
			csp := p.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "style-src 'self' 'unsafe-hashes' 'sha256-") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("the preview's policy: %s", csp)
			}
			shows(t, "the English preview", b.viewer.get("/console/templates/invoice_due"), http.StatusOK, `<option value="en" selected>en</option>`, "is due today")
			shows(t, "an unknown locale", b.viewer.get("/console/templates/invoice_due?locale=xx"), http.StatusBadRequest,
				"locale: invoice_due has no &#34;xx&#34;; pick one of de, en.")
			shows(t, "an unknown template", b.viewer.get("/console/templates/nope"), http.StatusNotFound)
		})

		t.Run("Relay", func(t *testing.T) {
			shows(t, "the relay before any send fails", b.viewer.get("/console/relay"), http.StatusOK, "status-relay-ok", "None.")
			if err := b.Relay.SetStatus(ctx, relay.Status{State: relay.Failing, Error: "535 5.7.8 authentication failed", Advice: "Check the user and password in HERALD_SMTP_URL."}); err != nil {
				t.Fatal(err)
			}
			later := b.Clock.Now().Add(time.Hour)
			_, a, _, err := b.Ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "9.5.0", Title: "Jira 9.5", SendAt: later}, kinds.ReleaseAnnouncement)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Ledger.Pause(ctx, a.ID, "535 5.7.8 authentication failed", ledger.PausedByRelay); err != nil {
				t.Fatal(err)
			}
			shows(t, "the relay failing", b.viewer.get("/console/relay"), http.StatusOK,
				`<span class="status status-relay-failing">failing</span>`, "535 5.7.8 authentication failed", "Check the user and password in HERALD_SMTP_URL.",
				fmt.Sprintf(`<a href="/console/announcements/%d">Jira 9.5</a>`, a.ID), "by itself, once a send passes")
		})
	})
}

var secretPattern = regexp.MustCompile(`value="(hrld_[A-Za-z0-9_-]+)"`)

// TestAPITokens makes a token in the console, uses it on the API, revokes
// it, and finds both changes in the API's audit log under the admin.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.Any())
	admin := b.browser(t)
	b.signIn(t, admin, "ada@herald.test")
	api := func(token, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", b.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	p := admin.submit("/console/tokens", "/console/tokens", url.Values{"name": {"billing-sync"}})
	shows(t, "the made token", p, http.StatusOK, "Copy it now: it is shown only this once.", "<th scope=\"row\">billing-sync</th>", "console:ada@herald.test")
	m := secretPattern.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", p.body)
	}
	secret := m[1]
	if res := api(secret, "/api/v1/licenses"); res.StatusCode != http.StatusOK {
		t.Fatalf("the new token on the API: %d", res.StatusCode)
	}
	if p := admin.get("/console/tokens"); strings.Contains(p.body, secret) {
		t.Error("the secret is shown again")
	}
	for _, tt := range []struct {
		name   string
		status int
		says   string
	}{
		{"bad name!", http.StatusBadRequest, "name: &#34;bad name!&#34; is not a token name"},
		{"billing-sync", http.StatusConflict, "name: a token named billing-sync exists already"},
	} {
		p := admin.submit("/console/tokens", "/console/tokens", url.Values{"name": {tt.name}})
		shows(t, "making "+tt.name, p, tt.status, tt.says, `aria-invalid="true"`)
		if secretPattern.MatchString(p.body) {
			t.Errorf("a refused token shows a secret")
		}
	}

	shows(t, "the confirmation", admin.get("/console/tokens/billing-sync/revoke"), http.StatusOK, "Revoke billing-sync?")
	p = admin.submit("/console/tokens/billing-sync/revoke", "/console/tokens/billing-sync/revoke", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/tokens" {
		t.Fatalf("revoke: %d to %q", p.status, p.header.Get("Location"))
	}
	shows(t, "the tokens after the revocation", admin.get("/console/tokens"), http.StatusOK, "Revoked billing-sync: it no longer opens the API.", "No token is stored.")
	if res := api(secret, "/api/v1/licenses"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked token on the API: %d, want 401", res.StatusCode)
	}
	shows(t, "revoking it again", admin.get("/console/tokens/billing-sync/revoke"), http.StatusNotFound)

	var audit struct {
		Items []struct {
			Action    string `json:"action"`
			TokenName string `json:"token_name"`
			Via       string `json:"via"`
			Actor     string `json:"actor"`
		}
	}
	if err := json.NewDecoder(api(b.Token, "/api/v1/audit?via=console").Body).Decode(&audit); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range audit.Items {
		got = append(got, fmt.Sprintf("%s %s by %s:%s", e.Action, e.TokenName, e.Via, e.Actor))
	}
	if want := "token_revoked billing-sync by console:ada@herald.test,token_created billing-sync by console:ada@herald.test"; strings.Join(got, ",") != want {
		t.Errorf("audit log: %v\nwant %s", got, want)
	}

	// Tokens are the admins' alone.
	for _, email := range []string{"eve@herald.test", "vic@herald.test"} {
		br := b.browser(t)
		b.signIn(t, br, email)
		shows(t, email+" on the tokens", br.get("/console/tokens"), http.StatusForbidden, "needs the admin role")
		shows(t, email+" on a revocation", br.get("/console/tokens/x/revoke"), http.StatusForbidden)
	}
}

// TestStrictPolicyElsewhere reads every page of the console, the
// operations pages and their errors too: each keeps the strict policy,
// but for a template's preview, which adds the mail's styles by hash.
func TestStrictPolicyElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	const strict = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	if p := b.browser(t).get("/console/sign-in"); p.header.Get("Content-Security-Policy") != strict {
		t.Errorf("sign-in: %q", p.header.Get("Content-Security-Policy"))
	}
	admin, viewer := b.browser(t), b.browser(t)
	b.signIn(t, admin, "ada@herald.test")
	b.signIn(t, viewer, "vic@herald.test")
	for br, paths := range map[*browser][]string{
		admin: {"/console/licenses", "/console/licenses/ACME-1", "/console/people", "/console/people/ann@acme.test", "/console/announcements",
			"/console/staff", "/console/import", "/console/jobs", "/console/invoices", "/console/templates", "/console/relay", "/console/tokens",
			"/console/nowhere", "/console/invoices/NOPE"},
		viewer: {"/console/queues/", "/console/queues/api/queues", "/console/tokens"},
	} {
		for _, path := range paths {
			if got := br.get(path).header.Get("Content-Security-Policy"); got != strict {
				t.Errorf("%s: %q", path, got)
			}
		}
	}
	got := admin.get("/console/templates/release").header.Get("Content-Security-Policy")
	rest, ok := strings.CutPrefix(got, "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-hashes' 'sha256-")
	if !ok || !strings.HasSuffix(rest, "'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'") {
		t.Errorf("the preview's policy: %q", got)
	}
}

// inlineScript finds the inline scripts of asynqmon's page.
var inlineScript = regexp.MustCompile(`<script>(.*?)</script>`)

// TestQueues mounts asynqmon for admins: its page runs under a policy of
// its own, its API answers on the queue's Redis (embedded or real), and
// it refuses everyone else, and changes from other origins.
func TestQueues(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	// No workers run: the task stays pending for asynqmon to show.
	if err := b.Queue.Enqueue(ctx, queueTask(4242)); err != nil {
		t.Fatal(err)
	}
	admin := b.browser(t)
	link := b.linkPath(t, "ada@herald.test")
	p := admin.submit(link, link, nil)
	// The session cookie stays home: no other site's request carries it.
	var cookie string
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "herald_console=") {
			cookie = c
		}
	}
	if !strings.Contains(cookie, "SameSite=Lax") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "Path=/console") {
		t.Errorf("the session cookie: %q", cookie)
	}

	p = admin.get("/console/queues/")
	shows(t, "asynqmon's page", p, http.StatusOK, "<title>Asynq - Monitoring</title>", `window.FLAG_ROOT_PATH="\/console\/queues"`)
	csp := p.header.Get("Content-Security-Policy")
	scripts := inlineScript.FindAllStringSubmatch(p.body, -1)
	if len(scripts) != 2 {
		t.Fatalf("%d inline scripts on asynqmon's page, want 2", len(scripts))
	}
	for _, s := range scripts {
		if !strings.Contains(csp, hashSource(s[1])) {
			t.Errorf("the policy %q does not allow the script %.40q…", csp, s[1])
		}
	}
	if strings.Contains(csp, "script-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("asynqmon's policy: %q", csp)
	}
	if p := admin.get("/console/queues"); p.status != http.StatusOK || !strings.Contains(p.body, "Asynq - Monitoring") {
		t.Errorf("/console/queues without the slash: %d", p.status)
	}

	p = admin.get("/console/queues/api/queues")
	shows(t, "asynqmon's API", p, http.StatusOK, `"queue":"`+b.Queue.Name()+`"`)
	taskPath := "/console/queues/api/queues/" + b.Queue.Name() + "/pending_tasks/fanout:4242"
	shows(t, "the pending task", admin.get("/console/queues/api/queues/"+b.Queue.Name()+"/pending_tasks"), http.StatusOK, `"id":"fanout:4242"`)

	// Changes from elsewhere are refused, and change nothing.
	for _, tt := range []struct {
		name    string
		headers map[string]string
	}{
		{"ForeignOrigin", map[string]string{"Origin": "https://evil.test"}},
		{"NoOrigin", map[string]string{}},
		{"NullOrigin", map[string]string{"Origin": "null"}},
		{"CrossSite", map[string]string{"Origin": b.URL, "Sec-Fetch-Site": "cross-site"}},
		{"SameSite", map[string]string{"Origin": b.URL, "Sec-Fetch-Site": "same-site"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := admin.send("DELETE", taskPath, tt.headers); p.status != http.StatusForbidden {
				t.Errorf("DELETE: %d, want 403", p.status)
			}
			if p := admin.send("POST", "/console/queues/api/queues/"+b.Queue.Name()+":pause", tt.headers); p.status != http.StatusForbidden {
				t.Errorf("POST: %d, want 403", p.status)
			}
		})
	}
	shows(t, "the task after the refusals", admin.get("/console/queues/api/queues/"+b.Queue.Name()+"/pending_tasks"), http.StatusOK, `"id":"fanout:4242"`)
	shows(t, "the queue after the refusals", admin.get("/console/queues/api/queues/"+b.Queue.Name()), http.StatusOK, `"paused":false`)

	// Others are refused it; signed out, the page asks to sign in.
	for _, email := range []string{"eve@herald.test", "vic@herald.test"} {
		br := b.browser(t)
		b.signIn(t, br, email)
		shows(t, email+" on asynqmon", br.get("/console/queues/"), http.StatusForbidden, "needs the admin role")
		shows(t, email+" on its API", br.get("/console/queues/api/queues"), http.StatusForbidden)
		if p := br.send("DELETE", taskPath, map[string]string{"Origin": b.URL}); p.status != http.StatusForbidden {
			t.Errorf("%s deletes a task: %d, want 403", email, p.status)
		}
	}
	out := b.browser(t)
	if p := out.get("/console/queues/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/sign-in" {
		t.Errorf("signed out: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := out.send("DELETE", taskPath, map[string]string{"Origin": b.URL}); p.status != http.StatusUnauthorized {
		t.Errorf("signed out, a DELETE: %d, want 401", p.status)
	}

	// From the console's own page, as asynqmon's script sends it, the
	// change is made.
	if p := admin.send("DELETE", taskPath, map[string]string{"Origin": b.URL, "Sec-Fetch-Site": "same-origin"}); p.status != http.StatusNoContent {
		t.Errorf("DELETE from the console: %d, want 204\n%s", p.status, p.body)
	}
	if p := admin.get("/console/queues/api/queues/" + b.Queue.Name() + "/pending_tasks"); strings.Contains(p.body, "fanout:4242") {
		t.Error("the task is still there")
	}
}

// send sends a request with no body and the given headers.
func (br *browser) send(method, path string, headers map[string]string) page {
	br.t.Helper()
	req, _ := http.NewRequest(method, br.base+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return br.do(req)
}

func queueTask(id int64) queue.Task { return queue.NewFanoutTask(id) }

func hashSource(s string) string { return web.HashSource(s) }
