package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/web"
)

type tokensView struct {
	Rows []tokenRow
	CSRF string
	// Name is the create form's field as sent, and NameError why it was
	// refused.
	Name, NameError string
	// Made is the token just made, and Secret its secret, shown this once.
	Made, Secret string
}

type tokenRow struct {
	Name, Created, By, LastUsed, Revoke string
}

func tokenHref(name string) string { return "/console/tokens/" + url.PathEscape(name) }

// tokenList lists the admin API's tokens, with a form to make one.
func (c *Console) tokenList(v *visit) error {
	return c.showTokens(v, http.StatusOK, tokensView{})
}

func (c *Console) showTokens(v *visit, status int, view tokensView) error {
	list, err := c.Tokens.List(v.ctx())
	if err != nil {
		return err
	}
	for _, t := range list {
		row := tokenRow{Name: t.Name, Created: v.in(t.CreatedAt), Revoke: tokenHref(t.Name) + "/revoke"}
		if t.CreatedBy.Name != "" {
			row.By = t.CreatedBy.String()
		}
		if t.LastUsedAt != nil {
			row.LastUsed = v.in(*t.LastUsedAt)
		}
		view.Rows = append(view.Rows, row)
	}
	view.CSRF = c.csrf(v)
	return c.render(v, status, pageTokens, "API tokens", "operations/tokens", view)
}

// createToken makes a token and shows its secret on the answer to the
// form, once: it is stored only as a hash, so it goes into no cookie, no
// address and no log. The audit log names the admin.
func (c *Console) createToken(v *visit) error {
	name := strings.TrimSpace(v.r.PostFormValue("name"))
	secret, err := c.Tokens.Create(v.ctx(), name, v.actor())
	if e, ok := fault.As(err); ok {
		v.flash = &webFlash{Kind: "error", Text: "No token was made: see the form below."}
		return c.showTokens(v, web.Status(e), tokensView{Name: name, NameError: e.Message})
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: API token made", "token", name, "by", v.me.Email)
	v.flash = &webFlash{Kind: "ok", Text: fmt.Sprintf("Made the token %s.", name)}
	return c.showTokens(v, http.StatusOK, tokensView{Made: name, Secret: secret})
}

type tokenRevokeView struct {
	Name, Action, CSRF string
}

// revokeTokenPage asks the admin to confirm a revocation: scripts that
// use the token stop working at once.
func (c *Console) revokeTokenPage(v *visit) error {
	name := v.r.PathValue("name")
	list, err := c.Tokens.List(v.ctx())
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(t auth.Token) bool { return t.Name == name }) {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such token.")
		return nil
	}
	return c.render(v, http.StatusOK, pageTokenRevoke, "Revoke "+name, "operations/tokens",
		tokenRevokeView{Name: name, Action: tokenHref(name) + "/revoke", CSRF: c.csrf(v)})
}

// revokeToken revokes a token, audited under the admin's address.
func (c *Console) revokeToken(v *visit) error {
	name := v.r.PathValue("name")
	err := c.Tokens.Revoke(v.ctx(), name, v.actor())
	if e, ok := fault.As(err); ok {
		c.setFlash(v, "error", e.Error())
		return seeOther(v, "/console/tokens")
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: API token revoked", "token", name, "by", v.me.Email)
	c.setFlash(v, "ok", fmt.Sprintf("Revoked %s: it no longer opens the API.", name))
	return seeOther(v, "/console/tokens")
}
