package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/web"
)

// signInView is the sign-in form, and the link page.
type signInView struct {
	CSRF  string
	Email string
	// Error is what is wrong with the address entered.
	Error string
	// Minutes is how long a link works.
	Minutes int
	// Action is where the link page's button posts.
	Action string
}

func (p *Portal) minutes() int { return int(p.LinkTTL.Minutes()) }

func (p *Portal) signInForm(v *visit) error {
	if v.signedIn {
		return seeOther(v, "/account")
	}
	return p.render(v, http.StatusOK, pageSignIn, v.t.SignInTitle, "", signInView{CSRF: p.csrf(v)})
}

// signInRequest sends a sign-in link to a contact, and answers every
// address alike: known, unknown or over its limit, the page is the same,
// so that it tells no one who is a contact.
func (p *Portal) signInRequest(v *visit) error {
	if !p.checkForm(v) {
		return nil
	}
	raw := v.r.PostFormValue("email")
	email, err := contacts.NormalizeEmail("email", raw)
	if err != nil {
		view := signInView{CSRF: p.csrf(v), Email: raw, Error: fieldMessage(v.t.EmailLabel, err)}
		return p.render(v, http.StatusBadRequest, pageSignIn, v.t.SignInTitle, "", view)
	}
	client := web.ClientAddr(v.r, p.TrustedProxies)
	allowed, err := p.Limiter.AllowAll(v.ctx(),
		[]string{"signin:address:" + web.Hash(email), "signin:client:" + client.String()},
		[]web.Limit{linksPerAddress, linksPerClient})
	switch {
	case err != nil:
		// Without Redis nothing is counted: send nothing rather than
		// let anyone send without limit.
		p.Logger.Error("sign-in link not sent: the limit cannot be checked", "err", err)
	case !allowed:
		p.Logger.Info("sign-in link not sent: over the limit")
	default:
		if err := p.sendLink(v.ctx(), email); err != nil {
			p.Logger.Error("sign-in link not sent", "err", err)
		}
	}
	return p.render(v, http.StatusOK, pageSent, v.t.SentTitle, "", signInView{Minutes: p.minutes()})
}

// sendLink announces the sign-in mail to email when it is a contact of a
// license; the link's token is made when the mail is composed.
func (p *Portal) sendLink(ctx context.Context, email string) error {
	c, err := p.Store.GetContact(ctx, email)
	if errors.Is(err, contacts.ErrNotFound) || (err == nil && len(c.Memberships) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	a, _, err := p.Ledger.Announce(ctx, kinds.SignInAnnouncement(c.Email, web.NewToken()))
	if err != nil {
		return err
	}
	// Should Redis not take it now, the reconciler enqueues it.
	p.Queue.TryEnqueue(ctx, queue.NewFanoutTask(a.ID).Urgent(), p.Logger)
	return nil
}

// linkPage shows what a link does and a button that does it: opening the
// link changes nothing, as mail scanners open links.
func (p *Portal) linkPage(v *visit) error {
	email, err := p.Sessions.PeekLink(v.ctx(), v.r.PathValue("token"))
	if errors.Is(err, web.ErrNoSession) {
		return p.linkInvalid(v)
	}
	if err != nil {
		return err
	}
	return p.render(v, http.StatusOK, pageLink, v.t.LinkTitle, "", signInView{
		CSRF: p.csrf(v), Email: email, Action: v.r.URL.Path,
	})
}

func (p *Portal) linkInvalid(v *visit) error {
	return p.render(v, http.StatusNotFound, pageLink, v.t.LinkInvalidTitle, "", signInView{Minutes: p.minutes()})
}

// linkSignIn uses the link and starts a session, then leaves the link's
// address for /account: the token is in no address the browser keeps.
func (p *Portal) linkSignIn(v *visit) error {
	if !p.checkForm(v) {
		return nil
	}
	token, sess, err := p.Sessions.SignIn(v.ctx(), v.r.PathValue("token"))
	if errors.Is(err, web.ErrNoSession) {
		return p.linkInvalid(v)
	}
	if err != nil {
		return err
	}
	if old, err := v.r.Cookie(p.cookieName()); err == nil {
		// The session this browser had, if any, ends: one browser, one
		// session.
		if err := p.Sessions.End(v.ctx(), old.Value); err != nil {
			return err
		}
	}
	p.setSession(v, token)
	p.Logger.Info("signed in to the portal")
	p.Logger.Debug("signed in to the portal", "email", sess.Subject)
	return seeOther(v, "/account")
}

func (p *Portal) signOut(v *visit) error {
	if !v.signedIn {
		return seeOther(v, "/account/sign-in")
	}
	if !p.checkForm(v) {
		return nil
	}
	c, _ := v.r.Cookie(p.cookieName())
	if err := p.Sessions.End(v.ctx(), c.Value); err != nil {
		return err
	}
	p.clearSession(v)
	p.setFlash(v, flash{Key: flashSignedOut})
	return seeOther(v, "/account/sign-in")
}
