package portal

import (
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/web"
)

// preferencesView is /account/preferences.
type preferencesView struct {
	CSRF       string
	Name       string
	Languages  []option
	Releases   bool
	Broadcasts bool
	// BillingContact says why invoice reminders cannot be turned off.
	BillingContact bool
	Errors         map[string]string
}

// languages are the languages a person may choose, by name in their own.
var languages = []option{{Value: "en", Label: "English"}, {Value: "de", Label: "Deutsch"}}

func (p *Portal) preferences(v *visit) error {
	if !p.requireSession(v) {
		return nil
	}
	c, err := p.Store.GetContact(v.ctx(), v.me())
	if err != nil {
		return err
	}
	view := p.preferencesView(v, c)
	return p.render(v, http.StatusOK, pagePreferences, v.t.PrefsTitle, "preferences", view)
}

func (p *Portal) preferencesView(v *visit, c contacts.Contact) preferencesView {
	view := preferencesView{CSRF: p.csrf(v), Name: c.Name, Releases: !c.ReleaseOptOut, Broadcasts: !c.BroadcastOptOut, Errors: map[string]string{}}
	lang := textFor(c.Locale).Lang
	for _, l := range languages {
		l.Selected = l.Value == lang
		view.Languages = append(view.Languages, l)
	}
	for _, m := range c.Memberships {
		if m.Role == contacts.Billing {
			view.BillingContact = true
		}
	}
	return view
}

func (p *Portal) savePreferences(v *visit) error {
	if !p.requireSession(v) || !p.checkForm(v) {
		return nil
	}
	c, err := p.Store.GetContact(v.ctx(), v.me())
	if err != nil {
		return err
	}
	name, locale := v.r.PostFormValue("name"), v.r.PostFormValue("language")
	releases, casts := v.r.PostFormValue("releases") == "on", v.r.PostFormValue("broadcasts") == "on"
	view := p.preferencesView(v, c)
	view.Name, view.Releases, view.Broadcasts = name, releases, casts
	known := false
	for i := range view.Languages {
		view.Languages[i].Selected = view.Languages[i].Value == locale
		known = known || view.Languages[i].Selected
	}
	if !known {
		view.Errors["language"] = v.t.LanguageLabel + ": " + v.t.InvalidTitle
		return p.render(v, http.StatusBadRequest, pagePreferences, v.t.PrefsTitle, "preferences", view)
	}
	// Release notices and broadcasts are left apart: a person may want
	// the product's versions without the vendor's other news.
	releasesOff, castsOff := !releases, !casts
	patch := contacts.ContactPatch{Name: &name, Locale: &locale, ReleaseOptOut: &releasesOff, BroadcastOptOut: &castsOff}
	if _, err := p.Store.UpdateContact(v.ctx(), v.me(), patch); err != nil {
		if web.Status(err) != http.StatusBadRequest {
			return err
		}
		view.Errors["name"] = fieldMessage(v.t.NameLabel, err)
		return p.render(v, http.StatusBadRequest, pagePreferences, v.t.PrefsTitle, "preferences", view)
	}
	p.setFlash(v, flash{Key: flashSaved})
	return seeOther(v, "/account/preferences")
}
