package admin_test

import (
	"context"
	"encoding/json"
	"html"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/smtptest"
)

// auditEntries reads a license's audit log through the API.
func (b *testBundle) auditEntries(t *testing.T, path string) []map[string]any {
	t.Helper()
	var page struct{ Items []map[string]any }
	if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: path}).body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// waitMail waits, without reconciling, until the SMTP server has n
// messages: the notices of a change are enqueued by the change itself.
func (b *testBundle) waitMail(t *testing.T, n int) map[string]smtptest.Message {
	t.Helper()
	apptest.WaitFor(t, 30*time.Second, "the notices", func() bool { return len(b.SMTP.Messages()) >= n })
	got := map[string]smtptest.Message{}
	for _, m := range b.SMTP.Messages() {
		got[m.To[0]] = m
	}
	if len(got) != n {
		t.Fatalf("%d messages to %v, want %d to different people", len(b.SMTP.Messages()), keys(got), n)
	}
	return got
}

func keys(m map[string]smtptest.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestContactChangeNotices makes a change through the API and another
// through the portal, and reads the audit log and the mail of each.
func TestContactChangeNotices(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/products/jira", body: `{"name":"Jira Software"}`})
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"L-1","product":"jira","name":"Acme","contacts":[
			{"email":"ann@acme.test","name":"Ann","role":"technical"},{"email":"bill@acme.test","name":"Bill","role":"billing"}]}`})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/bill@acme.test", body: `{"locale":"de"}`})
		b.startWorkers(t)
		account := b.Config.Lists.PublicURL + "/account"

		// A new license's contacts are audited, and nobody is told.
		if got := b.auditEntries(t, "/api/v1/licenses/L-1/audit"); len(got) != 2 || got[0]["action"] != "added" {
			t.Fatalf("audit of a new license: %v", got)
		}

		t.Run("AnAPIChange", func(t *testing.T) {
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/L-1/contacts", body: `{"email":"bob@acme.test","name":"Bob","role":"technical"}`})

			got := b.auditEntries(t, "/api/v1/audit?license_id=L-1&via=api&limit=1")
			if len(got) != 1 || got[0]["action"] != "added" || got[0]["email"] != "bob@acme.test" || got[0]["role"] != "technical" ||
				got[0]["via"] != "api" || got[0]["actor"] != "HERALD_ADMIN_TOKEN" {
				t.Errorf("audit entry: %v", got)
			}

			mail := b.waitMail(t, 3)
			for _, tc := range []struct {
				to, subject string
				text        []string
			}{
				{"bob@acme.test", "You are now a technical contact of Acme", []string{
					"Our team added you as a technical contact of Acme (L-1), a license of Jira Software.",
					"you will receive notices of new releases of Jira Software",
				}},
				{"ann@acme.test", "bob@acme.test is now a technical contact of Acme", []string{
					"Our team added bob@acme.test as a technical contact of Acme (L-1).",
				}},
				{"bill@acme.test", "bob@acme.test ist jetzt technischer Kontakt von Acme", []string{
					"Unser Team hat bob@acme.test als technischen Kontakt der Lizenz Acme (L-1) eingetragen.",
					"Verwalten, wer diese E-Mails erhält: " + account,
				}},
			} {
				checkNotice(t, mail[tc.to], tc.subject, append(tc.text, account)...)
			}
		})

		t.Run("APortalChange", func(t *testing.T) {
			before := len(b.SMTP.Messages())
			if _, err := b.Contacts.Portal(nil).Promote(context.Background(), "ann@acme.test", "L-1", "bob@acme.test", contacts.Technical); err != nil {
				t.Fatal(err)
			}
			got := b.auditEntries(t, "/api/v1/licenses/L-1/audit?via=portal")
			if len(got) != 1 || got[0]["action"] != "promoted" || got[0]["email"] != "bob@acme.test" || got[0]["actor"] != "ann@acme.test" ||
				got[0]["previous_main"] != "ann@acme.test" || got[0]["main"] != true {
				t.Errorf("audit entry: %v", got)
			}

			// Bob and the main billing contact are told; Ann made the
			// change, and is not.
			apptest.WaitFor(t, 30*time.Second, "the notices", func() bool { return len(b.SMTP.Messages()) >= before+2 })
			mail := map[string]smtptest.Message{}
			for _, m := range b.SMTP.Messages()[before:] {
				mail[m.To[0]] = m
			}
			if diff := keys(mail); !slices.Equal(diff, []string{"bill@acme.test", "bob@acme.test"}) {
				t.Fatalf("told %v, want bill and bob", diff)
			}
			checkNotice(t, mail["bob@acme.test"], "You are now the main technical contact of Acme",
				"ann@acme.test made you the main technical contact of Acme (L-1), in place of ann@acme.test.", account)
			checkNotice(t, mail["bill@acme.test"], "bob@acme.test ist jetzt technischer Hauptkontakt von Acme",
				"ann@acme.test hat bob@acme.test zum technischen Hauptkontakt der Lizenz Acme (L-1) gemacht, anstelle von ann@acme.test.", account)
		})
	})
}

// checkNotice checks a contact-change notice: transactional headers, no
// unsubscribe link, and the subject and text (both parts) that say who did
// what.
func checkNotice(t *testing.T, m smtptest.Message, subject string, text ...string) {
	t.Helper()
	if m.Raw == nil {
		t.Errorf("no notice with subject %q", subject)
		return
	}
	if got := m.Header.Get("Subject"); !strings.Contains(decodeHeader(t, got), subject) {
		t.Errorf("to %s: subject %q, want %q", m.To[0], decodeHeader(t, got), subject)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("to %s: headers %v, want a transactional message", m.To[0], m.Header)
	}
	plain, html := m.MustParts(t)
	for _, want := range text {
		if !strings.Contains(plain, want) {
			t.Errorf("to %s: text lacks %q:\n%s", m.To[0], want, plain)
		}
		if !strings.Contains(strings.ReplaceAll(stripTags(html), "\n", " "), want) {
			t.Errorf("to %s: HTML lacks %q:\n%s", m.To[0], want, html)
		}
	}
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var tag = regexp.MustCompile(`<[^>]*>`)

// stripTags is the text of an HTML part, as a reader sees it.
func stripTags(s string) string { return html.UnescapeString(tag.ReplaceAllString(s, "")) }
