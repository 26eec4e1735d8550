package admin

import "net/http"

// contentSecurityPolicy lets a page use what herald serves itself and
// nothing else: no inline or foreign script, no framing (clickjacking of
// the unsubscribe button), forms that post only back to herald. Inline
// styles are allowed: the pages carry their few rules in a <style>.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets on every response, page, JSON or error alike, the
// headers that keep a browser from guessing content types, leaking the
// page's address (an unsubscribe link holds its token) to other sites, and
// running what herald did not mean to serve.
func secureHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
}
