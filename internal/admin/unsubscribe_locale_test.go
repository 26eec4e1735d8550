package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
)

func TestUnsubscribePageSpeaksTheContactsLanguage(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[
			{"email":"uwe@acme.test","name":"Uwe","role":"technical"},{"email":"ann@acme.test","name":"Ann","role":"technical"}]}`})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/uwe@acme.test", body: `{"locale":"de-AT"}`})
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

		page := func(t *testing.T, method, link, acceptLanguage string) (int, string) {
			t.Helper()
			var body io.Reader
			if method == "POST" {
				body = strings.NewReader("List-Unsubscribe=One-Click")
			}
			req, err := http.NewRequest(method, link, body)
			if err != nil {
				t.Fatal(err)
			}
			if method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			// The browser's language loses to the contact's.
			req.Header.Set("Accept-Language", acceptLanguage)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			html, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(html)
		}
		for _, tc := range []struct {
			name, method, link, acceptLanguage string
			status                             int
			want                               []string
		}{
			{"GermanContactAsked", "GET", links["uwe@acme.test"], "en", 200, []string{`<html lang="de">`, "<title>Abmelden</title>",
				"Keine Versionshinweise mehr an <strong>uwe@acme.test</strong> senden?", `<button type="submit">Abmelden</button>`}},
			{"EnglishContactAsked", "GET", links["ann@acme.test"], "de", 200, []string{`<html lang="en">`, "<title>Unsubscribe</title>",
				"Stop sending release notices to <strong>ann@acme.test</strong>?"}},
			{"GermanContactDone", "POST", links["uwe@acme.test"], "en", 200, []string{`<html lang="de">`, "<h1>Abgemeldet</h1>",
				"uwe@acme.test erhält keine Versionshinweise mehr."}},
			{"ForgedLinkInTheBrowsersLanguage", "GET", b.URL + "/unsubscribe/forged.token", "de-CH, en;q=0.5", 404, []string{`<html lang="de">`, "Dieser Abmeldelink ist ungültig."}},
			{"ForgedLinkInEnglishByDefault", "GET", b.URL + "/unsubscribe/forged.token", "ja", 404, []string{`<html lang="en">`, "This unsubscribe link is not valid."}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, html := page(t, tc.method, tc.link, tc.acceptLanguage)
				if status != tc.status {
					t.Errorf("status %d, want %d", status, tc.status)
				}
				for _, want := range tc.want {
					if !strings.Contains(html, want) {
						t.Errorf("page lacks %q:\n%s", want, html)
					}
				}
			})
		}
	})
}
