// Package console is the staff console at /console: staff sign in with a
// single-use link, and by role read (viewer), change (editor) or also
// manage the staff (admin). It is built on the web foundation of the
// contacts portal (layout, assets, form tokens, sessions of realm
// "console") and is served only on HERALD_HTTP_ADDR, never on the public
// listener.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

//go:embed pages/*.html
var pagesFS embed.FS

// maxForm bounds a form's body: the largest has a handful of short fields.
const maxForm = 16 << 10

// Deps are what the console serves from.
type Deps struct {
	Staff    *staff.Store
	Contacts *contacts.Store
	Billing  *billing.Billing
	// Sessions are those of realm "console".
	Sessions *web.Sessions
	Forms    *web.Forms
	// Ledger and Queue send the sign-in mail; Limiter bounds how many
	// links an address and a client may ask for.
	Ledger  *ledger.Ledger
	Queue   *queue.Queue
	Limiter *web.Limiter
	// TrustedProxies name the client behind a proxy, for its limit.
	TrustedProxies config.CIDRs
	// LinkTTL is how long a sign-in link works (HERALD_SIGNIN_TTL).
	LinkTTL time.Duration
	// ErasureKey hashes the addresses of people erased (keys.Erasure).
	ErasureKey []byte
	// Control starts, cancels, pauses, resumes and retries announcements,
	// as the API does, audited under the staff member.
	Control *worker.Control
	// Tester renders broadcasts for the composer's preview and sends
	// test messages; Kinds and Renderer are the messages' templates.
	Tester   *worker.Tester
	Kinds    *kinds.Registry
	Renderer *templates.Renderer
	// Relay is the relay's state and the send rate, shared by every
	// process.
	Relay *relay.Relay
	// Jobs are the scheduler's jobs, listed and run now through Runner.
	Jobs   *scheduler.Jobs
	Runner *scheduler.Runner
	// Tokens are the admin API's tokens.
	Tokens *auth.Tokens
	Logger *slog.Logger
}

// largeForms are the forms that may be larger than maxForm: a CSV file,
// and the composers' messages.
var largeForms = map[string]int64{
	"POST /console/import":             maxCSV,
	"POST /console/broadcasts/preview": maxCompose,
	"POST /console/broadcasts/test":    maxCompose,
	"POST /console/broadcasts/confirm": maxCompose,
	"POST /console/broadcasts":         maxCompose,
	"POST /console/releases/preview":   maxCompose,
	"POST /console/releases/confirm":   maxCompose,
	"POST /console/releases":           maxCompose,
}

// Limits of sign-in links, as the portal's: a stranger cannot flood a
// staff member's mailbox.
var (
	linksPerAddress = web.Limit{N: 5, Per: time.Hour}
	linksPerClient  = web.Limit{N: 20, Per: time.Hour}
)

// Console serves the console's pages.
type Console struct {
	Deps
	mux   *http.ServeMux
	pages *web.Pages
	// styles are the inline styles of the messages of each kind the
	// composers preview (framedStyles).
	styles map[ledger.Kind][]string
	// queues is asynqmon, under /console/queues, and queuesPolicy the
	// policy that lets its page run.
	queues       http.Handler
	queuesPolicy web.Policy
}

const (
	pageSignIn   = "pages/signin.html"
	pageLink     = "pages/link.html"
	pageLicenses = "pages/licenses.html"
	pageLicense  = "pages/license.html"
	pageError    = "pages/error.html"
	pageStaff    = "pages/staff.html"
	pageMe       = "pages/me.html"
	pageImport   = "pages/import.html"

	pageAnnouncements = "pages/announcements.html"
	pageAnnouncement  = "pages/announcement.html"

	pagePeople = "pages/people.html"
	pagePerson = "pages/person.html"
	pageErase  = "pages/erase.html"

	pageCompose = "pages/compose.html"
	pageConfirm = "pages/confirm.html"

	pageJobs        = "pages/jobs.html"
	pageInvoices    = "pages/invoices.html"
	pageInvoice     = "pages/invoice.html"
	pageTemplates   = "pages/templates.html"
	pageTemplate    = "pages/template.html"
	pageTokens      = "pages/tokens.html"
	pageTokenRevoke = "pages/token-revoke.html"
	pageRelay       = "pages/relay.html"
)

// New returns the console.
func New(deps Deps) (*Console, error) {
	pages, err := web.ParsePages(pagesFS, template.FuncMap{}, pageSignIn, pageLink, pageLicenses, pageLicense, pageError, pageStaff, pageMe, pageImport, pageAnnouncements, pageAnnouncement, pagePeople, pagePerson, pageErase, pageCompose, pageConfirm,
		pageJobs, pageInvoices, pageInvoice, pageTemplates, pageTemplate, pageTokens, pageTokenRevoke, pageRelay)
	if err != nil {
		return nil, err
	}
	c := &Console{Deps: deps, mux: http.NewServeMux(), pages: pages, styles: map[ledger.Kind][]string{}}
	for _, kind := range []ledger.Kind{kinds.Broadcast, kinds.Release} {
		if c.styles[kind], err = framedStyles(deps.Kinds, deps.Renderer, kind); err != nil {
			return nil, err
		}
	}
	if deps.Queue != nil {
		if c.queues, c.queuesPolicy, err = newQueues(deps.Queue); err != nil {
			return nil, err
		}
	}
	for _, rt := range routes {
		c.mux.Handle(rt.pattern, c.handler(rt.need, rt.handle))
	}
	return c, nil
}

// route is one entry of the console: its pattern, the least role it asks
// for ("" for the pages of signing in) and its handler.
type route struct {
	pattern string
	need    staff.Role
	handle  func(*Console, *visit) error
}

// routes are every page and form of the console; the tests try each form
// with a viewer's session, a forged token and a foreign origin.
var routes = []route{
	{"GET /console", staff.Viewer, (*Console).home},
	{"GET /console/sign-in", "", (*Console).signInPage},
	{"POST /console/sign-in", "", (*Console).signInRequest},
	{"GET /console/sign-in/{token}", "", (*Console).linkPage},
	{"POST /console/sign-in/{token}", "", (*Console).linkSignIn},
	{"POST /console/sign-out", staff.Viewer, (*Console).signOut},
	{"GET /console/licenses", staff.Viewer, (*Console).licenses},
	{"GET /console/licenses/{id}", staff.Viewer, (*Console).license},
	{"POST /console/licenses/{id}", staff.Editor, (*Console).editLicense},
	{"POST /console/licenses/{id}/contacts", staff.Editor, (*Console).addContact},
	{"POST /console/licenses/{id}/promote", staff.Editor, (*Console).promote},
	{"POST /console/licenses/{id}/remove", staff.Editor, (*Console).remove},
	{"GET /console/licenses/export.csv", staff.Viewer, (*Console).exportCSV},
	{"GET /console/announcements", staff.Viewer, (*Console).announcements},
	{"GET /console/announcements/{id}", staff.Viewer, (*Console).announcement},
	{"GET /console/announcements/{id}/progress", staff.Viewer, (*Console).progress},
	{"POST /console/announcements/{id}/{action}", staff.Editor, (*Console).announcementAction},
	{"GET /console/people", staff.Viewer, (*Console).people},
	{"GET /console/people/{email}", staff.Viewer, (*Console).person},
	{"POST /console/people/{email}/unsuppress", staff.Editor, (*Console).unsuppress},
	{"GET /console/people/{email}/erase", staff.Admin, (*Console).erasePage},
	{"POST /console/people/{email}/erase", staff.Admin, (*Console).erase},
	{"GET /console/broadcasts/new", staff.Editor, (*Console).newBroadcast},
	{"POST /console/broadcasts/preview", staff.Editor, (*Console).previewBroadcastForm},
	{"POST /console/broadcasts/test", staff.Editor, (*Console).testBroadcast},
	{"POST /console/broadcasts/confirm", staff.Editor, (*Console).confirmBroadcast},
	{"POST /console/broadcasts", staff.Editor, (*Console).createBroadcast},
	{"GET /console/releases/new", staff.Editor, (*Console).newRelease},
	{"POST /console/releases/preview", staff.Editor, (*Console).previewReleaseForm},
	{"POST /console/releases/confirm", staff.Editor, (*Console).confirmRelease},
	{"POST /console/releases", staff.Editor, (*Console).createRelease},
	{"GET /console/import", staff.Editor, (*Console).importPage},
	{"POST /console/import", staff.Editor, (*Console).importCSV},
	{"GET /console/me", staff.Viewer, (*Console).mePage},
	{"POST /console/me", staff.Viewer, (*Console).setMe},
	{"GET /console/staff", staff.Admin, (*Console).staffPage},
	{"POST /console/staff", staff.Admin, (*Console).addStaff},
	{"POST /console/staff/role", staff.Admin, (*Console).setStaffRole},
	{"POST /console/staff/remove", staff.Admin, (*Console).removeStaff},
	{"GET /console/operations", staff.Viewer, (*Console).operations},
	{"GET /console/jobs", staff.Viewer, (*Console).jobs},
	{"POST /console/jobs/{name}/run", staff.Admin, (*Console).runJob},
	{"GET /console/invoices", staff.Viewer, (*Console).invoices},
	{"GET /console/invoices/{number}", staff.Viewer, (*Console).invoice},
	{"GET /console/templates", staff.Viewer, (*Console).templateList},
	{"GET /console/templates/{name}", staff.Viewer, (*Console).templatePreview},
	{"GET /console/relay", staff.Viewer, (*Console).relayPage},
	{"GET /console/tokens", staff.Admin, (*Console).tokenList},
	{"POST /console/tokens", staff.Admin, (*Console).createToken},
	{"GET /console/tokens/{name}/revoke", staff.Admin, (*Console).revokeTokenPage},
	{"POST /console/tokens/{name}/revoke", staff.Admin, (*Console).revokeToken},
	// asynqmon: its page, its files and the API its script calls,
	// with every method.
	{queuesRoot, staff.Admin, (*Console).serveQueues},
	{queuesRoot + "/", staff.Admin, (*Console).serveQueues},
	{"/console/", "", (*Console).notFound},
}

// ServeHTTP serves a page.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// visit is one request and the staff member who made it.
type visit struct {
	w        http.ResponseWriter
	r        *http.Request
	sess     web.Session
	me       staff.Member
	signedIn bool
	flash    *web.Flash
	// policy is what the page answered may do beyond every page.
	policy web.Policy
}

func (v *visit) ctx() context.Context { return v.r.Context() }

// actor is how the console's changes go to the audit log.
func (v *visit) actor() contacts.Actor {
	return contacts.Actor{Via: contacts.ViaConsole, Name: v.me.Email}
}

// can says whether the staff member signed in has at least role.
func (v *visit) can(role staff.Role) bool { return v.signedIn && v.me.Role.AtLeast(role) }

func (c *Console) handler(need staff.Role, handle func(*Console, *visit) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limit, large := largeForms[r.Pattern]
			if !large {
				limit = maxForm
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		v := &visit{w: w, r: r}
		if err := c.readSession(v); err != nil {
			c.fail(v, err)
			return
		}
		if need != "" {
			if !v.signedIn {
				if r.Method == http.MethodGet {
					_ = seeOther(v, "/console/sign-in")
					return
				}
				c.errorPage(v, http.StatusUnauthorized, "Signed out", "Your session has ended; nothing was changed. Sign in again.")
				return
			}
			// The role is checked before the form: a viewer learns
			// nothing from a form's token, and is refused every change.
			if !v.me.Role.AtLeast(need) {
				c.Logger.Info("console: refused by role", "path", r.Pattern, "role", v.me.Role, "need", need)
				c.errorPage(v, http.StatusForbidden, "Not allowed", fmt.Sprintf("This needs the %s role; you are %s %s.", need, article(v.me.Role), v.me.Role))
				return
			}
			switch {
			case r.Method == http.MethodGet || r.Method == http.MethodHead:
			case scripted(r.Pattern):
				// A script of the console's own pages sends no form
				// token: its changes are refused unless they come
				// from those pages.
				if !c.Forms.SentFromHere(r) {
					c.Logger.Info("console: a change from another origin refused", "path", r.Pattern, "method", r.Method)
					c.errorPage(v, http.StatusForbidden, "Refused", "This change was not asked for from the console's own pages.")
					return
				}
			case r.Method == http.MethodPost && !c.checkForm(v):
				return
			}
		}
		if err := handle(c, v); err != nil {
			c.fail(v, err)
		}
	})
}

func article(r staff.Role) string {
	if r == staff.Admin {
		return "an"
	}
	return "a"
}

// fail answers an error no handler turned into a page.
func (c *Console) fail(v *visit, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		c.errorPage(v, http.StatusRequestEntityTooLarge, "Too large", "The form sent was too large.")
	case errors.Is(err, contacts.ErrNotFound):
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such license.")
	default:
		if e, ok := fault.As(err); ok {
			title := "Not done"
			if e.Kind == fault.KindNotFound {
				title = "Not found"
			}
			c.errorPage(v, web.Status(e), title, e.Error())
			return
		}
		c.Logger.Error("console page failed", "path", v.r.Pattern, "err", err)
		c.errorPage(v, http.StatusInternalServerError, "Something went wrong", "The page could not be shown. Try again in a moment.")
	}
}

type errorView struct{ Text, BackHref, BackT string }

func (c *Console) errorPage(v *visit, status int, title, text string) {
	ev := errorView{Text: text, BackHref: "/console/licenses", BackT: "Back to licenses"}
	if !v.signedIn {
		ev.BackHref, ev.BackT = "/console/sign-in", "Sign in"
	}
	if err := c.render(v, status, pageError, title, "", ev); err != nil {
		c.Logger.Error("console error page failed", "err", err)
	}
}

func (c *Console) notFound(v *visit) error {
	if v.r.Method != http.MethodGet && v.r.Method != http.MethodHead {
		c.errorPage(v, http.StatusMethodNotAllowed, "Not allowed", "This address takes no form.")
		return nil
	}
	c.errorPage(v, http.StatusNotFound, "Not found", "There is no such page in the console.")
	return nil
}

func (c *Console) home(v *visit) error { return seeOther(v, "/console/licenses") }

// render writes a page in the layout; current is its navigation entry,
// and for the operations pages its tab too ("operations/jobs").
func (c *Console) render(v *visit, status int, name, title, current string, page any) error {
	return c.renderLive(v, status, name, title, current, page, false)
}

// noScriptRefresh is how often a page that changes by itself reloads
// where script does not run.
const noScriptRefresh = 5

// renderLive is render for a page whose content may change by itself
// (live): without script, it reloads itself every few seconds.
func (c *Console) renderLive(v *visit, status int, name, title, current string, page any, live bool) error {
	l := web.Layout{Lang: "en", Site: "herald console", Title: title, Skip: "Skip to content", NavLabel: "Console", Flash: c.takeFlash(v), Wide: true}
	if live {
		// Its script follows a stream from herald (connect-src 'self').
		l.Refresh = noScriptRefresh
		v.policy.Fetch = true
	}
	current, tab, _ := strings.Cut(current, "/")
	if v.signedIn {
		l.Nav = []web.NavItem{
			{Href: "/console/licenses", Label: "Licenses", Current: current == "licenses"},
			{Href: "/console/people", Label: "People", Current: current == "people"},
			{Href: "/console/announcements", Label: "Announcements", Current: current == "announcements"},
			{Href: "/console/operations", Label: "Operations", Current: current == "operations"},
		}
		if current == "operations" {
			l.Section, l.SectionLabel = v.operationsTabs(tab), "Operations"
		}
		if v.can(staff.Editor) {
			l.Nav = append(l.Nav, web.NavItem{Href: "/console/import", Label: "Import", Current: current == "import"})
		}
		if v.can(staff.Admin) {
			l.Nav = append(l.Nav, web.NavItem{Href: "/console/staff", Label: "Staff", Current: current == "staff"})
		}
		l.Who, l.WhoHref = fmt.Sprintf("%s · %s", v.me.Email, v.me.Role), "/console/me"
		l.SignOut = &web.Button{Action: "/console/sign-out", Label: "Sign out", CSRF: c.csrf(v)}
	}
	return c.pages.Render(v.w, status, name, web.View{Layout: l, Page: page, Policy: v.policy})
}

func (c *Console) csrf(v *visit) string { return c.Forms.Token(v.w, v.r, v.sess.Hash) }

// checkForm says whether a POST may act; when it may not, it answers.
func (c *Console) checkForm(v *visit) bool {
	if c.Forms.Check(v.r, v.sess.Hash) {
		return true
	}
	c.Logger.Info("console form refused: no valid token or a foreign origin", "path", v.r.Pattern)
	c.errorPage(v, http.StatusForbidden, "Form refused", "The form was not sent from this console, or it is too old. Reload the page and try again.")
	return false
}

func seeOther(v *visit, to string) error {
	http.Redirect(v.w, v.r, to, http.StatusSeeOther)
	return nil
}

// in shows t in the staff member's timezone.
func (v *visit) in(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.me.Location()).Format("2006-01-02 15:04 MST")
}
