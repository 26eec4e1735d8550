// Package web is the foundation of herald's pages (the contacts portal,
// later the staff console): one layout and its partials in html/template,
// the embedded stylesheet and script, form tokens with an Origin check,
// sessions and single-use sign-in links stored as hashes, rate limits in
// Redis, the client's address behind trusted proxies, and the headers
// every page carries. It knows nothing of contacts: the portal builds on it.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
)

//go:embed templates/*.html
var layoutFS embed.FS

//go:embed assets
var assetsFS embed.FS

// AssetsPrefix is where the stylesheet and script are served.
const AssetsPrefix = "/assets/"

// Assets serves the embedded stylesheet and script under AssetsPrefix.
func Assets() http.Handler {
	sub, _ := fs.Sub(assetsFS, "assets") // cannot fail: the directory is embedded
	files := http.StripPrefix(AssetsPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecureHeaders(w.Header())
		// The files change only with herald; an hour is a fair cache.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		if r.URL.Path == AssetsPrefix || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
}

// Layout is what the layout shows around every page.
type Layout struct {
	Lang  string
	Site  string // the name in the header
	Title string // the page's <title> and <h1>
	// Skip is the label of the "skip to content" link; NavLabel names the
	// navigation for screen readers.
	Skip, NavLabel string
	Nav            []NavItem
	// SignOut is the sign-out button, shown when someone is signed in.
	SignOut *Button
	Flash   *Flash
	// Who names the person signed in, beside the sign-out button; WhoHref,
	// if set, links it to their own settings.
	Who, WhoHref string
	// Wide lets the page use a wider column, for tables (the console).
	Wide bool
	// Refresh, when not zero, reloads the page every so many seconds
	// where script does not run; with script, the page updates itself.
	Refresh int
	// Section is the navigation within a part of the site (the console's
	// operations pages), shown above the title; SectionLabel names it.
	Section      []NavItem
	SectionLabel string
}

// NavItem is a link of the navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// Button is a form of one button that posts to Action.
type Button struct {
	Action, Label, CSRF string
}

// Flash is the message a page shows once, after a form redirected to it:
// Kind "ok" or "error".
type Flash struct {
	Kind, Text string
}

// View is what a page's template is executed on: the layout's fields, the
// page's own in Page, and the wording of the reader's language in T.
type View struct {
	Layout Layout
	Page   any
	T      any
	// Policy is what the page may do beyond what every page may.
	Policy Policy
}

// Pages are page templates, each executed inside the layout.
type Pages struct {
	byName map[string]*template.Template
}

// ParsePages parses the layout and its partials with funcs, then each of
// the named page files of fsys (a page defines "content") on its own copy
// of them.
func ParsePages(fsys fs.FS, funcs template.FuncMap, names ...string) (*Pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(layoutFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	p := &Pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		t, err := template.Must(base.Clone()).ParseFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Render writes the page name with status: rendered whole first, so that a
// template error is a 500 and not half a page.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, v View) error {
	t, ok := p.byName[name]
	if !ok {
		return fmt.Errorf("no page %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	SecureHeaders(h)
	h.Set("Content-Security-Policy", v.Policy.String())
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Layout.Lang)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
