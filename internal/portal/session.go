package portal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/web"
)

// cookieName is the session cookie's name: with __Host- over HTTPS, so
// that no other host of the domain can set or widen it.
func (p *Portal) cookieName() string {
	if p.Forms.Secure() {
		return "__Host-herald_session"
	}
	return "herald_session"
}

// readSession finds who is signed in, and then speaks their language.
func (p *Portal) readSession(v *visit) error {
	c, err := v.r.Cookie(p.cookieName())
	if err != nil {
		return nil
	}
	sess, err := p.Sessions.Lookup(v.ctx(), c.Value)
	if errors.Is(err, web.ErrNoSession) {
		p.clearSession(v)
		return nil
	}
	if err != nil {
		return err
	}
	v.sess, v.signedIn = sess, true
	contact, err := p.Store.GetContact(v.ctx(), sess.Subject)
	if err == nil {
		v.t = textFor(contact.Locale)
	} else if !errors.Is(err, contacts.ErrNotFound) {
		return err
	}
	return nil
}

func (p *Portal) setSession(v *visit, token string) {
	http.SetCookie(v.w, &http.Cookie{Name: p.cookieName(), Value: token, Path: "/", HttpOnly: true,
		Secure: p.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

func (p *Portal) clearSession(v *visit) {
	http.SetCookie(v.w, &http.Cookie{Name: p.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: p.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

// requireSession sends a visitor who is not signed in to the sign-in page.
func (p *Portal) requireSession(v *visit) bool {
	if v.signedIn {
		return true
	}
	if v.r.Method == http.MethodGet {
		p.setFlash(v, flash{Key: flashSessionEnded})
		_ = seeOther(v, "/account/sign-in")
		return false
	}
	// A form sent after the session ended: what it asked is not done.
	p.errorPage(v, http.StatusUnauthorized, v.t.SignInTitle, v.t.SessionEnded)
	return false
}

// flash is what a page says once after a form redirected to it. It holds
// keys and names, not sentences: the page words it in the reader's
// language.
type flash struct {
	Key     string        `json:"k"`
	Email   string        `json:"e,omitempty"`
	Role    contacts.Role `json:"r,omitempty"`
	License string        `json:"l,omitempty"`
	Error   string        `json:"x,omitempty"`
}

const (
	flashAdded        = "added"
	flashPromoted     = "promoted"
	flashRemoved      = "removed"
	flashSaved        = "saved"
	flashSignedOut    = "signed_out"
	flashLeftAll      = "left_all"
	flashSessionEnded = "session_ended"
)

const flashCookie = "herald_flash"

func (p *Portal) setFlash(v *visit, f flash) {
	b, _ := json.Marshal(f) // cannot fail
	http.SetCookie(v.w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/account",
		MaxAge: 120, HttpOnly: true, Secure: p.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

// readFlash returns the flash the request carries, if any.
func readFlash(r *http.Request) (flash, bool) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return flash{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil {
		return flash{}, false
	}
	return f, true
}

// takeFlash words the request's flash, once: the cookie is cleared. A
// page answering a form (not a redirect) shows no earlier flash.
func (p *Portal) takeFlash(v *visit) *web.Flash {
	if v.r.Method != http.MethodGet {
		return v.flash
	}
	f, ok := readFlash(v.r)
	if !ok {
		return nil
	}
	http.SetCookie(v.w, &http.Cookie{Name: flashCookie, Value: "", Path: "/account", MaxAge: -1, HttpOnly: true,
		Secure: p.Forms.Secure(), SameSite: http.SameSiteLaxMode})
	return v.t.word(f)
}
