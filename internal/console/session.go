package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
)

// cookieName differs from the portal's: the two sessions live side by
// side in one browser, each in its own realm.
func (c *Console) cookieName() string {
	if c.Forms.Secure() {
		return "__Host-herald_console"
	}
	return "herald_console"
}

// readSession finds who is signed in, and reads their role now: a role
// changed since sign-in counts at once, and removed staff are signed out.
func (c *Console) readSession(v *visit) error {
	ck, err := v.r.Cookie(c.cookieName())
	if err != nil {
		return nil
	}
	sess, err := c.Sessions.Lookup(v.ctx(), ck.Value)
	if errors.Is(err, web.ErrNoSession) {
		c.clearSession(v)
		return nil
	}
	if err != nil {
		return err
	}
	m, err := c.Staff.Get(v.ctx(), sess.Subject)
	if errors.Is(err, staff.ErrNotFound) {
		if err := c.Sessions.EndAll(v.ctx(), sess.Subject); err != nil {
			return err
		}
		c.clearSession(v)
		return nil
	}
	if err != nil {
		return err
	}
	v.sess, v.me, v.signedIn = sess, m, true
	return nil
}

func (c *Console) setSession(v *visit, token string) {
	http.SetCookie(v.w, &http.Cookie{Name: c.cookieName(), Value: token, Path: "/console", HttpOnly: true,
		Secure: c.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

func (c *Console) clearSession(v *visit) {
	http.SetCookie(v.w, &http.Cookie{Name: c.cookieName(), Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		Secure: c.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

const flashCookie = "herald_console_flash"

// setFlash carries a short message to the page a form redirects to.
func (c *Console) setFlash(v *visit, kind, text string) {
	http.SetCookie(v.w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + "\n" + text), Path: "/console",
		MaxAge: 120, HttpOnly: true, Secure: c.Forms.Secure(), SameSite: http.SameSiteLaxMode})
}

func (c *Console) takeFlash(v *visit) *web.Flash {
	if v.r.Method != http.MethodGet {
		return v.flash
	}
	ck, err := v.r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(v.w, &http.Cookie{Name: flashCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		Secure: c.Forms.Secure(), SameSite: http.SameSiteLaxMode})
	s, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return nil
	}
	kind, text, ok := cut(s)
	if !ok || (kind != "ok" && kind != "error") {
		return nil
	}
	return &web.Flash{Kind: kind, Text: text}
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

type signInView struct {
	CSRF, Email, Error string
	Sent               bool
	Minutes            int
}

// signInPage asks for a staff member's address, to mail a link to.
func (c *Console) signInPage(v *visit) error {
	if v.signedIn {
		return seeOther(v, "/console/licenses")
	}
	return c.render(v, http.StatusOK, pageSignIn, "Sign in to the console", "", signInView{CSRF: c.csrf(v)})
}

// signInRequest mails a sign-in link to a staff member, and answers every
// address alike (staff or not, over its limit or not), so that the page
// tells no one who is staff.
func (c *Console) signInRequest(v *visit) error {
	if !c.checkForm(v) {
		return nil
	}
	raw := v.r.PostFormValue("email")
	email, err := contacts.NormalizeEmail("email", raw)
	if err != nil {
		e, _ := fault.As(err)
		msg := "Enter an email address."
		if e != nil {
			msg = e.Message
		}
		return c.render(v, http.StatusBadRequest, pageSignIn, "Sign in to the console", "", signInView{CSRF: c.csrf(v), Email: raw, Error: msg})
	}
	client := web.ClientAddr(v.r, c.TrustedProxies)
	allowed, err := c.Limiter.AllowAll(v.ctx(),
		[]string{"console-signin:address:" + web.Hash(email), "console-signin:client:" + client.String()},
		[]web.Limit{linksPerAddress, linksPerClient})
	switch {
	case err != nil:
		// Without Redis nothing is counted: send nothing rather than
		// let anyone send without limit.
		c.Logger.Error("console sign-in link not sent: the limit cannot be checked", "err", err)
	case !allowed:
		c.Logger.Info("console sign-in link not sent: over the limit")
	default:
		if err := c.sendLink(v.ctx(), email); err != nil {
			c.Logger.Error("console sign-in link not sent", "err", err)
		}
	}
	return c.render(v, http.StatusOK, pageSignIn, "Check your mail", "", signInView{Sent: true, Email: email, Minutes: int(c.LinkTTL.Minutes())})
}

// sendLink announces the sign-in mail when email is staff; the link's
// token is made when the mail is composed.
func (c *Console) sendLink(ctx context.Context, email string) error {
	if _, err := c.Staff.Get(ctx, email); errors.Is(err, staff.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	a, _, err := c.Ledger.Announce(ctx, kinds.StaffSignInAnnouncement(email, web.NewToken()))
	if err != nil {
		return err
	}
	c.Queue.TryEnqueue(ctx, queue.NewFanoutTask(a.ID).Urgent(), c.Logger)
	return nil
}

type linkView struct {
	CSRF, Email, Action string
}

// linkPage shows whom a link signs in and a button that does it: opening
// the link changes nothing, as mail scanners open links.
func (c *Console) linkPage(v *visit) error {
	email, err := c.Sessions.PeekLink(v.ctx(), v.r.PathValue("token"))
	if errors.Is(err, web.ErrNoSession) {
		return c.render(v, http.StatusNotFound, pageLink, "This link no longer works", "", nil)
	}
	if err != nil {
		return err
	}
	return c.render(v, http.StatusOK, pageLink, "Sign in to the console", "", linkView{CSRF: c.csrf(v), Email: email, Action: v.r.URL.Path})
}

func (c *Console) linkSignIn(v *visit) error {
	if !c.checkForm(v) {
		return nil
	}
	token, sess, err := c.Sessions.SignIn(v.ctx(), v.r.PathValue("token"))
	if errors.Is(err, web.ErrNoSession) {
		return c.render(v, http.StatusNotFound, pageLink, "This link no longer works", "", nil)
	}
	if err != nil {
		return err
	}
	if _, err := c.Staff.Get(v.ctx(), sess.Subject); err != nil {
		// Removed after the link was made: the session goes at once.
		_ = c.Sessions.EndAll(v.ctx(), sess.Subject)
		return c.render(v, http.StatusNotFound, pageLink, "This link no longer works", "", nil)
	}
	if old, err := v.r.Cookie(c.cookieName()); err == nil {
		if err := c.Sessions.End(v.ctx(), old.Value); err != nil {
			return err
		}
	}
	c.setSession(v, token)
	c.Logger.Info("signed in to the console")
	c.Logger.Debug("signed in to the console", "email", sess.Subject)
	return seeOther(v, "/console/licenses")
}

func (c *Console) signOut(v *visit) error {
	ck, _ := v.r.Cookie(c.cookieName())
	if err := c.Sessions.End(v.ctx(), ck.Value); err != nil {
		return err
	}
	c.clearSession(v)
	v.signedIn = false
	c.setFlash(v, "ok", "You have signed out.")
	return seeOther(v, "/console/sign-in")
}
