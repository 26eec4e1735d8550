package admin

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/redact"
	"github.com/heraldhq/herald/internal/web"
)

// DefaultPageTimeout bounds a whole request, body included, to a page that
// anyone on the internet may open: a client that sends slowly holds a
// connection and a goroutine no longer than this.
const DefaultPageTimeout = 30 * time.Second

// publicPages are the patterns of routes served to the public, which get
// the page timeout. The API keeps the server's longer limits: its imports
// and exports move megabytes.
var publicPages = map[string]bool{
	"/unsubscribe/{token}": true,
}

// tokenPaths are the path prefixes whose rest is a token that acts for a
// contact (an unsubscribe link): the logs show the prefix only. A route
// that carries a token in its path adds its prefix here.
var tokenPaths = []string{
	"/unsubscribe/",
	"/account/sign-in/", // a sign-in link
	"/console/sign-in/", // a staff member's sign-in link
}

// loggedPath is p as the logs may show it: without tokens and without the
// local part of addresses. The log shows the path as
// requested, before the router cleans it and redirects, so the match is on
// the cleaned path and on any segment: //unsubscribe/TOKEN,
// /x/../unsubscribe/TOKEN and /x/unsubscribe/TOKEN carry the token too.
func loggedPath(p string) string {
	segments := strings.Split(path.Clean("/"+p), "/")
	for _, prefix := range tokenPaths {
		words := strings.Split(strings.Trim(prefix, "/"), "/")
		// The prefix followed by at least one segment, the token.
		for i := 0; i+len(words) < len(segments); i++ {
			if equalFold(segments[i:i+len(words)], words) {
				return strings.Join(segments[:i+len(words)], "/") + "/" + redact.Mask
			}
		}
	}
	// An address in the path (a person's page, a contact of the API) is
	// personal data: the logs keep its domain only, so that they hold
	// nothing an erasure would have to reach.
	if !strings.Contains(p, "@") {
		return p
	}
	segments = strings.Split(p, "/")
	for i, seg := range segments {
		if at := strings.LastIndex(seg, "@"); at >= 0 {
			segments[i] = redact.Mask + seg[at:]
		}
	}
	return strings.Join(segments, "/")
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// pagePrefixes are the patterns of the pages served by Deps.Pages.
var pagePrefixes = []string{"/account", "/account/", web.AssetsPrefix}

// public reports whether path is one the internet may reach: the
// unsubscribe links, the contacts portal and its assets, the sending
// services' webhooks, and /healthz for the load balancer in front (it says
// nothing but "ok").
func public(path string) bool {
	return path == "/healthz" || path == "/account" || strings.HasPrefix(path, "/account/") ||
		strings.HasPrefix(path, "/unsubscribe/") || strings.HasPrefix(path, web.AssetsPrefix) ||
		strings.HasPrefix(path, "/webhooks/")
}

// Public returns the handler of HERALD_PUBLIC_ADDR: the public paths,
// served as the API's listener serves them, and a plain 404 for every
// other path, the API's included, which says nothing of what is there.
func (s *Server) Public() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r.URL.Path) {
			s.ServeHTTP(w, r)
			return
		}
		web.SecureHeaders(w.Header())
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
}
