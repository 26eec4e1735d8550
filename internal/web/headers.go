package web

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// contentSecurityPolicy lets a page use only what herald serves itself:
// its stylesheet and script under /assets/, no inline script or style, no
// framing, forms that post only back to herald.
var contentSecurityPolicy = Policy{}.String()

// Policy is what one page may do beyond the policy every page has, no more
// than it needs. The zero Policy is that of every page.
type Policy struct {
	// Fetch lets the page's script fetch from herald itself
	// (connect-src 'self'): a preview that follows the form as it is
	// typed.
	Fetch bool
	// Styles are the hashes (StyleHashes) of the inline styles of a
	// message shown in a sandboxed srcdoc frame. Such a frame inherits
	// the page's policy, so without them the message would be shown
	// without its styles; with them, only those exact styles are allowed,
	// on the page as in the frame, and nothing else inline.
	Styles []string
}

// String is the Content-Security-Policy header of the policy.
func (p Policy) String() string {
	style := "style-src 'self'"
	if len(p.Styles) > 0 {
		// 'unsafe-hashes' lets the hashes match style attributes, which
		// mail uses (mail clients ignore style sheets); no other inline
		// style is allowed.
		style += " 'unsafe-hashes' " + strings.Join(p.Styles, " ")
	}
	connect := ""
	if p.Fetch {
		connect = "connect-src 'self'; "
	}
	return "default-src 'none'; script-src 'self'; " + style + "; img-src 'self' data:; " + connect +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// SecureHeaders sets the headers every page carries: no content sniffing,
// no Referer to other sites (a sign-in link's page holds its token in the
// address), the policy above, and no caching of what is personal.
//
// The Referrer-Policy is same-origin, not no-referrer: under no-referrer
// browsers send "Origin: null" with a form's POST, and the check that a
// form comes from herald's own pages could not tell them from a forgery.
func SecureHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "no-store")
}

// WithDeadline bounds the whole of each request to h: reading the body,
// the work (through the context) and writing the answer. A client that
// sends slowly holds a connection no longer than d.
func WithDeadline(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(d)
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		// The server sets the read deadline anew for the next request on
		// the connection, but not the write deadline.
		defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
