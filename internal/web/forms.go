package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// csrfCookie holds a browser's random form key: a form is accepted only
// with a token made from it, which a page of another site can neither
// read nor make.
const csrfCookie = "herald_form"

// Forms makes and checks the tokens that every form carries, and checks
// where a POST comes from.
type Forms struct {
	key    []byte
	origin string // the public URL's scheme://host
	secure bool
}

// NewForms returns the form checks under key (keys.FormToken), for pages
// served at publicURL.
func NewForms(key []byte, publicURL string) *Forms {
	f := &Forms{key: key}
	if u, err := url.Parse(publicURL); err == nil {
		f.origin = u.Scheme + "://" + u.Host
		f.secure = u.Scheme == "https"
	}
	return f
}

// Secure says whether cookies must be sent over HTTPS only.
func (f *Forms) Secure() bool { return f.secure }

// Token returns the token for the forms of the page being answered,
// setting the browser's form key when it has none. bind ties the token to
// a session (its hash; "" before sign-in), so that a token seen in one
// session is no good in another.
func (f *Forms) Token(w http.ResponseWriter, r *http.Request, bind string) string {
	key := ""
	if c, err := r.Cookie(csrfCookie); err == nil && wellFormed(c.Value) {
		key = c.Value
	} else {
		key = NewToken()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: key, Path: "/", HttpOnly: true,
			Secure: f.secure, SameSite: http.SameSiteLaxMode})
		// The request carries it too: a second token on the same page
		// must agree with the first.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: key})
	}
	return f.token(key, bind)
}

func (f *Forms) token(key, bind string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(bind))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Check says whether a POST may act: it comes from herald's own pages
// (Origin, or Referer when a browser sends no Origin) and carries the
// token of this browser's form key and session. The form is parsed.
func (f *Forms) Check(r *http.Request, bind string) bool {
	if !f.sameOrigin(r) {
		return false
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !wellFormed(c.Value) {
		return false
	}
	got := r.PostFormValue("csrf")
	return hmac.Equal([]byte(got), []byte(f.token(c.Value, bind)))
}

// sameOrigin reports whether a request comes from herald's own pages: its
// Origin (or, without one, its Referer's) is the public URL's or the one
// the request was sent to. A request with neither is let through to the
// token check: browsers send Origin with every cross-site POST.
func (f *Forms) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true
		}
		u, err := url.Parse(ref)
		if err != nil {
			return false
		}
		origin = u.Scheme + "://" + u.Host
	}
	return f.isOurs(r, origin)
}

// SentFromHere says whether a change asked for by a script (fetch with
// DELETE or POST, which carries no form token) comes from herald's own
// pages: browsers send Origin with every such request, same-origin or not,
// so one without it, or with another, is refused; so is one the browser
// marks as sent from another site.
func (f *Forms) SentFromHere(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	return origin != "" && f.isOurs(r, origin)
}

// isOurs says whether origin is the public URL's or the one the request
// was sent to.
func (f *Forms) isOurs(r *http.Request, origin string) bool {
	if origin == "null" {
		return false
	}
	if strings.EqualFold(origin, f.origin) {
		return true
	}
	// Served on an address of its own (a private one, or behind a proxy
	// that keeps the Host): the page and its form share it.
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host)
}
