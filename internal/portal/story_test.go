package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestFAQStory is the story herald's portal exists for, in a real browser:
// "I am currently the only technical contact for my license, but I would
// like to add a colleague. How do I do that?" Ann, the only technical
// contact of ACME-1 (Bill is its main billing contact), signs in through
// the link herald mails her, adds her colleague Bob, makes him main with
// ↑, adds Pat, whose gmail.com address she may not make main, and removes
// herself with ×, which signs her out. Pat then signs in and makes
// herself main. The store, the audit log and the mails show what
// happened. Each step is logged and photographed (HERALD_TEST_SCREENSHOTS
// keeps the pictures).
func TestFAQStory(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		s := &story{t: t, ctx: browsertest.New(t), b: setup(t, database), prefix: "story-" + database.Name}

		s.step("Ann opens the portal and is asked to sign in")
		s.run(chromedp.Navigate(s.b.PublicURL + "/account"))
		s.see("h1", "Sign in")

		s.step("Ann asks for a sign-in link")
		s.run(browsertest.Fill("Email address", "ann@acme.test"), browsertest.Click("button", "Send me a sign-in link"))
		s.see("h1", "Check your mail")

		s.step("Ann opens the link from the mail the SMTP server received")
		s.run(chromedp.Navigate(s.b.PublicURL + s.b.linkFor(t, "ann@acme.test", 1)))
		s.see("p", "Sign in as ann@acme.test?")

		s.step("Ann presses Sign in and sees her license, opened: her only one")
		s.run(browsertest.Click("button", "Sign in"))
		s.see("h1", "My licenses")
		s.run(chromedp.WaitVisible(chromedp.CSS(`details#license-ACME-1[open]`)))
		s.see("span", "ann@acme.test is the only technical contact and cannot be removed: add another technical contact first.")

		s.step("Ann adds Bob, of her own company, as a technical contact")
		s.add("bob@acme.test", "Bob")
		s.see("p", "bob@acme.test was added to the technical contacts of ACME-1.")

		s.step("Ann makes Bob the main technical contact with ↑")
		s.run(browsertest.Click("button", "Make bob@acme.test the main technical contact"))
		s.see("p", "bob@acme.test is now the main technical contact of ACME-1.")
		s.see("span", "Only bob@acme.test can remove themselves, as the main technical contact.")

		s.step("Ann adds Pat, whose address is at a public mail provider: no ↑ for Pat, and the page says why")
		s.add("pat@gmail.com", "Pat")
		s.see("p", "pat@gmail.com was added to the technical contacts of ACME-1.")
		s.see("span", "pat@gmail.com must sign in and make themselves main: only an address of the main technical contact's own company domain can be made main by someone else.")
		s.absent("button", "Make pat@gmail.com the main technical contact")

		s.step("Ann removes herself with × and, a contact of no license any more, is signed out")
		s.run(browsertest.Click("button", "Remove ann@acme.test from technical contacts"))
		s.see("p", "You are no longer a contact of any license, so you were signed out.")

		s.step("Ann's session is over: /account asks her to sign in again")
		s.run(chromedp.Navigate(s.b.PublicURL + "/account"))
		s.see("h1", "Sign in")

		s.step("Pat asks for a sign-in link and signs in")
		s.run(browsertest.Fill("Email address", "pat@gmail.com"), browsertest.Click("button", "Send me a sign-in link"))
		s.see("h1", "Check your mail")
		s.run(chromedp.Navigate(s.b.PublicURL + s.b.linkFor(t, "pat@gmail.com", 1)))
		s.see("p", "Sign in as pat@gmail.com?")
		s.run(browsertest.Click("button", "Sign in"))
		s.see("h1", "My licenses")

		s.step("Pat makes herself the main technical contact")
		s.run(browsertest.Click("button", "Make me the main technical contact"))
		s.see("p", "pat@gmail.com is now the main technical contact of ACME-1.")

		s.step("The store, the audit log and the mails tell the same story")
		want := []string{"technical:pat@gmail.com*", "technical:bob@acme.test", "billing:bill@acme.test*"}
		if diff := cmp.Diff(want, s.b.members(t, "ACME-1")); diff != "" {
			t.Errorf("ACME-1's contacts (-want +got):\n%s", diff)
		}
		s.checkAudit()
		s.checkMail()
	})
}

// story is one run of the FAQ story: the browser, herald, and the step
// being shown.
type story struct {
	t      *testing.T
	ctx    context.Context
	b      *testBundle
	prefix string
	n      int
	title  string
}

// step starts a step of the story: the previous one ends with a screenshot
// of where it left the browser.
func (s *story) step(title string) {
	s.t.Helper()
	s.shoot()
	s.n++
	s.title = title
	s.t.Logf("step %d: %s", s.n, title)
}

var slug = regexp.MustCompile(`[^a-z0-9]+`)

func (s *story) shoot() {
	s.t.Helper()
	if s.n == 0 {
		return
	}
	name := strings.Trim(slug.ReplaceAllString(strings.ToLower(s.title), "-"), "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-")
	}
	browsertest.Screenshot(s.t, s.ctx, fmt.Sprintf("%s-%02d-%s", s.prefix, s.n, name))
}

func (s *story) run(actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if err := chromedp.Do(s.ctx, actions...); err != nil {
		s.t.Fatalf("step %d (%s): %v", s.n, s.title, err)
	}
}

// see waits, with the browser's deadline, until an element tag of the
// page shows text: the page a click leads to has loaded.
func (s *story) see(tag, text string) {
	s.t.Helper()
	wait, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(fmt.Sprintf(`//main//%s[contains(normalize-space(.), %q)]`, tag, text))); err != nil {
		dump, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		body, _ := chromedp.Run(dump, chromedp.Text(chromedp.CSS("main")))
		s.t.Fatalf("step %d (%s): no %s saying %q: %v; the page says:\n%s", s.n, s.title, tag, text, err, body)
	}
}

// absent checks that the page has no control of role named name.
func (s *story) absent(role, name string) {
	s.t.Helper()
	nodes, err := chromedp.Run(s.ctx, chromedp.Nodes("", browsertest.Named(role, name), chromedp.AtLeast(0)))
	if err != nil {
		s.t.Fatal(err)
	}
	if len(nodes) > 0 {
		s.t.Errorf("step %d (%s): the page has a %s %q", s.n, s.title, role, name)
	}
}

// add fills in and sends the form that adds a technical contact.
func (s *story) add(email, name string) {
	s.t.Helper()
	s.run(
		browsertest.Fill("Email address", email),
		browsertest.Fill("Name", name),
		chromedp.SetValue("combobox Role", "technical", browsertest.Named("combobox", "Role")),
		browsertest.Click("button", "Add contact"),
	)
}

// checkAudit reads the license's audit log through the admin API: every
// change, by whom, through the portal.
func (s *story) checkAudit() {
	t := s.t
	t.Helper()
	req, _ := http.NewRequest("GET", s.b.URL+"/api/v1/licenses/ACME-1/audit?via=portal", nil)
	req.Header.Set("Authorization", "Bearer "+s.b.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Items []struct {
			Action, Email, Role, Via, Actor string
			Main                            bool
			PreviousMain                    *string `json:"previous_main"`
		}
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET audit: %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range slices.Backward(list.Items) {
		line := fmt.Sprintf("%s %s %s by %s:%s", e.Action, e.Role, e.Email, e.Via, e.Actor)
		if e.Main {
			line += ", main"
		}
		if e.PreviousMain != nil {
			line += " in place of " + *e.PreviousMain
		}
		got = append(got, line)
	}
	want := []string{
		"added technical bob@acme.test by portal:ann@acme.test",
		"promoted technical bob@acme.test by portal:ann@acme.test, main in place of ann@acme.test",
		"added technical pat@gmail.com by portal:ann@acme.test",
		"removed technical ann@acme.test by portal:ann@acme.test",
		"promoted technical pat@gmail.com by portal:pat@gmail.com, main in place of bob@acme.test",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log of ACME-1, oldest first (-want +got):\n%s", diff)
	}
}

// checkMail compares the subjects of the mail each person received, once
// every notice is sent: Bob hears of his own add and promotion and, as
// main contact, of the changes after it; Bill, the main billing contact,
// of every change; nobody of a change they made themselves.
func (s *story) checkMail() {
	t := s.t
	t.Helper()
	s.b.WaitAllDone(t)
	const license = " of Customer ACME-1"
	want := map[string][]string{
		"ann@acme.test": {"Your sign-in link"},
		"bob@acme.test": {
			"You are now a technical contact" + license,
			"You are now the main technical contact" + license,
			"pat@gmail.com is now a technical contact" + license,
			"ann@acme.test is no longer a technical contact" + license,
			"pat@gmail.com is now the main technical contact" + license,
		},
		"bill@acme.test": {
			"bob@acme.test is now a technical contact" + license,
			"bob@acme.test is now the main technical contact" + license,
			"pat@gmail.com is now a technical contact" + license,
			"ann@acme.test is no longer a technical contact" + license,
			"pat@gmail.com is now the main technical contact" + license,
		},
		"pat@gmail.com": {"You are now a technical contact" + license, "Your sign-in link"},
	}
	got := map[string][]string{}
	var dec mime.WordDecoder
	for _, m := range s.b.SMTP.Messages() {
		subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range m.To {
			got[to] = append(got[to], subject)
		}
		if len(m.To) == 1 && m.To[0] == "bob@acme.test" && strings.HasPrefix(subject, "You are now a technical") {
			text, _ := m.MustParts(t)
			for _, line := range []string{"ann@acme.test added you as a technical contact of Customer ACME-1 (ACME-1)",
				"Manage who receives these emails: " + s.b.PublicURL + "/account"} {
				if !strings.Contains(text, line) {
					t.Errorf("Bob's welcome lacks %q:\n%s", line, text)
				}
			}
		}
	}
	// The notices are sent concurrently: their order is not the story's.
	for _, subjects := range want {
		slices.Sort(subjects)
	}
	for _, subjects := range got {
		slices.Sort(subjects)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mail received, by recipient (-want +got):\n%s", diff)
	}
}
