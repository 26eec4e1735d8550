package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// strictPolicy lets a page use only what herald serves itself: its
// stylesheet and script under /assets/, no inline script or style, no
// framing, forms that post only back to herald.
var strictPolicy = Policy{}.String()

// policyDirectives are the strict policy's directives, in order.
var policyDirectives = []struct{ name, sources string }{
	{"default-src", "'none'"}, {"script-src", "'self'"}, {"style-src", "'self'"}, {"img-src", "'self' data:"},
	{"form-action", "'self'"}, {"frame-ancestors", "'none'"}, {"base-uri", "'none'"},
}

// Policy is what one page may do beyond the strict policy every page has,
// no more than it needs and naming exactly what. The zero Policy is the
// strict one.
type Policy struct {
	// Fetch lets the page's script fetch from herald itself
	// (connect-src 'self'): a preview that follows its form, a progress
	// stream.
	Fetch bool
	// Styles are the hashes (StyleHashes) of the inline styles of a
	// message shown in a sandboxed srcdoc frame. Such a frame inherits
	// the page's policy, so without them the message would be shown
	// without its styles; with them, only those exact styles are allowed,
	// on the page as in the frame, and nothing else inline.
	Styles []string
	// More adds sources to directives, and directives the strict policy
	// lacks: for a page herald did not write (the queue dashboard's
	// inline scripts, by their hashes).
	More map[string][]string
}

// String is the policy as a Content-Security-Policy header.
func (p Policy) String() string {
	more := map[string][]string{}
	for name, sources := range p.More {
		more[name] = append(more[name], sources...)
	}
	if len(p.Styles) > 0 {
		// 'unsafe-hashes' lets the hashes match style attributes, which
		// mail uses (mail clients ignore style sheets); no other inline
		// style is allowed.
		more["style-src"] = append(append(more["style-src"], "'unsafe-hashes'"), p.Styles...)
	}
	if p.Fetch && !slices.Contains(more["connect-src"], "'self'") {
		more["connect-src"] = append(more["connect-src"], "'self'")
	}
	var b strings.Builder
	seen := map[string]bool{}
	add := func(name, sources string) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		if sources != "" {
			b.WriteString(" " + sources)
		}
		if extra := more[name]; len(extra) > 0 {
			b.WriteString(" " + strings.Join(extra, " "))
		}
		seen[name] = true
	}
	for _, d := range policyDirectives {
		add(d.name, d.sources)
	}
	names := make([]string, 0, len(more))
	for name := range more {
		if !seen[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		add(name, "")
	}
	return b.String()
}

// HashSource is the policy's source that allows an inline script or style
// whose text is s ('unsafe-hashes' extends it to style attributes).
func HashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
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
	h.Set("Content-Security-Policy", strictPolicy)
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
