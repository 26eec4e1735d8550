package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/web"
)

// customers adds to the bundle's licenses (ACME-1, jira: ann and tom
// technical, bill billing; OTHER-1, confluence, expired: bob) the people
// the composers are tried on: ann is also a contact of GLOBEX-7; opt left
// broadcasts, tom left release notices, and sue's address is suppressed.
func (b *testBundle) customers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	b.License(t, "GLOBEX-7", "confluence", contacts.Active, apptest.Tech("hank@globex.test", "Hank"),
		apptest.Billing("gina@globex.test", "Gina"), apptest.Tech("ann@acme.test", "Ann"))
	b.License(t, "HOOLI-5", "jira", contacts.Active, apptest.Tech("gavin@hooli.test", "Gavin"),
		apptest.Tech("opt@hooli.test", "Opt"), apptest.Billing("sue@hooli.test", "Sue"))
	yes := true
	if _, err := b.Contacts.UpdateContact(ctx, "opt@hooli.test", contacts.ContactPatch{BroadcastOptOut: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Contacts.UpdateContact(ctx, "tom@acme.test", contacts.ContactPatch{ReleaseOptOut: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := b.Contacts.Suppress(ctx, "sue@hooli.test", contacts.Suppression{Reply: "550 5.1.1 no such user", Code: 550, Enhanced: "5.1.1"}); err != nil {
		t.Fatal(err)
	}
}

// made lists the broadcasts and releases in the ledger: what the
// composers may create only once confirmed.
func (b *testBundle) made(t *testing.T) []ledger.Announcement {
	t.Helper()
	var out []ledger.Announcement
	for _, kind := range []ledger.Kind{kinds.Broadcast, kinds.Release} {
		list, err := b.Ledger.List(context.Background(), ledger.Filter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list.Items...)
	}
	return out
}

var (
	previewCount  = regexp.MustCompile(`<p class="count" role="status"><strong>(\d+)</strong>`)
	previewSample = regexp.MustCompile(`<li><a href="/console/people/[^"]*">([^<]+)</a></li>`)
	previewFrame  = regexp.MustCompile(`<iframe class="mail" ([^>]*)>`)
	hiddenCount   = regexp.MustCompile(`name="count" value="(\d+)"`)
)

// shown reads the count and the sample a page shows.
func shown(t *testing.T, p page) (int, []string) {
	t.Helper()
	m := previewCount.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no count on the page (%d):\n%s", p.status, p.body)
	}
	n, _ := strconv.Atoi(m[1])
	var sample []string
	for _, s := range previewSample.FindAllStringSubmatch(p.body, -1) {
		sample = append(sample, html.UnescapeString(s[1]))
	}
	return n, sample
}

func broadcastForm(subject, body string, audience url.Values) url.Values {
	form := url.Values{"subject": {subject}, "body": {body}}
	for k, v := range audience {
		form[k] = v
	}
	return form
}

// TestComposeBroadcast composes broadcasts as an editor: the preview
// counts and samples what the fan-out will reach, the test goes to the
// editor alone, nothing is stored before the confirmation, and the
// confirmed broadcast is sent to the count it stated.
func TestComposeBroadcast(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setupWith(t, apptest.Options{Database: database, API: true, Workers: true})
		b.customers(t)
		ctx := context.Background()
		br := b.browser(t)
		b.signIn(t, br, "eve@herald.test")
		const composer = "/console/broadcasts/new"

		t.Run("PreviewCountsAsTheFanOut", func(t *testing.T) {
			for _, tt := range []struct {
				name     string
				form     url.Values
				audience kinds.BroadcastAudience
				want     []string
			}{
				// opt left broadcasts (tom only release notices); bob's
				// license expired; sue is suppressed.
				{"Technical", url.Values{"role": {"technical"}}, kinds.BroadcastAudience{Roles: []contacts.Role{contacts.Technical}},
					[]string{"ann@acme.test", "gavin@hooli.test", "hank@globex.test", "tom@acme.test"}},
				{"Jira", url.Values{"product": {"jira"}}, kinds.BroadcastAudience{Products: []string{"jira"}},
					[]string{"ann@acme.test", "bill@acme.test", "gavin@hooli.test", "tom@acme.test"}},
				{"OneLicense", url.Values{"licenses": {" GLOBEX-7 "}}, kinds.BroadcastAudience{Licenses: []string{"GLOBEX-7"}},
					[]string{"ann@acme.test", "gina@globex.test", "hank@globex.test"}},
				{"MainOnly", url.Values{"main": {"on"}}, kinds.BroadcastAudience{MainOnly: true},
					[]string{"ann@acme.test", "bill@acme.test", "gavin@hooli.test", "gina@globex.test", "hank@globex.test"}},
				{"BillingOfJiraAndConfluence", url.Values{"role": {"billing"}, "product": {"jira", "confluence"}},
					kinds.BroadcastAudience{Roles: []contacts.Role{contacts.Billing}, Products: []string{"confluence", "jira"}},
					[]string{"bill@acme.test", "gina@globex.test"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					p := br.submit(composer, "/console/broadcasts/preview", broadcastForm("Maintenance", "Tonight.", tt.form))
					if p.status != http.StatusOK {
						t.Fatalf("preview: %d\n%s", p.status, p.body)
					}
					count, err := tt.audience.Count(ctx, b.Contacts)
					if err != nil {
						t.Fatal(err)
					}
					n, sample := shown(t, p)
					if n != count.Recipients || !slices.Equal(sample, count.Sample) {
						t.Errorf("page shows %d %v; the count says %d %v", n, sample, count.Recipients, count.Sample)
					}
					if diff := cmp.Diff(tt.want, sample); diff != "" {
						t.Errorf("sample (-want +got):\n%s", diff)
					}
					if strings.Contains(p.body, "opt@hooli.test") || strings.Contains(p.body, "sue@hooli.test") {
						t.Error("the preview lists someone opted out or suppressed")
					}
				})
			}
		})

		t.Run("PreviewFramesTheMessageSandboxed", func(t *testing.T) {
			body := "Dear customer,\n\nwe **upgrade** <script>alert(1)</script> the servers & the [status page](https://status.example.com).\n"
			p := br.submit(composer, "/console/broadcasts/preview", broadcastForm("Upgrade <tonight>", body, url.Values{"licenses": {"ACME-1"}}))
			if p.status != http.StatusOK {
				t.Fatalf("preview: %d\n%s", p.status, p.body)
			}
			frame := previewFrame.FindStringSubmatch(p.body)
			if frame == nil {
				t.Fatalf("no framed message:\n%s", p.body)
			}
			attrs := frame[1]
			if !regexp.MustCompile(`(^| )sandbox( |$|=""( |$))`).MatchString(attrs) || strings.Contains(attrs, "allow-") {
				t.Errorf("the frame is not sandboxed without exceptions: %s", attrs)
			}
			srcdoc := regexp.MustCompile(`srcdoc="([^"]*)"`).FindStringSubmatch(attrs)
			if srcdoc == nil {
				t.Fatalf("no srcdoc: %s", attrs)
			}
			// The message is in the attribute escaped, and is what the
			// renderer makes of the body.
			tester, err := b.Previewer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := tester.Preview(kinds.BroadcastParams{Subject: "Upgrade <tonight>", Body: body}, "ann@acme.test", "")
			if err != nil {
				t.Fatal(err)
			}
			if html.UnescapeString(srcdoc[1]) != msg.HTML {
				t.Errorf("the frame's document is not the message:\n%s\n---\n%s", html.UnescapeString(srcdoc[1]), msg.HTML)
			}
			if !strings.Contains(srcdoc[1], "&lt;strong&gt;upgrade&lt;/strong&gt;") || strings.Contains(srcdoc[1], "<") {
				t.Errorf("the rendered body is not escaped in the attribute: %.300s", srcdoc[1])
			}
			if strings.Contains(p.body, "<script>alert") || strings.Contains(msg.HTML, "<script>") {
				t.Error("the body's script reached the page or the message")
			}
			// The page allows the message's own inline styles, hashed,
			// and fetching its preview; nothing else inline.
			csp := p.header.Get("Content-Security-Policy")
			for _, h := range web.StyleHashes(msg.HTML) {
				if !strings.Contains(csp, h) {
					t.Errorf("the policy does not allow the style %s of the message: %s", h, csp)
				}
			}
			if !strings.Contains(csp, "'unsafe-hashes'") || !strings.Contains(csp, "connect-src 'self'") ||
				strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self';") {
				t.Errorf("policy: %s", csp)
			}
			if !strings.Contains(p.body, "Upgrade &lt;tonight&gt;") {
				t.Error("the subject is not shown escaped")
			}
		})

		t.Run("TestReachesOnlyTheEditor", func(t *testing.T) {
			before := len(b.SMTP.Messages())
			p := br.submit(composer, "/console/broadcasts/test", broadcastForm("Price change", "New **prices**.", url.Values{"product": {"jira"}}))
			if p.status != http.StatusOK || !strings.Contains(p.body, "Sent a test to eve@herald.test, and to no one else") {
				t.Fatalf("test send: %d\n%s", p.status, p.body)
			}
			if !strings.Contains(p.body, `value="Price change"`) || !strings.Contains(p.body, `id="product-jira" name="product" value="jira" checked`) {
				t.Error("the form was not kept")
			}
			sent := b.SMTP.Messages()[before:]
			if len(sent) != 1 || len(sent[0].To) != 1 || sent[0].To[0] != "eve@herald.test" || sent[0].Header.Get("Subject") != "[TEST] Price change" {
				var to []string
				for _, m := range sent {
					to = append(to, strings.Join(m.To, ",")+" "+m.Header.Get("Subject"))
				}
				t.Errorf("sent %v, want one test to eve@herald.test", to)
			}
		})

		t.Run("NothingIsStoredBeforeTheConfirmation", func(t *testing.T) {
			if made := b.made(t); len(made) != 0 {
				t.Fatalf("preview and test stored %+v", made)
			}
			p := br.submit(composer, "/console/broadcasts/confirm", broadcastForm("Price change", "New prices.", url.Values{"product": {"jira"}}))
			if p.status != http.StatusOK || !strings.Contains(p.body, "Send to 4 recipients") || !strings.Contains(p.body, "“Price change” to 4 recipients?") {
				t.Fatalf("confirmation: %d\n%s", p.status, p.body)
			}
			if made := b.made(t); len(made) != 0 {
				t.Fatalf("the confirmation page stored %+v", made)
			}
		})

		t.Run("ScheduledInTheEditorsZone", func(t *testing.T) {
			form := broadcastForm("Maintenance window", "Servers down for an hour.", url.Values{"role": {"technical"}, "send_at": {"2031-05-01T09:00"}})
			p := br.submit(composer, "/console/broadcasts/confirm", form)
			if p.status != http.StatusOK {
				t.Fatalf("confirmation: %d\n%s", p.status, p.body)
			}
			for _, want := range []string{"2031-05-01 09:00 CEST (Europe/Berlin)", "2031-05-01 07:00 UTC", "Schedule for 4 recipients"} {
				if !strings.Contains(p.body, want) {
					t.Errorf("the confirmation does not say %q:\n%s", want, p.body)
				}
			}
			form.Set("count", hiddenCount.FindStringSubmatch(p.body)[1])
			p = br.submit(composer, "/console/broadcasts", form)
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/console/announcements/") {
				t.Fatalf("confirm: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
			}
			id, _ := strconv.ParseInt(strings.TrimPrefix(p.header.Get("Location"), "/console/announcements/"), 10, 64)
			a, err := b.Ledger.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2031, 5, 1, 7, 0, 0, 0, time.UTC); !a.SendAt.Equal(want) || a.Status != ledger.Scheduled || a.Kind != kinds.Broadcast {
				t.Errorf("announcement %s %s at %s, want a broadcast scheduled at %s", a.Kind, a.Status, a.SendAt, want)
			}
			if page := br.get(p.header.Get("Location")); !strings.Contains(page.body, "Scheduled for 4 recipients: 2031-05-01 09:00 CEST (Europe/Berlin) · 2031-05-01 07:00 UTC.") {
				t.Errorf("the announcement's page does not say when:\n%s", page.body)
			}
			if _, err := b.Ledger.Cancel(ctx, id); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ConfirmedIsSentToTheCountStated", func(t *testing.T) {
			form := broadcastForm("New prices", "From **June**.", url.Values{"product": {"confluence"}})
			p := br.submit(composer, "/console/broadcasts/confirm", form)
			if p.status != http.StatusOK || !strings.Contains(p.body, "Send to 3 recipients") {
				t.Fatalf("confirmation: %d\n%s", p.status, p.body)
			}
			form.Set("count", hiddenCount.FindStringSubmatch(p.body)[1])
			before := len(b.made(t))
			// Kim joins GLOBEX-7 meanwhile: the count stated is no longer
			// true, and nothing is sent.
			if _, err := b.Contacts.AddMember(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, "GLOBEX-7", contacts.NewMember{Email: "kim@globex.test", Role: contacts.Technical}); err != nil {
				t.Fatal(err)
			}
			p = br.submit(composer, "/console/broadcasts", form)
			if p.status != http.StatusConflict || !strings.Contains(p.body, "it is 4 recipients now, not 3") || !strings.Contains(p.body, "Send to 4 recipients") {
				t.Fatalf("a changed audience: %d\n%s", p.status, p.body)
			}
			if n := len(b.made(t)); n != before {
				t.Fatalf("a changed audience stored %d announcements", n-before)
			}
			form.Set("count", hiddenCount.FindStringSubmatch(p.body)[1])
			p = br.submit(composer, "/console/broadcasts", form)
			if p.status != http.StatusSeeOther {
				t.Fatalf("confirm: %d\n%s", p.status, p.body)
			}
			if n := len(b.made(t)); n != before+1 {
				t.Fatalf("confirming stored %d announcements, want 1", n-before)
			}
			id, _ := strconv.ParseInt(strings.TrimPrefix(p.header.Get("Location"), "/console/announcements/"), 10, 64)
			a := b.WaitDone(t, id)
			if a.Counts.Sent != 4 || a.Counts.Recipients != 4 {
				t.Errorf("counts %+v, want the 4 confirmed sent", a.Counts)
			}
			var to []string
			for _, m := range b.SMTP.Messages() {
				if m.Header.Get("Subject") == "New prices" {
					to = append(to, m.To...)
				}
			}
			slices.Sort(to)
			if diff := cmp.Diff([]string{"ann@acme.test", "gina@globex.test", "hank@globex.test", "kim@globex.test"}, to); diff != "" {
				t.Errorf("sent to (-want +got):\n%s", diff)
			}
			if page := br.get(p.header.Get("Location")); !strings.Contains(page.body, "Sending to 4 recipients.") {
				t.Errorf("the announcement's page has no flash:\n%s", page.body)
			}
		})

		t.Run("BadInputNamesTheFieldAndStoresNothing", func(t *testing.T) {
			before := len(b.made(t))
			for _, tt := range []struct {
				name string
				form url.Values
				says string
			}{
				{"NoSubject", broadcastForm(" ", "Text.", nil), "Subject is required."},
				{"NoBody", broadcastForm("S", "", nil), "Message is required."},
				{"UnknownProduct", broadcastForm("S", "Text.", url.Values{"product": {"bamboo"}}), "Products: &#34;bamboo&#34; is not a product herald knows."},
				{"UnknownLicense", broadcastForm("S", "Text.", url.Values{"licenses": {"ACME-1, NOPE-9"}}), "Licenses: NOPE-9 is not a license herald knows."},
				{"BadRole", broadcastForm("S", "Text.", url.Values{"role": {"owner"}}), "Roles: &#34;owner&#34; is not a role"},
				{"NoOneMatches", broadcastForm("S", "Text.", url.Values{"licenses": {"OTHER-1"}}), "Audience: no one would receive it."},
				{"BadMarkdown", broadcastForm("S", strings.Repeat("[a](b", 4000), nil), "Message: line 1: too many links"},
				{"BadTime", broadcastForm("S", "Text.", url.Values{"send_at": {"next tuesday"}}), "Send at: &#34;next tuesday&#34; is not a date and time such as 2031-05-01T09:00."},
				{"PastTime", broadcastForm("S", "Text.", url.Values{"send_at": {"2001-01-01T09:00"}}), "is in the past; leave it empty to send at once."},
			} {
				for _, to := range []string{"preview", "confirm", "test", ""} {
					t.Run(tt.name+"/"+to, func(t *testing.T) {
						if to == "test" && !strings.Contains(tt.says, "Subject") && !strings.Contains(tt.says, "Message") {
							t.Skip("a test send needs only a subject and a message")
						}
						form := url.Values{"count": {"1"}}
						for k, v := range tt.form {
							form[k] = v
						}
						path := "/console/broadcasts"
						if to != "" {
							path += "/" + to
						}
						sent := len(b.SMTP.Messages())
						p := br.submit(composer, path, form)
						if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.says) {
							t.Errorf("%d, want 400 saying %q\n%s", p.status, tt.says, p.body)
						}
						if kept := `name="subject" value="` + html.EscapeString(tt.form.Get("subject")) + `"`; !strings.Contains(p.body, kept) {
							t.Errorf("the form is not shown again as sent (no %s)", kept)
						}
						if n := len(b.SMTP.Messages()); n != sent {
							t.Errorf("bad input sent %d messages", n-sent)
						}
					})
				}
			}
			if n := len(b.made(t)); n != before {
				t.Errorf("bad input stored %d announcements", n-before)
			}
		})
	})
}

// TestAnnounceRelease announces a release from the console: its preview
// counts the technical contacts of the product's active licenses who did
// not leave release notices, the confirmed release is sent, and the same
// version again is refused with a link to its announcement.
func TestAnnounceRelease(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setupWith(t, apptest.Options{Database: database, API: true, Workers: true})
		b.customers(t)
		ctx := context.Background()
		// bitbucket is named, but no license has it: no one would hear.
		for key, name := range map[string]string{"jira": "Jira Software", "bitbucket": "Bitbucket"} {
			if _, _, err := b.Contacts.PutProduct(ctx, key, name); err != nil {
				t.Fatal(err)
			}
		}
		br := b.browser(t)
		b.signIn(t, br, "eve@herald.test")
		const form = "/console/releases/new"
		release := url.Values{"product": {"jira"}, "version": {"9.5.0"}, "notes": {"## What's new\n\n* Faster **boards**"}, "url": {"https://example.com/jira-9.5"}}

		if p := br.get(form); p.status != http.StatusOK || !strings.Contains(p.body, `<option value="jira">Jira Software (jira)</option>`) {
			t.Fatalf("release form: %d\n%s", p.status, p.body)
		}
		p := br.submit(form, "/console/releases/preview", release)
		if p.status != http.StatusOK {
			t.Fatalf("preview: %d\n%s", p.status, p.body)
		}
		count, err := kinds.ReleaseAudience{Product: "jira"}.Count(ctx, b.Contacts)
		if err != nil {
			t.Fatal(err)
		}
		n, sample := shown(t, p)
		// tom left release notices; opt only broadcasts.
		if n != count.Recipients || !slices.Equal(sample, count.Sample) || !slices.Equal(sample, []string{"ann@acme.test", "gavin@hooli.test", "opt@hooli.test"}) {
			t.Errorf("page shows %d %v; the count says %d %v", n, sample, count.Recipients, count.Sample)
		}
		for _, want := range []string{"Jira Software 9.5.0 is available", "&lt;strong&gt;boards&lt;/strong&gt;", "You receive this as technical contact of Customer ACME-1 (ACME-1)"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the preview lacks %q", want)
			}
		}
		if made := b.made(t); len(made) != 0 {
			t.Fatalf("the preview stored %+v", made)
		}

		p = br.submit(form, "/console/releases/confirm", release)
		if p.status != http.StatusOK || !strings.Contains(p.body, "Announce “Jira Software 9.5.0” to 3 recipients?") || !strings.Contains(p.body, "At once, when you confirm") {
			t.Fatalf("confirmation: %d\n%s", p.status, p.body)
		}
		if made := b.made(t); len(made) != 0 {
			t.Fatalf("the confirmation stored %+v", made)
		}
		release.Set("count", hiddenCount.FindStringSubmatch(p.body)[1])
		p = br.submit(form, "/console/releases", release)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/console/announcements/") {
			t.Fatalf("confirm: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		announcement := p.header.Get("Location")
		id, _ := strconv.ParseInt(strings.TrimPrefix(announcement, "/console/announcements/"), 10, 64)
		if a := b.WaitDone(t, id); a.Kind != kinds.Release || a.Counts.Sent != 3 {
			t.Errorf("announcement %s %+v, want a release sent to 3", a.Kind, a.Counts)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1, "gavin@hooli.test": 1, "opt@hooli.test": 1}, b.SMTP.PerRecipient()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}

		t.Run("TheSameVersionAgain", func(t *testing.T) {
			for _, to := range []string{"preview", "confirm", ""} {
				path := "/console/releases"
				if to != "" {
					path += "/" + to
				}
				p := br.submit(form, path, release)
				if p.status != http.StatusConflict || !strings.Contains(p.body, "jira 9.5.0 was announced already") ||
					!strings.Contains(p.body, `<a href="`+announcement+`">See its announcement</a>`) {
					t.Errorf("%s: %d, want 409 linking %s\n%s", path, p.status, announcement, p.body)
				}
			}
			if made := b.made(t); len(made) != 1 {
				t.Errorf("the same version again stored %d announcements", len(made)-1)
			}
		})

		t.Run("BadInputNamesTheFieldAndStoresNothing", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				form url.Values
				says string
			}{
				{"NoProduct", url.Values{"version": {"1.0"}}, "Product is required"},
				{"UnknownProduct", url.Values{"product": {"bamboo"}, "version": {"1.0"}}, "Product: &#34;bamboo&#34; is not a product herald knows."},
				{"NoOneHears", url.Values{"product": {"bitbucket"}, "version": {"1.0"}}, "Product: no one would hear of it."},
				{"BadVersion", url.Values{"product": {"jira"}, "version": {"9 6"}}, "Version: &#34;9 6&#34; is not a version"},
				{"BadURL", url.Values{"product": {"jira"}, "version": {"9.6"}, "url": {"ftp://example.com"}}, "URL: &#34;ftp://example.com&#34; is not an http(s) URL."},
				{"BadTime", url.Values{"product": {"jira"}, "version": {"9.6"}, "send_at": {"2031-13-01T09:00"}}, "Send at: &#34;2031-13-01T09:00&#34; is not a date and time"},
			} {
				for _, to := range []string{"preview", "confirm", ""} {
					t.Run(tt.name+"/"+to, func(t *testing.T) {
						path := "/console/releases"
						if to != "" {
							path += "/" + to
						}
						tt.form.Set("count", "1")
						p := br.submit(form, path, tt.form)
						if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.says) {
							t.Errorf("%d, want 400 saying %q\n%s", p.status, tt.says, p.body)
						}
					})
				}
			}
			if made := b.made(t); len(made) != 1 {
				t.Errorf("bad input stored %d announcements", len(made)-1)
			}
		})
	})
}

// TestComposersNeedAnEditor: a viewer is refused the composers' pages as
// well as their forms (TestForms tries the forms).
func TestComposersNeedAnEditor(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	viewer := b.browser(t)
	b.signIn(t, viewer, "vic@herald.test")
	for _, path := range []string{"/console/broadcasts/new", "/console/releases/new"} {
		if p := viewer.get(path); p.status != http.StatusForbidden || !strings.Contains(p.body, "needs the editor role") {
			t.Errorf("viewer GET %s: %d", path, p.status)
		}
	}
	if p := viewer.get("/console/announcements"); strings.Contains(p.body, "New broadcast") {
		t.Error("a viewer is shown the way to a new broadcast")
	}
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	if p := editor.get("/console/announcements"); !strings.Contains(p.body, `href="/console/broadcasts/new"`) || !strings.Contains(p.body, `href="/console/releases/new"`) {
		t.Error("an editor is not shown the composers")
	}
}

// TestComposeInBrowser writes a broadcast in Chromium as Eve, an editor:
// the preview follows the form as she types (the page's script), the
// message is framed with its styles (the page's policy allows them),
// and the confirmation sends it. The release form works without the
// script. The composer, the confirmation and the
// release form are photographed (HERALD_TEST_SCREENSHOTS keeps them).
func TestComposeInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t)
	b := setupWith(t, apptest.Options{Database: dbtest.SQLite, API: true, Workers: true})
	b.customers(t)
	for _, l := range []struct{ id, product, who string }{
		{"INITECH-3", "jira", "pete@initech.test"}, {"UMBRELLA-12", "bitbucket", "alice@umbrella.test"}, {"STARK-9", "jira", "pepper@stark.test"},
	} {
		b.License(t, l.id, l.product, contacts.Active, apptest.Tech(l.who, ""))
	}
	if _, _, err := b.Contacts.PutProduct(context.Background(), "jira", "Jira Software"); err != nil {
		t.Fatal(err)
	}
	tab := browsertest.Page{T: t, Ctx: ctx, Prefix: "console-"}
	tab.Do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(b.URL+b.linkPath(t, "eve@herald.test")))
	tab.Do(browsertest.Click("button", "Sign in"))
	tab.See("h1", "Licenses")
	tab.Do(browsertest.Click("link", "Announcements"), browsertest.Click("link", "New broadcast"))
	tab.See("h1", "New broadcast")
	tab.Do(browsertest.Fill("Subject", "Planned maintenance on 12 May"),
		chromedp.SendKeys("textbox Message", "Dear customer,\n\nour license servers will be **offline** on 12 May from 06:00 to 07:00 UTC.\n\n* Running instances are not affected\n* See the [status page](https://status.example.com)\n",
			browsertest.Named("textbox", "Message (Markdown)")),
		chromedp.Click("checkbox technical", browsertest.Named("checkbox", "technical")),
		chromedp.Click("checkbox Jira", browsertest.Named("checkbox", "Jira Software (jira)")))
	// No button pressed: the script fetched the preview.
	tab.See(`p[@class="count"]`, "5 recipients")
	tab.See("h3", "As ann@acme.test receives it")
	// The script says when the framed message has loaded.
	tab.See(`div[@id="preview" and not(@aria-busy)]`, "5 recipients")
	framedStyled(t, ctx)
	tab.Shoot("compose")

	tab.Do(browsertest.Click("button", "Continue"))
	tab.See("h2", "Send “Planned maintenance on 12 May” to 5 recipients?")
	tab.Shoot("confirm")
	tab.Do(browsertest.Click("button", "Send to 5 recipients"))
	tab.See(`p[@class="flash ok"]`, "Sending to 5 recipients.")
	id := b.made(t)[0].ID
	if a := b.WaitDone(t, id); a.Counts.Sent != 5 {
		t.Errorf("counts %+v, want 5 sent", a.Counts)
	}

	// The release form works without the script too: Preview posts it.
	tab.Do(chromedp.Navigate(b.URL+"/console/announcements"), browsertest.Click("link", "Announce a release"))
	tab.See("h1", "Announce a release")
	tab.Do(browsertest.Click("button", "Continue"))
	tab.See(`p[@class="field-error"]`, "Product is required.")
	tab.Shoot("release-errors")
	tab.Do(chromedp.SetValue("select#product", "jira"), browsertest.Fill("Version", "9.5.0"),
		chromedp.SendKeys("textbox Notes", "## What's new\n\n* Faster boards\n* A **new** automation API\n", browsertest.Named("textbox", "Notes (Markdown, optional)")),
		browsertest.Fill("URL (optional: release notes and downloads)", "https://example.com/jira-9.5"),
		browsertest.Click("button", "Preview"))
	tab.See("h3", "As ann@acme.test receives it")
	tab.See(`p[@class="mail-subject"]`, "Jira Software 9.5.0 is available")
	framedStyled(t, ctx)
	tab.Shoot("release")
}

// framedStyled checks that the message framed in the page keeps its
// styles: the page's policy, which the sandboxed frame inherits, lets them
// through. Its outer table is grey, as the mail's layout paints it.
// Chromium runs a sandboxed frame as a target of its own, which the test
// attaches to.
func framedStyled(t *testing.T, ctx context.Context) {
	t.Helper()
	var frame target.ID
	if !apptest.Eventually(20*time.Second, func() bool {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var frames []target.ID
		for _, ti := range targets {
			if ti.Type == "iframe" && ti.URL == "about:srcdoc" {
				frames = append(frames, ti.TargetID)
			}
		}
		if len(frames) == 1 {
			frame = frames[0]
		}
		return len(frames) == 1
	}) {
		t.Fatal("no one framed message")
	}
	// Detached, not closed, when done: closing the frame would close the
	// page.
	fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(frame), chromedp.WithDetachOnCancel())
	defer cancel()
	wait, cancelWait := context.WithTimeout(fctx, 20*time.Second)
	defer cancelWait()
	style, err := chromedp.Run(wait, chromedp.ComputedStyle(chromedp.CSS("body > table")))
	if err != nil {
		t.Fatalf("the framed message's style: %v", err)
	}
	for _, p := range style {
		if p.Name == "background-color" && p.Value != "rgb(244, 245, 247)" {
			t.Errorf("the framed message's outer table is %s, not the mail's grey: its styles were refused", p.Value)
		}
	}
}
