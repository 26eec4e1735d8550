package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
)

// personHref is the address of a person's page.
func personHref(email string) string { return "/console/people/" + url.PathEscape(email) }

type peopleView struct {
	Q     string
	Rows  []personRow
	Next  string
	Error string
}

type personRow struct {
	Email, Href, Name string
	Licenses          int
	Suppressed        bool
}

// people searches people by address or name; an exact address of someone
// herald knows opens their page, so "why did X not get it?" is one search.
func (c *Console) people(v *visit) error {
	q := v.r.URL.Query()
	view := peopleView{Q: strings.TrimSpace(q.Get("q"))}
	if view.Q != "" && q.Get("after") == "" && strings.Contains(view.Q, "@") {
		if email, known, err := c.known(v, view.Q); err != nil {
			return err
		} else if known {
			return seeOther(v, personHref(email))
		}
	}
	status := http.StatusOK
	list, err := c.Contacts.ListContacts(v.ctx(), contacts.ContactFilter{Q: view.Q, Page: page.Request{Limit: pageSize, After: q.Get("after")}})
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		view.Error, status, err = e.Error(), http.StatusBadRequest, nil
	}
	if err != nil {
		return err
	}
	for _, p := range list.Items {
		view.Rows = append(view.Rows, personRow{Email: p.Email, Href: personHref(p.Email), Name: p.Name, Licenses: len(p.Memberships), Suppressed: p.Suppression != nil})
	}
	if list.Next != "" {
		next := url.Values{"after": {list.Next}}
		if view.Q != "" {
			next.Set("q", view.Q)
		}
		view.Next = "/console/people?" + next.Encode()
	}
	return c.render(v, status, pagePeople, "People", "people", view)
}

// known says whether email is a contact or was ever sent something (a
// contact removed since keeps a history), and gives the address as
// stored.
func (c *Console) known(v *visit, email string) (string, bool, error) {
	p, err := c.Contacts.GetContact(v.ctx(), email)
	if err == nil {
		return p.Email, true, nil
	}
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		return "", false, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return "", false, err
	}
	has, err := c.Ledger.HasDeliveries(v.ctx(), email)
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		return "", false, nil
	}
	return strings.ToLower(strings.TrimSpace(email)), has, err
}

type personView struct {
	Email, Name, Href string
	Contact           bool // a contact now, not only a past recipient
	Memberships       []membershipRow
	ReleaseOptOut     bool
	BroadcastOptOut   bool
	Suppression       *suppressionView
	Deliveries        []personDeliveryRow
	// Complaints says a delivery shown was marked as spam.
	Complaints   bool
	Next, First  string
	FilterStatus string
	Statuses     []option
	Error        string
	// Lift and Erase are the buttons the staff member has.
	Lift  *action
	Erase string
}

type membershipRow struct {
	LicenseID, Href, Product, Role string
	Main                           bool
}

type suppressionView struct {
	Reply, Enhanced, At, Delivery string
	Code                          int
}

type personDeliveryRow struct {
	Href, Subject, Kind, Status, Reply, Reason, At string
	Attempts                                       int
	// Complained is when the person marked the message as spam, in the
	// staff member's timezone; empty if they did not.
	Complained string
	// Events are what came back after it was sent, oldest first.
	Events []eventRow
}

// eventRow is one bounce, delay notice or complaint about a delivery.
type eventRow struct {
	Kind, Label, Code, Diagnostic, Source, At string
}

// eventLabels name the kinds of event for staff.
var eventLabels = map[bounce.Kind]string{
	bounce.Hard:      "hard bounce",
	bounce.Soft:      "soft bounce",
	bounce.Delay:     "delayed",
	bounce.Complaint: "spam complaint",
}

func (v *visit) eventRow(e ledger.DeliveryEvent) eventRow {
	label := eventLabels[e.Kind]
	if label == "" {
		label = string(e.Kind)
	}
	return eventRow{Kind: string(e.Kind), Label: label, Code: e.Code, Diagnostic: e.Diagnostic, Source: e.Source, At: v.in(e.OccurredAt)}
}

func (c *Console) person(v *visit) error {
	return c.showPerson(v, http.StatusOK)
}

// showPerson renders a person's page: who they are on which license, what
// stops mail to them, and every delivery to them, newest first.
func (c *Console) showPerson(v *visit, status int) error {
	email := v.r.PathValue("email")
	view := personView{Email: email}
	p, err := c.Contacts.GetContact(v.ctx(), email)
	switch {
	case err == nil:
		view.Email, view.Name, view.Contact = p.Email, p.Name, true
		view.ReleaseOptOut, view.BroadcastOptOut = p.ReleaseOptOut, p.BroadcastOptOut
		for _, m := range p.Memberships {
			view.Memberships = append(view.Memberships, membershipRow{LicenseID: m.LicenseID, Href: "/console/licenses/" + url.PathEscape(m.LicenseID),
				Product: m.Product, Role: string(m.Role), Main: m.Main})
		}
		if s := p.Suppression; s != nil {
			view.Suppression = &suppressionView{Reply: s.Reply, Code: s.Code, Enhanced: s.Enhanced, At: v.in(s.SuppressedAt)}
			if s.DeliveryID != 0 {
				view.Suppression.Delivery = strconv.FormatInt(s.DeliveryID, 10)
			}
		}
	case errors.Is(err, fault.ErrNotFound):
		known, err := c.Ledger.HasDeliveries(v.ctx(), email)
		if err != nil && !isInvalid(err) {
			return err
		}
		if !known {
			c.errorPage(v, http.StatusNotFound, "Not found", email+" is no contact and was never sent anything.")
			return nil
		}
		view.Email = strings.ToLower(strings.TrimSpace(email))
	case isInvalid(err):
		c.errorPage(v, http.StatusNotFound, "Not found", "That is not an email address.")
		return nil
	default:
		return err
	}
	href := personHref(view.Email)
	view.Href = href
	if view.Suppression != nil && v.can(staff.Editor) {
		view.Lift = &action{Action: href + "/unsuppress", Label: "Lift the suppression of " + view.Email, CSRF: c.csrf(v)}
	}
	if v.can(staff.Admin) {
		view.Erase = href + "/erase"
	}
	q := v.r.URL.Query()
	view.FilterStatus = q.Get("status")
	view.Statuses = []option{{Value: "", Label: "Any status", Selected: view.FilterStatus == ""}}
	for _, s := range deliveryStatuses {
		view.Statuses = append(view.Statuses, option{Value: string(s), Label: string(s), Selected: string(s) == view.FilterStatus})
	}
	list, err := c.Ledger.PersonDeliveries(v.ctx(), ledger.PersonFilter{Email: view.Email, Status: ledger.DeliveryStatus(view.FilterStatus),
		Page: page.Request{Limit: 50, After: q.Get("after")}})
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		view.Error, status, err = e.Error(), http.StatusBadRequest, nil
	}
	if err != nil {
		return err
	}
	// The events of the whole page in one query.
	ids := make([]int64, len(list.Items))
	for i, d := range list.Items {
		ids[i] = d.ID
	}
	events, err := c.Ledger.Events(v.ctx(), ids)
	if err != nil {
		return err
	}
	for _, d := range list.Items {
		r := personDeliveryRow{Href: "/console/announcements/" + strconv.FormatInt(d.AnnouncementID, 10), Subject: d.Subject, Kind: string(d.Kind),
			Status: string(d.Status), Reply: d.LastError, Reason: d.Reason, Attempts: d.Attempts, At: v.in(d.UpdatedAt)}
		if d.SentAt != nil {
			r.At = v.in(*d.SentAt)
		}
		if d.ComplainedAt != nil {
			r.Complained, view.Complaints = v.in(*d.ComplainedAt), true
		}
		for _, e := range events[d.ID] {
			r.Events = append(r.Events, v.eventRow(e))
		}
		view.Deliveries = append(view.Deliveries, r)
	}
	if list.Next != "" {
		next := url.Values{"after": {list.Next}}
		if view.FilterStatus != "" {
			next.Set("status", view.FilterStatus)
		}
		view.Next = href + "?" + next.Encode()
	}
	if q.Get("after") != "" {
		view.First = href
	}
	return c.render(v, status, pagePerson, view.Email, "people", view)
}

func isInvalid(err error) bool {
	e, ok := fault.As(err)
	return ok && e.Kind == fault.KindInvalid
}

// unsuppress lifts a person's suppression, audited under the staff
// member's address.
func (c *Console) unsuppress(v *visit) error {
	email := v.r.PathValue("email")
	rec, err := c.Contacts.Unsuppress(v.ctx(), email, v.actor())
	if e, ok := fault.As(err); ok {
		c.setFlash(v, "error", e.Error())
		return seeOther(v, personHref(email))
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: suppression lifted", "by", v.me.Email)
	c.setFlash(v, "ok", fmt.Sprintf("Lifted the suppression of %s: later announcements send to them again.", rec.Email))
	return seeOther(v, personHref(rec.Email))
}

type eraseView struct {
	Email, Back, Action, CSRF string
	Memberships               []membershipRow
}

// erasePage states what erasing a person does before the admin confirms.
func (c *Console) erasePage(v *visit) error {
	email, known, err := c.known(v, v.r.PathValue("email"))
	if err != nil {
		return err
	}
	if !known {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such person.")
		return nil
	}
	view := eraseView{Email: email, Back: personHref(email), Action: personHref(email) + "/erase", CSRF: c.csrf(v)}
	if p, err := c.Contacts.GetContact(v.ctx(), email); err == nil {
		for _, m := range p.Memberships {
			view.Memberships = append(view.Memberships, membershipRow{LicenseID: m.LicenseID, Href: "/console/licenses/" + url.PathEscape(m.LicenseID),
				Product: m.Product, Role: string(m.Role), Main: m.Main})
		}
	}
	return c.render(v, http.StatusOK, pageErase, "Erase "+email, "people", view)
}

// erase erases a person at their request, as DELETE
// /api/v1/contacts/{email} does; a main or last contact is refused with
// the licenses named, and nothing changes. The log names who erased,
// never whom.
func (c *Console) erase(v *visit) error {
	email := v.r.PathValue("email")
	e, err := c.Contacts.Erase(v.ctx(), v.actor(), email, c.ErasureKey)
	if errors.Is(err, fault.ErrNotFound) {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such person, or they were erased already.")
		return nil
	}
	if f, ok := fault.As(err); ok {
		v.flash = &webFlash{Kind: "error", Text: "Not erased: " + f.Error()}
		return c.showPerson(v, web.Status(f))
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: person erased", "by", v.me.Email, "hash", e.Hash)
	c.setFlash(v, "ok", fmt.Sprintf("Erased. Memberships removed: %d; past deliveries now to %s: %d.", e.Memberships, e.Hash, e.Deliveries))
	return seeOther(v, "/console/people")
}
