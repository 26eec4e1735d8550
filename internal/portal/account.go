package portal

import (
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/web"
)

// accountView is /account: the licenses of the person signed in.
type accountView struct {
	Intro, Empty string
	Licenses     []licenseView
}

// licenseView is one license, as its contact sees it.
type licenseView struct {
	ID, Product, Status string
	Open                bool
	Roles               []roleView
	// Invoices are shown to billing contacts only.
	Billing  bool
	Invoices []invoiceView
	Add      addForm
}

// roleView is the contacts of one role, with what the viewer may do.
type roleView struct {
	Heading string
	Members []memberView
}

// memberView is one contact of a role, with the buttons the viewer may
// use on them; Why says why a button is missing, where one would be
// expected.
type memberView struct {
	Email, Name string
	Main, Me    bool
	Promote     *action
	Remove      *action
	Why         []string
}

// action is a button of one form: its symbol, and its accessible name
// (Label) that says what it does to whom.
type action struct {
	Action, Symbol, Label, CSRF string
	Email                       string
	Role                        contacts.Role
	// Text shows Label as the button's text instead of a symbol.
	Text bool
}

// addForm is the form that adds a contact to a license, with what was
// entered and what is wrong with it when it is shown again.
type addForm struct {
	Action, CSRF      string
	Email, Name, Role string
	Errors            map[string]string
	Roles             []option
}

type option struct {
	Value, Label string
	Selected     bool
}

type invoiceView struct {
	Number, Amount, Due, Status string
}

func (p *Portal) account(v *visit) error {
	if !p.requireSession(v) {
		return nil
	}
	return p.showAccount(v, http.StatusOK, "", nil)
}

// showAccount renders /account; the license open is open (besides a
// single license, always open), with the add form's input and errors when
// the form is shown again.
func (p *Portal) showAccount(v *visit, status int, open string, add *addForm) error {
	licenses, err := p.Rules.Licenses(v.ctx(), v.me())
	if err != nil {
		return err
	}
	if f, ok := readFlash(v.r); ok && open == "" {
		open = f.License
	}
	slices.SortFunc(licenses, func(a, b contacts.License) int { return strings.Compare(a.ID, b.ID) })
	view := accountView{Intro: v.t.AccountIntro, Empty: v.t.NoLicenses}
	csrf := p.csrf(v)
	for _, l := range licenses {
		lv, err := p.licenseView(v, l, csrf)
		if err != nil {
			return err
		}
		lv.Open = len(licenses) == 1 || l.ID == open
		if add != nil && l.ID == open {
			lv.Add.Email, lv.Add.Name, lv.Add.Role, lv.Add.Errors = add.Email, add.Name, add.Role, add.Errors
			for i := range lv.Add.Roles {
				lv.Add.Roles[i].Selected = lv.Add.Roles[i].Value == add.Role
			}
		}
		view.Licenses = append(view.Licenses, lv)
	}
	return p.render(v, status, pageAccount, v.t.AccountTitle, "account", view)
}

func (p *Portal) licenseView(v *visit, l contacts.License, csrf string) (licenseView, error) {
	t, me := v.t, v.me()
	product, err := p.Store.ProductName(v.ctx(), l.Product)
	if err != nil {
		return licenseView{}, err
	}
	base := "/account/licenses/" + l.ID
	lv := licenseView{ID: l.ID, Product: product, Status: t.StatusName[l.Status],
		Add: addForm{Action: base + "/contacts", CSRF: csrf}}
	for _, role := range contacts.Roles {
		lv.Add.Roles = append(lv.Add.Roles, option{Value: string(role), Label: t.RoleOption[role], Selected: role == contacts.Technical})
		rv := roleView{Heading: t.RoleHeading[role]}
		for _, m := range l.Members(role) {
			mv := memberView{Email: m.Email, Name: m.Name, Main: m.Main, Me: m.Email == me}
			if !m.Main {
				if err := p.Rules.CanPromote(l, me, m.Email, role); err == nil {
					label := sprintf(t.PromoteLabel[role], m.Email)
					mv.Promote = &action{Action: base + "/promote", Symbol: "↑", Label: label, CSRF: csrf, Email: m.Email, Role: role}
					if mv.Me {
						mv.Promote.Label, mv.Promote.Text = t.MakeMeMain[role], true
					}
				} else {
					mv.Why = append(mv.Why, sentence(reason(err)))
				}
			}
			if err := p.Rules.CanRemove(l, me, m.Email, role); err == nil {
				mv.Remove = &action{Action: base + "/remove", Symbol: "×", Label: sprintf(t.RemoveLabel[role], m.Email), CSRF: csrf, Email: m.Email, Role: role}
			} else if m.Main || mv.Me {
				// Why a non-main contact cannot be removed is the rule
				// about the last contact, which the main one's line says.
				mv.Why = append(mv.Why, sentence(reason(err)))
			}
			if role == contacts.Billing && mv.Me {
				lv.Billing = true
			}
			rv.Members = append(rv.Members, mv)
		}
		lv.Roles = append(lv.Roles, rv)
	}
	if lv.Billing {
		invoices, err := p.invoices(v, l)
		if err != nil {
			return licenseView{}, err
		}
		lv.Invoices = invoices
	}
	return lv, nil
}

// reason is the sentence of an error that says why a change is not
// allowed.
func reason(err error) string {
	if e, ok := fault.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// sentence shows a rule's reason, which the domain words to follow a
// field's name or an HTTP status, as a sentence standing on its own line:
// a capital (unless it starts with an address, which keeps its case) and
// a full stop.
func sentence(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if r, size := utf8.DecodeRuneInString(s); !strings.Contains(first, "@") && unicode.IsLower(r) {
		s = string(unicode.ToUpper(r)) + s[size:]
	}
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// fieldMessage is a field's error as a person reads it: the field's label,
// and what is wrong.
func fieldMessage(label string, err error) string { return label + ": " + reason(err) }

// memberForm reads the address and role of a promote or remove form.
func memberForm(v *visit) (email string, role contacts.Role, err error) {
	role, err = contacts.ParseRole("role", v.r.PostFormValue("role"))
	if err != nil {
		return "", "", err
	}
	email, err = contacts.NormalizeEmail("email", v.r.PostFormValue("email"))
	return email, role, err
}

// mine returns the license id if the person signed in is a contact of it,
// else not found: another license's id tells nothing, not even whether it
// exists.
func (p *Portal) mine(v *visit, id string) (contacts.License, error) {
	licenses, err := p.Rules.Licenses(v.ctx(), v.me())
	if err != nil {
		return contacts.License{}, err
	}
	for _, l := range licenses {
		if l.ID == id {
			return l, nil
		}
	}
	return contacts.License{}, fault.NotFound("no license %s among yours", id)
}

func (p *Portal) addContact(v *visit) error {
	if !p.requireSession(v) || !p.checkForm(v) {
		return nil
	}
	id := v.r.PathValue("id")
	if _, err := p.mine(v, id); err != nil {
		return err
	}
	form := &addForm{Email: v.r.PostFormValue("email"), Name: v.r.PostFormValue("name"), Role: v.r.PostFormValue("role"), Errors: map[string]string{}}
	role, err := contacts.ParseRole("role", form.Role)
	if err != nil {
		form.Errors["role"] = fieldMessage(v.t.RoleLabel, err)
	}
	email, err := contacts.NormalizeEmail("email", form.Email)
	if err != nil {
		form.Errors["email"] = fieldMessage(v.t.EmailLabel, err)
	}
	if len(form.Errors) > 0 {
		return p.showAccount(v, http.StatusBadRequest, id, form)
	}
	allowed, err := p.Limiter.AllowAll(v.ctx(), []string{"add:license:" + id, "add:person:" + web.Hash(v.me())},
		[]web.Limit{addsPerLicense, addsPerPerson})
	if err != nil {
		return err
	}
	if !allowed {
		v.flash = &web.Flash{Kind: "error", Text: v.t.TooManyAdds}
		return p.showAccount(v, http.StatusTooManyRequests, id, form)
	}
	_, err = p.Rules.Add(v.ctx(), v.me(), id, contacts.NewMember{Email: email, Name: form.Name, Role: role})
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		label := map[string]string{"email": v.t.EmailLabel, "name": v.t.NameLabel, "role": v.t.RoleLabel}
		field := e.Field[strings.LastIndex(e.Field, ".")+1:]
		if _, known := label[field]; !known {
			field = "email"
		}
		form.Errors[field] = label[field] + ": " + e.Message
		return p.showAccount(v, http.StatusBadRequest, id, form)
	}
	if err != nil {
		return p.refused(v, id, err, form)
	}
	p.setFlash(v, flash{Key: flashAdded, Email: email, Role: role, License: id})
	return seeOther(v, "/account#license-"+id)
}

// refused shows /account again with why a change was not made: a rule of
// the portal (403), of the store (409), or a license that is not theirs
// (404).
func (p *Portal) refused(v *visit, id string, err error, form *addForm) error {
	status := web.Status(err)
	if status == http.StatusInternalServerError || status == http.StatusNotFound {
		return err
	}
	v.flash = &web.Flash{Kind: "error", Text: sentence(reason(err))}
	return p.showAccount(v, status, id, form)
}

// changeMember runs a change of one member (↑ or ×) that the signed-in
// person asks for on a license of theirs: it checks the session, the form
// and the license, reads the member, and shows a refusal on the page.
// done is false when the answer is already written.
func (p *Portal) changeMember(v *visit, change func(id, email string, role contacts.Role) error) (id, email string, role contacts.Role, done bool, err error) {
	if !p.requireSession(v) || !p.checkForm(v) {
		return "", "", "", false, nil
	}
	id = v.r.PathValue("id")
	if _, err := p.mine(v, id); err != nil {
		return "", "", "", false, err
	}
	if email, role, err = memberForm(v); err == nil {
		err = change(id, email, role)
	}
	if err != nil {
		return "", "", "", false, p.refused(v, id, err, nil)
	}
	return id, email, role, true, nil
}

func (p *Portal) promote(v *visit) error {
	id, email, role, done, err := p.changeMember(v, func(id, email string, role contacts.Role) error {
		_, err := p.Rules.Promote(v.ctx(), v.me(), id, email, role)
		return err
	})
	if !done {
		return err
	}
	p.setFlash(v, flash{Key: flashPromoted, Email: email, Role: role, License: id})
	return seeOther(v, "/account#license-"+id)
}

func (p *Portal) remove(v *visit) error {
	id, email, role, done, err := p.changeMember(v, func(id, email string, role contacts.Role) error {
		_, err := p.Rules.Remove(v.ctx(), v.me(), id, email, role)
		return err
	})
	if !done {
		return err
	}
	if email == v.me() {
		left, err := p.Rules.Licenses(v.ctx(), v.me())
		if err != nil {
			return err
		}
		if len(left) == 0 {
			// No license left to look after: no way in either.
			if err := p.Sessions.EndAll(v.ctx(), v.me()); err != nil {
				return err
			}
			p.clearSession(v)
			p.setFlash(v, flash{Key: flashLeftAll})
			return seeOther(v, "/account/sign-in")
		}
	}
	p.setFlash(v, flash{Key: flashRemoved, Email: email, Role: role, License: id})
	return seeOther(v, "/account#license-"+id)
}
