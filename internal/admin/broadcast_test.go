package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/smtptest"
)

// customers creates the licenses the broadcast tests send to.
func (b *testBundle) customers(t *testing.T) {
	t.Helper()
	for _, l := range []string{
		`{"id":"J-1","product":"jira","name":"Acme","contacts":[{"email":"a@acme.test","role":"technical"},{"email":"b@acme.test","role":"technical"},{"email":"c@acme.test","role":"billing"}]}`,
		`{"id":"J-2","product":"jira","name":"Beta","contacts":[{"email":"d@beta.test","role":"technical"},{"email":"a@acme.test","role":"technical"}]}`,
		`{"id":"C-1","product":"confluence","name":"Gamma","contacts":[{"email":"e@gamma.test","role":"technical"}]}`,
		`{"id":"J-3","product":"jira","name":"Gone","status":"cancelled","contacts":[{"email":"f@gone.test","role":"technical"}]}`,
	} {
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: l})
	}
}

func (b *testBundle) broadcast(t *testing.T, body string) int64 {
	t.Helper()
	var v struct{ ID int64 }
	if err := json.Unmarshal(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/broadcasts", body: body}).body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func TestBroadcasts(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.customers(t)
		b.startWorkers(t)

		jira := `"audience":{"roles":["technical"],"products":["jira"]}`
		dry := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/broadcasts",
			body: `{"subject":"Security advisory","body":"Please **update**.",` + jira + `,"dry_run":true}`}).json(t)
		if dry["recipients"] != 3.0 || fmt.Sprint(dry["sample"]) != "[a@acme.test b@acme.test d@beta.test]" {
			t.Errorf("dry run: %v", dry)
		}
		if p := dry["preview"].(map[string]any); p["subject"] != "Security advisory" || !strings.Contains(p["html"].(string), "<strong>update</strong>") {
			t.Errorf("preview: %v", p)
		}
		var n int
		if err := db.Get(context.Background(), b.DB, &n, `SELECT COUNT(*) FROM announcements`); err != nil || n != 0 {
			t.Errorf("a dry run stored %d announcements", n)
		}

		t.Run("ReachesExactlyTheAudienceOnce", func(t *testing.T) {
			a := b.WaitDone(t, b.broadcast(t, `{"subject":"Security advisory","body":"Please **update**.",`+jira+`}`))
			if a.Counts.Sent != 3 || a.Counts.Recipients != 3 {
				t.Errorf("counts %+v, want the 3 of the dry run sent", a.Counts)
			}
			if diff := cmp.Diff(map[string]int{"a@acme.test": 1, "b@acme.test": 1, "d@beta.test": 1}, b.SMTP.PerRecipient()); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			res := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/metrics"})
			for _, want := range []string{`herald_deliveries_total{kind="broadcast",outcome="sent"} 3`, `herald_http_requests_total{code="201",route="POST /api/v1/broadcasts"} 1`} {
				if !strings.Contains(string(res.body), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			for _, m := range b.SMTP.Messages() {
				h := m.Header
				if h.Get("Precedence") != "bulk" || h.Get("List-Id") == "" || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
					!strings.HasPrefix(h.Get("List-Unsubscribe"), "<"+b.URL+"/unsubscribe/") {
					t.Errorf("bulk headers of %s: %v", m.To[0], h)
				}
			}
		})

		t.Run("MainOnlyReachesOnlyMains", func(t *testing.T) {
			before := b.SMTP.PerRecipient()
			b.WaitDone(t, b.broadcast(t, `{"subject":"Price change","body":"New prices.","audience":{"products":["jira"],"main_only":true}}`))
			after := b.SMTP.PerRecipient()
			got := map[string]int{}
			for email, n := range after {
				if n-before[email] > 0 {
					got[email] = n - before[email]
				}
			}
			// Mains of the active jira licenses: a (technical, J-1), c
			// (billing, J-1) and d (technical, J-2).
			if diff := cmp.Diff(map[string]int{"a@acme.test": 1, "c@acme.test": 1, "d@beta.test": 1}, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})

		t.Run("ARetryDoesNotReachWhoLeftTheAudience", func(t *testing.T) {
			// b's first try fails for now; while it waits, b leaves J-1.
			var once sync.Once
			b.SMTP.Rcpt = func(to string) error {
				if to != "b@acme.test" {
					return nil
				}
				fail := false
				once.Do(func() {
					fail = true
					if _, err := b.Contacts.RemoveMember(context.Background(), contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, "J-1", "b@acme.test", contacts.Technical); err != nil {
						t.Error(err)
					}
				})
				if fail {
					return smtptest.Reply(451, [3]int{4, 3, 0}, "try again later")
				}
				return nil
			}
			// Leaving the license, b is told so; that is not the broadcast.
			advisories := func() int {
				n := 0
				for _, m := range b.SMTP.Messages() {
					if m.To[0] == "b@acme.test" && m.Header.Get("Subject") == "Advisory" {
						n++
					}
				}
				return n
			}
			before := advisories()
			a := b.WaitDone(t, b.broadcast(t, `{"subject":"Advisory","body":"Update.",`+jira+`}`))
			d, err := b.Ledger.Deliveries(context.Background(), a.ID, ledger.DeliveryFilter{Status: ledger.DeliverySkipped})
			if err != nil || len(d.Items) != 1 || d.Items[0].Email != "b@acme.test" || d.Items[0].Reason != "no longer in the audience" {
				t.Errorf("skipped: %+v, %v", d.Items, err)
			}
			if got := advisories(); got != before {
				t.Errorf("b got the broadcast after leaving its audience")
			}
		})

		t.Run("LicensesNarrowTheAudience", func(t *testing.T) {
			dry := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/broadcasts",
				body: `{"subject":"Maintenance","body":"Tonight.","audience":{"licenses":["J-2","C-1"]},"dry_run":true}`}).json(t)
			if fmt.Sprint(dry["sample"]) != "[a@acme.test d@beta.test e@gamma.test]" {
				t.Errorf("two named customers: %v", dry)
			}
		})

		t.Run("DryRunSkipsWhoLeftBroadcastsOnly", func(t *testing.T) {
			// a left broadcasts and d release notices: a broadcast's dry
			// run skips a, as its fan-out does, and still counts d.
			b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/a@acme.test", body: `{"broadcast_opt_out":true}`})
			b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/d@beta.test", body: `{"release_opt_out":true}`})
			defer func() {
				b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/a@acme.test", body: `{"broadcast_opt_out":false}`})
				b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/d@beta.test", body: `{"release_opt_out":false}`})
			}()
			dry := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/broadcasts",
				body: `{"subject":"Maintenance","body":"Tonight.","audience":{"licenses":["J-2","C-1"]},"dry_run":true}`}).json(t)
			if dry["recipients"] != 2.0 || dry["skipped"] != 1.0 || fmt.Sprint(dry["sample"]) != "[d@beta.test e@gamma.test]" {
				t.Errorf("dry run with opt-outs: %v", dry)
			}
		})

		t.Run("BadBroadcasts", func(t *testing.T) {
			many := `"` + strings.Repeat(`L-1","`, 1000) + `L-2"`
			for _, tc := range []struct{ name, body, field string }{
				{"TooManyLicenses", `{"subject":"S","body":"B","audience":{"licenses":[` + many + `]}}`, "audience.licenses"},
				{"EmptyAudience", `{"subject":"S","body":"B","audience":{"products":["bamboo"]}}`, "audience"},
				{"CRLFInSubject", `{"subject":"Hi\r\nBcc: all@x.test","body":"B"}`, "subject"},
				{"NoSubject", `{"body":"B"}`, "subject"},
				{"NoBody", `{"subject":"S"}`, "body"},
				{"BadRole", `{"subject":"S","body":"B","audience":{"roles":["owner"]}}`, "audience.roles[0]"},
				{"BadLicense", `{"subject":"S","body":"B","audience":{"licenses":["a b"]}}`, "audience.licenses[0]"},
				{"ToOnRealSend", `{"subject":"S","body":"B","to":["x@y.test"]}`, "to"},
				{"UnknownAudienceField", `{"subject":"S","body":"B","audience":{"countries":["de"]}}`, "countries"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if _, field := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/broadcasts", body: tc.body}).apiError(t); field != tc.field {
						t.Errorf("field %q, want %q", field, tc.field)
					}
				})
			}
		})

		t.Run("NothingExecutableInTheHTML", func(t *testing.T) {
			body := "Hello <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n\n[click](javascript:alert(3)) [ok](https://vendor.test/ok)"
			raw, _ := json.Marshal(map[string]any{"subject": "Notice", "body": body, "audience": map[string]any{"licenses": []string{"C-1"}}})
			id := b.broadcast(t, string(raw))
			b.WaitDone(t, id)
			checked := 0
			for _, m := range b.SMTP.Messages() {
				if m.To[0] != "e@gamma.test" {
					continue
				}
				checked++
				_, html := m.MustParts(t)
				html = strings.ToLower(html)
				for _, bad := range []string{"<script", "onerror", "javascript:"} {
					if strings.Contains(html, bad) {
						t.Errorf("the HTML part contains %q:\n%s", bad, html)
					}
				}
				if !strings.Contains(html, `href="https://vendor.test/ok"`) {
					t.Errorf("the safe link is gone:\n%s", html)
				}
			}
			if checked != 1 {
				t.Errorf("e@gamma.test got %d messages, want the one to check", checked)
			}
		})

		t.Run("TestSendGoesToStaffOnly", func(t *testing.T) {
			before := b.SMTP.Accepted()
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/broadcasts/test",
				body: `{"subject":"Security advisory","body":"Please update.",` + jira + `,"to":["Staff@Vendor.test"]}`}).json(t)
			if fmt.Sprint(res["sent"]) != "[staff@vendor.test]" {
				t.Errorf("test send: %v", res)
			}
			msgs := b.SMTP.Messages()
			if b.SMTP.Accepted() != before+1 || msgs[len(msgs)-1].To[0] != "staff@vendor.test" || msgs[len(msgs)-1].Header.Get("Subject") != "[TEST] Security advisory" {
				t.Errorf("test message: %d new, last %v", b.SMTP.Accepted()-before, msgs[len(msgs)-1].Header)
			}
			// A refused address is reported; the others are still sent, once.
			b.SMTP.Rcpt = func(to string) error {
				if to == "gone@vendor.test" {
					return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user")
				}
				return nil
			}
			mixed := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/broadcasts/test",
				body: `{"subject":"S","body":"B","to":["gone@vendor.test","boss@vendor.test","boss@vendor.test"]}`}).json(t)
			failed := mixed["failed"].([]any)
			if fmt.Sprint(mixed["sent"]) != "[boss@vendor.test]" || len(failed) != 1 || !strings.Contains(failed[0].(map[string]any)["error"].(string), "550") {
				t.Errorf("a test with a refused address: %v", mixed)
			}
			b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/broadcasts/test", body: `{"subject":"S","body":"B"}`})
			b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/broadcasts/test", body: `{"subject":"S","body":"B","to":["not an address"]}`})
		})
	})
}

// unsubscribeURL returns the link of the List-Unsubscribe header.
func unsubscribeURL(t *testing.T, m smtptest.Message) string {
	t.Helper()
	h := m.Header.Get("List-Unsubscribe")
	start, end := strings.Index(h, "<"), strings.Index(h, ">")
	if start < 0 || end < start {
		t.Fatalf("List-Unsubscribe %q", h)
	}
	return h[start+1 : end]
}

// oneClick posts as a mailbox provider does (RFC 8058).
func oneClick(t *testing.T, link string) int {
	t.Helper()
	res, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		ctx := context.Background()
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[
			{"email":"pat@acme.test","name":"Pat","role":"technical"},{"email":"pat@acme.test","name":"Pat","role":"billing"},
			{"email":"kim@acme.test","name":"Kim","role":"technical"}]}`})
		b.startWorkers(t)

		var rel struct {
			AnnouncementID int64 `json:"announcement_id"`
		}
		_ = json.Unmarshal(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"1.0"}`}).body, &rel)
		b.WaitDone(t, rel.AnnouncementID)
		links := map[string]string{}
		for _, m := range b.SMTP.Messages() {
			links[m.To[0]] = unsubscribeURL(t, m)
		}
		pat, kim := links["pat@acme.test"], links["kim@acme.test"]
		if pat == "" || kim == "" {
			t.Fatalf("links: %v", links)
		}

		t.Run("ForgedTokensAreRefused", func(t *testing.T) {
			token := pat[strings.LastIndex(pat, "/")+1:]
			kimToken := kim[strings.LastIndex(kim, "/")+1:]
			i := len(token) - 3
			flipped := token[:i] + string(token[i]^1) + token[i+1:]
			for name, forged := range map[string]string{
				"OneByteChanged":    flipped,
				"AnotherContactTag": kimToken[:len(kimToken)-22] + token[len(token)-22:],
				"Truncated":         token[:len(token)-1],
				"FirstFormatNoMAC":  "YW5ub3VuY2VtZW50czpwYXRAYWNtZS50ZXN0.",
				"Garbage":           "%00%ff",
			} {
				if st := oneClick(t, b.URL+"/unsubscribe/"+forged); st != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", name, st)
				}
			}
			for _, email := range []string{"pat@acme.test", "kim@acme.test"} {
				if c, _ := b.Contacts.GetContact(ctx, email); c.ReleaseOptOut {
					t.Errorf("%s was opted out by a forged token", email)
				}
			}
		})

		t.Run("GetChangesNothing", func(t *testing.T) {
			res, err := http.Get(pat)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "<form method=\"post\"") || !strings.Contains(string(page), "pat@acme.test") {
				t.Errorf("GET: %d\n%s", res.StatusCode, page)
			}
			if c, _ := b.Contacts.GetContact(ctx, "pat@acme.test"); c.ReleaseOptOut {
				t.Error("a GET opted the contact out")
			}
		})

		t.Run("OneClickOptsOutOfAnnouncementsOnly", func(t *testing.T) {
			if st := oneClick(t, pat); st != http.StatusOK {
				t.Fatalf("one-click: %d", st)
			}
			if c, _ := b.Contacts.GetContact(ctx, "pat@acme.test"); !c.ReleaseOptOut {
				t.Fatal("pat is not opted out")
			}
			if c, _ := b.Contacts.GetContact(ctx, "kim@acme.test"); c.ReleaseOptOut {
				t.Fatal("kim was opted out by pat's link")
			}
			before := b.SMTP.PerRecipient()
			_ = json.Unmarshal(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"2.0"}`}).body, &rel)
			b.WaitDone(t, rel.AnnouncementID)
			d, err := b.Ledger.Deliveries(ctx, rel.AnnouncementID, ledger.DeliveryFilter{Status: ledger.DeliverySkipped})
			if err != nil || len(d.Items) != 1 || d.Items[0].Email != "pat@acme.test" || d.Items[0].Reason != "opted out" {
				t.Errorf("skipped deliveries of the next release: %+v, %v", d.Items, err)
			}
			amount := int64(5000)
			today := time.Now().UTC().Format(time.DateOnly)
			if _, _, err := b.Billing.Put(ctx, "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: &amount, Currency: "EUR", DueDate: today}); err != nil {
				t.Fatal(err)
			}
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/jobs/invoice-reminders", body: `{"as_of":"` + today + `"}`}).json(t)
			if res["announcements_created"] != 1.0 {
				t.Fatalf("reminders: %v", res)
			}
			var open []int64
			if err := db.Select(ctx, b.DB, &open, `SELECT id FROM announcements WHERE status IN ('resolving', 'sending')`); err != nil {
				t.Fatal(err)
			}
			for _, id := range open {
				b.WaitDone(t, id)
			}
			after := b.SMTP.PerRecipient()
			if after["pat@acme.test"]-before["pat@acme.test"] != 1 || after["kim@acme.test"]-before["kim@acme.test"] != 1 {
				t.Errorf("after pat's opt-out: pat got %d (the reminder), kim %d (the release); want 1 and 1",
					after["pat@acme.test"]-before["pat@acme.test"], after["kim@acme.test"]-before["kim@acme.test"])
			}
			for _, m := range b.SMTP.Messages() {
				if strings.Contains(m.Header.Get("Subject"), "INV-1") && m.Header.Get("List-Unsubscribe") != "" {
					t.Error("an invoice reminder carries List-Unsubscribe")
				}
			}
			// PATCH takes the opt-out back.
			b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/pat@acme.test", body: `{"release_opt_out":false}`})
			if c, _ := b.Contacts.GetContact(ctx, "pat@acme.test"); c.ReleaseOptOut {
				t.Error("PATCH did not take the opt-out back")
			}
		})

		t.Run("NoticesAndRemindersSayWhereToManageWhoReceivesThem", func(t *testing.T) {
			line := "Manage who receives these emails: " + b.Config.Lists.PublicURL + "/account"
			var seen int
			for _, m := range b.SMTP.Messages() {
				subject := m.Header.Get("Subject")
				if !strings.Contains(subject, "jira") && !strings.Contains(subject, "INV-1") {
					continue
				}
				seen++
				plain, html := m.MustParts(t)
				if !strings.Contains(plain, line) || !strings.Contains(stripTags(html), line) {
					t.Errorf("%q to %s lacks %q:\n%s", subject, m.To[0], line, plain)
				}
			}
			if seen < 3 {
				t.Errorf("%d release notices and reminders, want at least 3", seen)
			}
		})

		// Release notices and broadcasts are left one at a time: each
		// link leaves the kind of mail it came with.
		t.Run("EachLinkLeavesItsOwnKindOfMail", func(t *testing.T) {
			optOuts := func(email string) [2]bool {
				t.Helper()
				v := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/" + email}).json(t)
				return [2]bool{v["release_opt_out"] == true, v["broadcast_opt_out"] == true}
			}
			skipped := func(id int64) map[string]string {
				t.Helper()
				d, err := b.Ledger.Deliveries(ctx, id, ledger.DeliveryFilter{Status: ledger.DeliverySkipped})
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]string{}
				for _, item := range d.Items {
					out[item.Email] = item.Reason
				}
				return out
			}
			before := len(b.SMTP.Messages())
			id := b.WaitDone(t, b.broadcast(t, `{"subject":"Maintenance","body":"Tonight.","audience":{"roles":["technical"]}}`)).ID
			var link string
			for _, m := range b.SMTP.Messages()[before:] {
				if m.To[0] == "kim@acme.test" {
					link = unsubscribeURL(t, m)
				}
			}
			if link == "" || skipped(id)["pat@acme.test"] != "" {
				t.Fatalf("kim's broadcast link %q; skipped %v (pat left release notices only)", link, skipped(id))
			}
			if st := oneClick(t, link); st != http.StatusOK {
				t.Fatalf("one-click: %d", st)
			}
			if got := optOuts("kim@acme.test"); got != [2]bool{false, true} {
				t.Fatalf("kim's opt-outs (release, broadcast) = %v, want out of broadcasts only", got)
			}
			_ = json.Unmarshal(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"3.0"}`}).body, &rel)
			b.WaitDone(t, rel.AnnouncementID)
			if got := skipped(rel.AnnouncementID); got["kim@acme.test"] != "" {
				t.Errorf("the release skipped kim, who left broadcasts only: %v", got)
			}
			next := b.WaitDone(t, b.broadcast(t, `{"subject":"Maintenance again","body":"Tonight.","audience":{"roles":["technical"]}}`)).ID
			if got := skipped(next); got["kim@acme.test"] != "opted out" {
				t.Errorf("the next broadcast reached kim: skipped %v", got)
			}

			// A link sent before the two were told apart leaves both.
			b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/pat@acme.test", body: `{"release_opt_out":false,"broadcast_opt_out":false}`})
			if st := oneClick(t, b.URL+"/unsubscribe/"+unsubscribeToken(t, b.Bundle, "pat@acme.test")); st != http.StatusOK {
				t.Fatalf("one-click: %d", st)
			}
			if got := optOuts("pat@acme.test"); got != [2]bool{true, true} {
				t.Errorf("pat's opt-outs after an old link = %v, want both", got)
			}
		})
	})
}

// TestCancelStopsABroadcastInFlight cancels a 5 000-recipient broadcast
// while it is being sent: once the cancel has answered, no further message
// reaches the SMTP server, and the counts add up to the recipients.
func TestCancelStopsABroadcastInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.Any())
	b.SMTP.Data = func(n int, to []string) error {
		time.Sleep(time.Millisecond)
		return nil
	}
	ctx := context.Background()
	rows := make([]contacts.Row, 5000)
	for i := range rows {
		rows[i] = contacts.Row{Line: i + 2, LicenseID: fmt.Sprintf("L-%d", i/50), Product: "jira", LicenseName: "Customer", Email: fmt.Sprintf("p%04d@customer.test", i), Role: contacts.Technical}
	}
	if _, err := b.Contacts.Import(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, rows); err != nil {
		t.Fatal(err)
	}
	b.startWorkers(t)
	id := b.broadcast(t, `{"subject":"Maintenance","body":"Tonight.","audience":{"products":["jira"]}}`)
	apptest.WaitFor(t, 60*time.Second, "300 messages", func() bool { return b.SMTP.Accepted() >= 300 })
	res := b.mustDo(t, http.StatusOK, request{method: "POST", path: fmt.Sprintf("/api/v1/announcements/%d/cancel", id)}).json(t)
	atCancel := b.SMTP.Accepted()
	// Once the queue is idle no worker holds a task of the broadcast: it
	// cannot send any more.
	apptest.WaitFor(t, 30*time.Second, "the workers to let the broadcast go", b.Queue.Idle)
	if later := b.SMTP.Accepted(); later != atCancel {
		t.Errorf("%d messages reached the SMTP server after the cancel answered", later-atCancel)
	}
	a, err := b.Ledger.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Counts
	if res["status"] != "cancelled" || c.Recipients != 5000 || c.Sent+c.Cancelled+c.Skipped+c.Failed != c.Recipients || c.Pending+c.Sending != 0 || c.Sent != atCancel {
		t.Errorf("after the cancel: %v; counts %+v; %d accepted", res["status"], c, atCancel)
	}
	t.Logf("cancelled after %d of 5000 messages", atCancel)
}
