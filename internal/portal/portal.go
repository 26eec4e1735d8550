// Package portal is the contacts portal at /account: a license's own
// contacts sign in with a link sent by mail, see the licenses they are a
// contact of, change who receives each license's mail under the portal's
// rules (contacts.Portal), and set their preferences. Pages are
// server-rendered on the web foundation and work without JavaScript.
package portal

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/web"
)

//go:embed pages/*.html
var pagesFS embed.FS

// Limits of what one may ask of the portal, counted in Redis across every
// replica.
var (
	// A sign-in link per address, and per client, that many an hour: a
	// stranger cannot flood someone's mailbox with links.
	linksPerAddress = web.Limit{N: 5, Per: time.Hour}
	linksPerClient  = web.Limit{N: 20, Per: time.Hour}
	// Contacts added per license, and by one person, a day: the portal
	// cannot be used to mail strangers.
	addsPerLicense = web.Limit{N: 20, Per: 24 * time.Hour}
	addsPerPerson  = web.Limit{N: 20, Per: 24 * time.Hour}
)

// maxForm bounds a form's body: the largest has four short fields.
const maxForm = 16 << 10

// Deps are what the portal serves from.
type Deps struct {
	Store *contacts.Store
	// Rules are the portal's rules over contacts (contacts.Portal).
	Rules Rules
	// Invoices are what billing contacts see of their licenses' invoices.
	Invoices Invoices
	// Ledger and Queue send the sign-in mail.
	Ledger   *ledger.Ledger
	Queue    *queue.Queue
	Sessions *web.Sessions
	Forms    *web.Forms
	Limiter  *web.Limiter
	// TrustedProxies name the client behind a proxy, for its limit.
	TrustedProxies config.CIDRs
	// LinkTTL is how long a sign-in link works (HERALD_SIGNIN_TTL).
	LinkTTL time.Duration
	Logger  *slog.Logger
}

// Portal serves the portal's pages.
type Portal struct {
	Deps
	mux   *http.ServeMux
	pages *web.Pages
}

// page names.
const (
	pageSignIn      = "pages/signin.html"
	pageSent        = "pages/sent.html"
	pageLink        = "pages/link.html"
	pageAccount     = "pages/account.html"
	pagePreferences = "pages/preferences.html"
	pageError       = "pages/error.html"
)

// New returns the portal.
func New(deps Deps) (*Portal, error) {
	pages, err := web.ParsePages(pagesFS, template.FuncMap{
		"printf": fmt.Sprintf,
	}, pageSignIn, pageSent, pageLink, pageAccount, pagePreferences, pageError)
	if err != nil {
		return nil, err
	}
	p := &Portal{Deps: deps, mux: http.NewServeMux(), pages: pages}
	for _, rt := range []struct {
		pattern string
		handle  func(*Portal, *visit) error
	}{
		{"GET /account", (*Portal).account},
		{"GET /account/sign-in", (*Portal).signInForm},
		{"POST /account/sign-in", (*Portal).signInRequest},
		{"GET /account/sign-in/{token}", (*Portal).linkPage},
		{"POST /account/sign-in/{token}", (*Portal).linkSignIn},
		{"POST /account/sign-out", (*Portal).signOut},
		{"POST /account/licenses/{id}/contacts", (*Portal).addContact},
		{"POST /account/licenses/{id}/promote", (*Portal).promote},
		{"POST /account/licenses/{id}/remove", (*Portal).remove},
		{"GET /account/preferences", (*Portal).preferences},
		{"POST /account/preferences", (*Portal).savePreferences},
		{"/account", (*Portal).notFound},
		{"/account/", (*Portal).notFound},
	} {
		p.mux.Handle(rt.pattern, p.handler(rt.handle))
	}
	p.mux.Handle("GET "+web.AssetsPrefix, web.Assets())
	return p, nil
}

// ServeHTTP serves a page.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// visit is one request, with who made it and the language to answer in.
type visit struct {
	w        http.ResponseWriter
	r        *http.Request
	t        *Text
	sess     web.Session
	signedIn bool
	// flash is what a page answering a form says (an error), in place of
	// one carried over from a redirect.
	flash *web.Flash
}

func (v *visit) ctx() context.Context { return v.r.Context() }

// me is the address of the person signed in.
func (v *visit) me() string { return v.sess.Subject }

// handler reads the session and the language, then runs handle; an error
// it returns becomes a page that says what went wrong.
func (p *Portal) handler(handle func(*Portal, *visit) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		v := &visit{w: w, r: r, t: textFor(r.Header.Get("Accept-Language"))}
		if err := p.readSession(v); err != nil {
			p.fail(v, err)
			return
		}
		if err := handle(p, v); err != nil {
			p.fail(v, err)
		}
	})
}

// fail answers an error no handler turned into a page.
func (p *Portal) fail(v *visit, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		p.errorPage(v, http.StatusRequestEntityTooLarge, v.t.InvalidTitle, v.t.FormText)
	case errors.Is(err, contacts.ErrNotFound):
		p.errorPage(v, http.StatusNotFound, v.t.NoLicenseTitle, v.t.NoLicenseText)
	default:
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			p.Logger.Warn("portal page cut off", "path", v.r.Pattern, "err", err)
		} else {
			p.Logger.Error("portal page failed", "path", v.r.Pattern, "err", err)
		}
		p.errorPage(v, http.StatusInternalServerError, v.t.FailTitle, v.t.FailText)
	}
}

// errorView is the page of an error.
type errorView struct {
	Text            string
	BackHref, BackT string
}

func (p *Portal) errorPage(v *visit, status int, title, text string) {
	ev := errorView{Text: text, BackHref: "/account", BackT: v.t.Back}
	if !v.signedIn {
		ev.BackHref, ev.BackT = "/account/sign-in", v.t.SignInTitle
	}
	if err := p.render(v, status, pageError, title, "", ev); err != nil {
		p.Logger.Error("portal error page failed", "err", err)
	}
}

func (p *Portal) notFound(v *visit) error {
	if v.r.Method != http.MethodGet && v.r.Method != http.MethodHead {
		p.errorPage(v, http.StatusMethodNotAllowed, v.t.MethodTitle, v.t.MethodText)
		return nil
	}
	p.errorPage(v, http.StatusNotFound, v.t.NotFoundTitle, v.t.NotFoundText)
	return nil
}

// render writes a page in the layout; current is the navigation entry it
// is ("" for none).
func (p *Portal) render(v *visit, status int, name, title, current string, page any) error {
	t := v.t
	l := web.Layout{Lang: t.Lang, Site: t.Site, Title: title, Skip: t.Skip, NavLabel: t.NavLabel, Flash: p.takeFlash(v)}
	if v.signedIn {
		l.Nav = []web.NavItem{
			{Href: "/account", Label: t.NavLicenses, Current: current == "account"},
			{Href: "/account/preferences", Label: t.NavPreferences, Current: current == "preferences"},
		}
		l.SignOut = &web.Button{Action: "/account/sign-out", Label: t.SignOut, CSRF: p.csrf(v)}
	}
	return p.pages.Render(v.w, status, name, web.View{Layout: l, Page: page, T: t})
}

// csrf is the token of the forms on the page being answered: bound to the
// session once signed in.
func (p *Portal) csrf(v *visit) string { return p.Forms.Token(v.w, v.r, v.sess.Hash) }

// checkForm says whether a POST may act; when it may not, it answers.
func (p *Portal) checkForm(v *visit) bool {
	if p.Forms.Check(v.r, v.sess.Hash) {
		return true
	}
	p.Logger.Info("portal form refused: no valid token or a foreign origin", "path", v.r.Pattern)
	p.errorPage(v, http.StatusForbidden, v.t.FormTitle, v.t.FormText)
	return false
}

// seeOther ends a form that worked: the browser loads to, and reloading
// it posts nothing again.
func seeOther(v *visit, to string) error {
	http.Redirect(v.w, v.r, to, http.StatusSeeOther)
	return nil
}
