package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// members lists a license's contacts as "role:email*" (* for main).
func (b *testBundle) members(t *testing.T, id string) []string {
	t.Helper()
	l, err := b.Contacts.GetLicense(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range contacts.Roles {
		for _, m := range l.Members(r) {
			s := string(r) + ":" + m.Email
			if m.Main {
				s += "*"
			}
			out = append(out, s)
		}
	}
	return out
}

func TestAccount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		br := b.browser(t)
		b.signIn(t, br, "ann@acme.test")

		t.Run("ListsOnlyTheirLicenses", func(t *testing.T) {
			p := br.get("/account")
			for _, want := range []string{"ACME-1", "Technical contacts", "Billing contacts", "ann@acme.test", "bill@acme.test", `class="main-mark">main`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("/account lacks %q", want)
				}
			}
			for _, never := range []string{"OTHER-1", "bob@other.test", "olga@other.test"} {
				if strings.Contains(p.body, never) {
					t.Errorf("/account shows %q, of a license Ann is no contact of", never)
				}
			}
		})

		t.Run("AddPromoteRemove", func(t *testing.T) {
			p := br.submit("/account", "/account/licenses/ACME-1/contacts", url.Values{"email": {"Bob@Acme.test"}, "name": {"Bob"}, "role": {"technical"}})
			if p.status != http.StatusSeeOther {
				t.Fatalf("add: %d\n%s", p.status, p.body)
			}
			if page := br.get("/account"); !strings.Contains(page.body, "bob@acme.test was added to the technical contacts of ACME-1.") {
				t.Errorf("no word of the add:\n%s", page.body)
			}
			page := br.get("/account")
			for _, name := range []string{
				`aria-label="Make bob@acme.test the main technical contact"`,
				`aria-label="Remove bob@acme.test from technical contacts"`,
			} {
				if !strings.Contains(page.body, name) {
					t.Errorf("/account lacks the control %s", name)
				}
			}
			if p := br.submit("/account", "/account/licenses/ACME-1/promote", url.Values{"email": {"bob@acme.test"}, "role": {"technical"}}); p.status != http.StatusSeeOther {
				t.Fatalf("promote: %d\n%s", p.status, p.body)
			}
			// Ann removes herself from her last license: she is signed out.
			if p := br.submit("/account", "/account/licenses/ACME-1/remove", url.Values{"email": {"ann@acme.test"}, "role": {"technical"}}); p.status != http.StatusSeeOther || p.location() != "/account/sign-in" {
				t.Fatalf("remove: %d to %q\n%s", p.status, p.location(), p.body)
			}
			if p := br.get("/account/sign-in"); !strings.Contains(p.body, "You are no longer a contact of any license, so you were signed out.") {
				t.Errorf("no word of the sign-out:\n%s", p.body)
			}
			if p := br.get("/account"); p.status != http.StatusSeeOther {
				t.Errorf("/account after leaving every license: %d", p.status)
			}
			if diff := cmp.Diff([]string{"technical:bob@acme.test*", "billing:bill@acme.test*"}, b.members(t, "ACME-1")); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	})
}

func TestFormsRefuseHostileRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	// Ann and Carl are contacts of ACME-1; Ann is signed in.
	b.License(t, "ACME-2", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("carl@acme.test", "Carl"))
	ann := b.browser(t)
	b.signIn(t, ann, "ann@acme.test")
	before := map[string][]string{"ACME-2": b.members(t, "ACME-2"), "OTHER-1": b.members(t, "OTHER-1")}
	unchanged := func(t *testing.T) {
		t.Helper()
		for id, want := range before {
			if diff := cmp.Diff(want, b.members(t, id)); diff != "" {
				t.Errorf("%s changed (-before +after):\n%s", id, diff)
			}
		}
	}
	forms := []struct {
		name, path string
		form       url.Values
	}{
		{"Add", "/account/licenses/ACME-2/contacts", url.Values{"email": {"eve@acme.test"}, "name": {"Eve"}, "role": {"technical"}}},
		{"Promote", "/account/licenses/ACME-2/promote", url.Values{"email": {"carl@acme.test"}, "role": {"technical"}}},
		{"Remove", "/account/licenses/ACME-2/remove", url.Values{"email": {"carl@acme.test"}, "role": {"technical"}}},
		{"Preferences", "/account/preferences", url.Values{"name": {"Mallory"}, "language": {"de"}}},
		{"SignOut", "/account/sign-out", url.Values{}},
	}
	token := ann.get("/account").csrf(t)

	t.Run("ForgedToken", func(t *testing.T) {
		for _, f := range forms {
			t.Run(f.name, func(t *testing.T) {
				for _, csrf := range []string{"", "forged", strings.Repeat("A", 43)} {
					form := cloneWith(f.form, "csrf", csrf)
					if p := ann.post(f.path, form); p.status != http.StatusForbidden || !strings.Contains(p.body, "not sent from this site") {
						t.Errorf("token %q: %d\n%s", csrf, p.status, p.body)
					}
				}
				unchanged(t)
			})
		}
	})

	t.Run("TokenOfAnotherSession", func(t *testing.T) {
		carl := b.browser(t)
		b.signIn(t, carl, "carl@acme.test")
		for _, f := range forms {
			if p := carl.post(f.path, cloneWith(f.form, "csrf", token)); p.status != http.StatusForbidden {
				t.Errorf("%s with Ann's token in Carl's session: %d", f.name, p.status)
			}
		}
		unchanged(t)
	})

	t.Run("ForeignOrigin", func(t *testing.T) {
		for _, origin := range []string{"https://evil.test", "null", b.URL} {
			evil := *ann
			evil.origin = origin
			for _, f := range forms {
				if p := evil.post(f.path, cloneWith(f.form, "csrf", token)); p.status != http.StatusForbidden {
					t.Errorf("%s from %s: %d", f.name, origin, p.status)
				}
			}
		}
		unchanged(t)
	})

	t.Run("OtherLicense", func(t *testing.T) {
		for _, f := range forms[:3] {
			for _, id := range []string{"OTHER-1", "NOPE-1"} {
				path := strings.Replace(f.path, "ACME-2", id, 1)
				form := cloneWith(f.form, "csrf", token)
				if f.name != "Add" {
					form.Set("email", "bob@other.test")
				}
				p := ann.post(path, form)
				if p.status != http.StatusNotFound || !strings.Contains(p.body, "None of your licenses has this id.") {
					t.Errorf("%s on %s: %d\n%s", f.name, id, p.status, p.body)
				}
			}
		}
		unchanged(t)
	})

	t.Run("InvalidInput", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			form       url.Values
			want       string
		}{
			{"AddBadAddress", "/account/licenses/ACME-2/contacts", url.Values{"email": {"not-an-address"}, "role": {"technical"}}, "Email address: "},
			{"AddBadRole", "/account/licenses/ACME-2/contacts", url.Values{"email": {"eve@acme.test"}, "role": {"boss"}}, "Role: "},
			{"PromoteBadRole", "/account/licenses/ACME-2/promote", url.Values{"email": {"carl@acme.test"}, "role": {"boss"}}, "role"},
			{"PreferencesBadLanguage", "/account/preferences", url.Values{"name": {"Ann"}, "language": {"xx"}}, "Language: "},
			{"PreferencesNameTooLong", "/account/preferences", url.Values{"name": {strings.Repeat("n", 10000)}, "language": {"en"}}, "Name: "},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ann.post(tc.path, cloneWith(tc.form, "csrf", token))
				if p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
					t.Errorf("%d, want 400 saying %q\n%s", p.status, tc.want, p.body)
				}
			})
		}
		unchanged(t)
	})

	t.Run("ForbiddenByTheRules", func(t *testing.T) {
		// Carl is main? No: Ann is the main technical contact of ACME-2,
		// and Carl's address shares her domain; only Ann may remove Ann.
		carl := b.browser(t)
		b.signIn(t, carl, "carl@acme.test")
		p := carl.submit("/account", "/account/licenses/ACME-2/remove", url.Values{"email": {"ann@acme.test"}, "role": {"technical"}})
		if p.status != http.StatusForbidden {
			t.Errorf("Carl removing Ann, the main contact: %d\n%s", p.status, p.body)
		}
		unchanged(t)
	})
}

func TestAddsAreLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ann := b.browser(t)
	b.signIn(t, ann, "ann@acme.test")
	token := ann.get("/account").csrf(t)
	for i := range 21 {
		form := url.Values{"csrf": {token}, "email": {fmt.Sprintf("c%d@acme.test", i)}, "role": {"technical"}}
		p := ann.post("/account/licenses/ACME-1/contacts", form)
		want := http.StatusSeeOther
		if i == 20 {
			want = http.StatusTooManyRequests
		}
		if p.status != want {
			t.Fatalf("add %d: %d, want %d\n%s", i+1, p.status, want, p.body)
		}
	}
	if got := len(b.members(t, "ACME-1")); got != 22 {
		t.Errorf("%d contacts, want Ann, Bill and the 20 added", got)
	}
}

func cloneWith(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(key, value)
	return out
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	bill := b.browser(t)
	b.signIn(t, bill, "bill@acme.test")
	p := bill.get("/account/preferences")
	for _, want := range []string{`<label for="name">Name</label>`, `<label for="language">Language</label>`, `<label for="releases">Release notices</label>`,
		`<label for="broadcasts">Announcements</label>`, "they cannot be turned off while you are one"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("preferences lack %q", want)
		}
	}
	// Release notices and broadcasts are two switches: each one saved
	// leaves the other as chosen, and the page shows what was saved.
	for _, tc := range []struct {
		name                       string
		form                       url.Values
		releasesOff, broadcastsOff bool
	}{
		{"OnlyBroadcasts", url.Values{"name": {"Bill"}, "language": {"en"}, "broadcasts": {"on"}}, true, false},
		{"OnlyReleases", url.Values{"name": {"Bill"}, "language": {"en"}, "releases": {"on"}}, false, true},
		{"Both", url.Values{"name": {"Bill"}, "language": {"en"}, "releases": {"on"}, "broadcasts": {"on"}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := bill.submit("/account/preferences", "/account/preferences", tc.form); p.status != http.StatusSeeOther {
				t.Fatalf("save: %d\n%s", p.status, p.body)
			}
			c, err := b.Contacts.GetContact(context.Background(), "bill@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if c.ReleaseOptOut != tc.releasesOff || c.BroadcastOptOut != tc.broadcastsOff {
				t.Errorf("release_opt_out %v, broadcast_opt_out %v; want %v, %v", c.ReleaseOptOut, c.BroadcastOptOut, tc.releasesOff, tc.broadcastsOff)
			}
			page := bill.get("/account/preferences").body
			for id, off := range map[string]bool{"releases": tc.releasesOff, "broadcasts": tc.broadcastsOff} {
				checked := regexp.MustCompile(`id="` + id + `"[^>]* checked`).MatchString(page)
				if checked == off {
					t.Errorf("%s box checked %v after saving opt-out %v", id, checked, off)
				}
			}
		})
	}
	p = bill.submit("/account/preferences", "/account/preferences", url.Values{"name": {"Bill Payer"}, "language": {"de"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	c, err := b.Contacts.GetContact(context.Background(), "bill@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Bill Payer" || c.Locale != "de" || !c.ReleaseOptOut || !c.BroadcastOptOut {
		t.Errorf("saved %+v", c)
	}
	if p := bill.get("/account/preferences"); !strings.Contains(p.body, `<html lang="de">`) || !strings.Contains(p.body, "Ihre Einstellungen sind gespeichert.") {
		t.Errorf("the page does not speak the language chosen:\n%s", p.body)
	}
	// The unsubscribe page's link comes here, and without a session it
	// leads to the sign-in, in the browser's language.
	stranger := b.browser(t)
	req, _ := http.NewRequest("GET", b.PublicURL+"/account/sign-in", nil)
	req.Header.Set("Accept-Language", "de-AT, en;q=0.5")
	if p := stranger.do(req); !strings.Contains(p.body, "Anmeldelink senden") {
		t.Errorf("sign-in page for a German browser:\n%s", p.body)
	}
}
