package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/templates"
)

// pageSize is how many licenses a page of the list shows.
const pageSize = 25

type option struct {
	Value, Label string
	Selected     bool
}

type licensesView struct {
	Q        string
	Products []option
	Statuses []option
	Rows     []licenseRow
	Next     string // the address of the next page, if any
	First    string // the address of the first page, when not on it
	Error    string
	CanEdit  bool
}

type licenseRow struct {
	ID, Href, Name, Product, Status string
	Technical, Billing              string // the main contacts
	Contacts                        int
}

var statuses = []contacts.Status{contacts.Active, contacts.Expired, contacts.Cancelled}

func statusOptions(selected contacts.Status, any string) []option {
	opts := []option{}
	if any != "" {
		opts = append(opts, option{Value: "", Label: any, Selected: selected == ""})
	}
	for _, s := range statuses {
		opts = append(opts, option{Value: string(s), Label: string(s), Selected: s == selected})
	}
	return opts
}

func mainOf(ms []contacts.Member) string {
	for _, m := range ms {
		if m.Main {
			return m.Email
		}
	}
	return ""
}

// licenses is the searchable, filterable, paged list.
func (c *Console) licenses(v *visit) error {
	q := v.r.URL.Query()
	f := contacts.LicenseFilter{
		Q: strings.TrimSpace(q.Get("q")), Product: strings.TrimSpace(q.Get("product")),
		Status: contacts.Status(q.Get("status")), Page: page.Request{Limit: pageSize, After: q.Get("after")},
	}
	view := licensesView{Q: f.Q, CanEdit: v.can(staff.Editor)}
	status := http.StatusOK
	list, err := c.Contacts.ListLicenses(v.ctx(), f)
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		// A bad filter or cursor shows the first page and says why.
		view.Error, status = e.Error(), http.StatusBadRequest
		f.Status, f.Page.After = "", ""
		list, err = c.Contacts.ListLicenses(v.ctx(), contacts.LicenseFilter{Q: f.Q, Page: page.Request{Limit: pageSize}})
	}
	if err != nil {
		return err
	}
	products, err := c.Contacts.ListProducts(v.ctx(), page.Request{Limit: 200})
	if err != nil {
		return err
	}
	view.Products = []option{{Value: "", Label: "All products", Selected: f.Product == ""}}
	for _, p := range products.Items {
		label := p.Key
		if p.Name != "" && p.Name != p.Key {
			label = p.Name + " (" + p.Key + ")"
		}
		view.Products = append(view.Products, option{Value: p.Key, Label: label, Selected: p.Key == f.Product})
	}
	view.Statuses = statusOptions(f.Status, "Any status")
	for _, l := range list.Items {
		view.Rows = append(view.Rows, licenseRow{
			ID: l.ID, Href: "/console/licenses/" + url.PathEscape(l.ID), Name: l.Name, Product: l.Product, Status: string(l.Status),
			Technical: mainOf(l.Technical), Billing: mainOf(l.Billing), Contacts: len(l.Technical) + len(l.Billing),
		})
	}
	keep := url.Values{}
	for k, val := range map[string]string{"q": f.Q, "product": f.Product, "status": string(f.Status)} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	if list.Next != "" {
		next := url.Values{}
		for k, val := range keep {
			next[k] = val
		}
		next.Set("after", list.Next)
		view.Next = "/console/licenses?" + next.Encode()
	}
	if f.Page.After != "" {
		view.First = "/console/licenses"
		if len(keep) > 0 {
			view.First += "?" + keep.Encode()
		}
	}
	return c.render(v, status, pageLicenses, "Licenses", "licenses", view)
}

type licenseView struct {
	License   contacts.License
	CanEdit   bool
	CSRF      string
	Roles     []roleView
	Edit      editForm
	Add       addForm
	Invoices  []invoiceRow
	Audit     []auditRow
	Created   string
	Updated   string
	AuditMore bool
}

type roleView struct {
	Heading string
	Members []memberView
}

type memberView struct {
	Email, Name, Added string
	Href               string // the person's page
	Main               bool
	Promote, Remove    *action
}

// action is a one-button form on a contact.
type action struct {
	Action, Label, Symbol, CSRF, Email, Role string
}

type editForm struct {
	Name, Timezone string
	Statuses       []option
	Errors         map[string]string
}

type addForm struct {
	Email, Name string
	Roles       []option
	Main        bool
	Errors      map[string]string
}

type invoiceRow struct{ Number, Href, Amount, Due, Status string }

type auditRow struct{ At, Action, Detail, Email, Role, By string }

func (c *Console) license(v *visit) error {
	return c.showLicense(v, http.StatusOK, nil, nil)
}

// showLicense renders a license's page; edit or add, when given, are the
// forms as sent (with their errors).
func (c *Console) showLicense(v *visit, status int, edit *editForm, add *addForm) error {
	l, err := c.Contacts.GetLicense(v.ctx(), v.r.PathValue("id"))
	if err != nil {
		return err
	}
	view := licenseView{License: l, CanEdit: v.can(staff.Editor), CSRF: c.csrf(v), Created: v.in(l.CreatedAt), Updated: v.in(l.UpdatedAt)}
	base := "/console/licenses/" + url.PathEscape(l.ID)
	for _, r := range []contacts.Role{contacts.Technical, contacts.Billing} {
		rv := roleView{Heading: map[contacts.Role]string{contacts.Technical: "Technical contacts", contacts.Billing: "Billing contacts"}[r]}
		for _, m := range l.Members(r) {
			mv := memberView{Email: m.Email, Href: personHref(m.Email), Name: m.Name, Main: m.Main, Added: v.in(m.AddedAt)}
			if view.CanEdit {
				if !m.Main {
					mv.Promote = &action{Action: base + "/promote", Symbol: "↑", CSRF: view.CSRF, Email: m.Email, Role: string(r),
						Label: fmt.Sprintf("Make %s the main %s contact", m.Email, r)}
				}
				mv.Remove = &action{Action: base + "/remove", Symbol: "×", CSRF: view.CSRF, Email: m.Email, Role: string(r),
					Label: fmt.Sprintf("Remove %s from %s contacts", m.Email, r)}
			}
			rv.Members = append(rv.Members, mv)
		}
		view.Roles = append(view.Roles, rv)
	}
	if edit == nil {
		edit = &editForm{Name: l.Name, Timezone: l.Timezone}
	}
	if edit.Statuses == nil {
		edit.Statuses = statusOptions(l.Status, "")
	}
	view.Edit = *edit
	if add == nil {
		add = &addForm{}
	}
	add.Roles = nil
	for _, r := range []contacts.Role{contacts.Technical, contacts.Billing} {
		sel := add.Errors == nil && r == contacts.Technical
		add.Roles = append(add.Roles, option{Value: string(r), Label: string(r), Selected: sel})
	}
	view.Add = *add
	if c.Billing != nil {
		invoices, err := c.Billing.InvoicesSince(v.ctx(), l.ID, l.CreatedAt.AddDate(-50, 0, 0))
		if err != nil {
			return err
		}
		for _, inv := range invoices {
			view.Invoices = append(view.Invoices, invoiceRow{Number: inv.Number, Href: invoiceHref(inv.Number), Amount: templates.FormatAmount(inv.AmountMinor, inv.Currency, "en"),
				Due: inv.DueDate, Status: string(inv.Status)})
		}
	}
	audit, err := c.Contacts.ListAudit(v.ctx(), contacts.AuditFilter{LicenseID: l.ID, Page: page.Request{Limit: 50}})
	if err != nil {
		return err
	}
	for _, e := range audit.Items {
		view.Audit = append(view.Audit, auditRow{At: v.in(e.At), Action: string(e.Action), Detail: e.Detail, Email: e.Email, Role: string(e.Role), By: e.By.String()})
	}
	view.AuditMore = audit.Next != ""
	return c.render(v, status, pageLicense, l.ID+" · "+l.Product, "licenses", view)
}

func (c *Console) back(v *visit) string {
	return "/console/licenses/" + url.PathEscape(v.r.PathValue("id"))
}

// fieldErrors turns a field error into the message under its field.
func fieldErrors(err error, fields ...string) (map[string]string, bool) {
	e, ok := fault.As(err)
	if !ok || (e.Kind != fault.KindInvalid && e.Kind != fault.KindTooLarge) {
		return nil, false
	}
	for _, f := range fields {
		if e.Field == f || strings.HasSuffix(e.Field, "."+f) {
			return map[string]string{f: e.Message}, true
		}
	}
	return nil, false
}

// editLicense changes the name, status and timezone of a license.
func (c *Console) editLicense(v *visit) error {
	name, tz := strings.TrimSpace(v.r.PostFormValue("name")), strings.TrimSpace(v.r.PostFormValue("timezone"))
	st := contacts.Status(v.r.PostFormValue("status"))
	_, err := c.Contacts.UpdateLicense(v.ctx(), v.actor(), v.r.PathValue("id"), contacts.LicensePatch{Name: &name, Status: &st, Timezone: &tz})
	if errs, ok := fieldErrors(err, "name", "status", "timezone"); ok {
		v.flash = &webFlashError
		return c.showLicense(v, http.StatusBadRequest, &editForm{Name: name, Timezone: tz, Statuses: statusOptions(st, ""), Errors: errs}, nil)
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: license changed", "license", v.r.PathValue("id"), "by", v.me.Email)
	c.setFlash(v, "ok", "Saved the license.")
	return seeOther(v, c.back(v))
}

// addContact adds a contact under the store's rules, as the staff member.
func (c *Console) addContact(v *visit) error {
	form := addForm{Email: strings.TrimSpace(v.r.PostFormValue("email")), Name: strings.TrimSpace(v.r.PostFormValue("name")), Main: v.r.PostFormValue("main") == "on"}
	role, err := contacts.ParseRole("role", v.r.PostFormValue("role"))
	if err == nil {
		_, err = c.Contacts.AddMember(v.ctx(), v.actor(), v.r.PathValue("id"), contacts.NewMember{Email: form.Email, Name: form.Name, Role: role, Main: form.Main})
	}
	if errs, ok := fieldErrors(err, "email", "name", "role"); ok {
		form.Errors = errs
		v.flash = &webFlashError
		return c.showLicense(v, http.StatusBadRequest, nil, &form)
	}
	if err != nil {
		return c.refusal(v, err)
	}
	c.setFlash(v, "ok", fmt.Sprintf("Added %s as a %s contact.", strings.ToLower(form.Email), role))
	return seeOther(v, c.back(v))
}

func (c *Console) promote(v *visit) error {
	email, role, err := c.memberForm(v)
	if err == nil {
		_, err = c.Contacts.Promote(v.ctx(), v.actor(), v.r.PathValue("id"), email, role)
	}
	if err != nil {
		return c.refusal(v, err)
	}
	c.setFlash(v, "ok", fmt.Sprintf("%s is now the main %s contact.", email, role))
	return seeOther(v, c.back(v))
}

func (c *Console) remove(v *visit) error {
	email, role, err := c.memberForm(v)
	if err == nil {
		_, err = c.Contacts.RemoveMember(v.ctx(), v.actor(), v.r.PathValue("id"), email, role)
	}
	if err != nil {
		return c.refusal(v, err)
	}
	c.setFlash(v, "ok", fmt.Sprintf("Removed %s from the %s contacts.", email, role))
	return seeOther(v, c.back(v))
}

func (c *Console) memberForm(v *visit) (string, contacts.Role, error) {
	role, err := contacts.ParseRole("role", v.r.PostFormValue("role"))
	if err != nil {
		return "", "", err
	}
	email, err := contacts.NormalizeEmail("email", v.r.PostFormValue("email"))
	return email, role, err
}

// refusalOn shows page again with the reason a change was refused.
func (c *Console) refusalOn(v *visit, page, title string, view any, err error) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	v.flash = &webFlash{Kind: "error", Text: e.Error()}
	return c.render(v, web.Status(e), page, title, "", view)
}

// refusal shows the license again with why the store refused a change
// (the last contact of a role, a main contact, ...), and changes nothing.
func (c *Console) refusal(v *visit, err error) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	v.flash = &webFlash{Kind: "error", Text: e.Error()}
	return c.showLicense(v, web.Status(e), nil, nil)
}

type webFlash = web.Flash

var webFlashError = web.Flash{Kind: "error", Text: "Nothing was changed: see the form below."}
