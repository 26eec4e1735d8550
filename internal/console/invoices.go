package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/templates"
)

// invoiceHref is the address of an invoice's page; a number may hold a
// slash or a #.
func invoiceHref(number string) string { return "/console/invoices/" + url.PathEscape(number) }

type invoicesView struct {
	License     string
	Statuses    []option
	Rows        []invoiceListRow
	Next, First string
	Error       string
}

type invoiceListRow struct {
	Number, Href, License, LicenseHref, Amount, Due, Status string
}

// invoiceStatuses are the filter's choices: unpaid is open.
var invoiceStatuses = []option{{Value: "", Label: "Any status"}, {Value: string(billing.Open), Label: "open (unpaid)"},
	{Value: string(billing.Paid), Label: "paid"}, {Value: string(billing.Void), Label: "void"}}

// invoices lists the invoices by number, filtered by license and status.
func (c *Console) invoices(v *visit) error {
	q := v.r.URL.Query()
	f := billing.Filter{LicenseID: strings.TrimSpace(q.Get("license")), Status: billing.Status(q.Get("status")),
		Page: page.Request{Limit: pageSize, After: q.Get("after")}}
	view := invoicesView{License: f.LicenseID}
	status := http.StatusOK
	var list page.Page[billing.Invoice]
	var err error
	if f.LicenseID != "" {
		// Checked here, to name the field as the form does.
		err = contacts.ValidateLicenseID("license", f.LicenseID)
	}
	if err == nil {
		list, err = c.Billing.List(v.ctx(), f)
	}
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		// A bad filter shows every invoice and says why.
		view.Error, status = e.Error(), http.StatusBadRequest
		f = billing.Filter{Page: page.Request{Limit: pageSize}}
		list, err = c.Billing.List(v.ctx(), f)
	}
	if err != nil {
		return err
	}
	for _, o := range invoiceStatuses {
		o.Selected = o.Value == string(f.Status)
		view.Statuses = append(view.Statuses, o)
	}
	for _, inv := range list.Items {
		view.Rows = append(view.Rows, invoiceListRow{Number: inv.Number, Href: invoiceHref(inv.Number), License: inv.LicenseID,
			LicenseHref: "/console/licenses/" + url.PathEscape(inv.LicenseID), Amount: templates.FormatAmount(inv.AmountMinor, inv.Currency, "en"),
			Due: inv.DueDate, Status: string(inv.Status)})
	}
	keep := url.Values{}
	if f.LicenseID != "" {
		keep.Set("license", f.LicenseID)
	}
	if f.Status != "" {
		keep.Set("status", string(f.Status))
	}
	if list.Next != "" {
		next := url.Values{"after": {list.Next}}
		for k, val := range keep {
			next[k] = val
		}
		view.Next = "/console/invoices?" + next.Encode()
	}
	if f.Page.After != "" {
		view.First = "/console/invoices"
		if len(keep) > 0 {
			view.First += "?" + keep.Encode()
		}
	}
	return c.render(v, status, pageInvoices, "Invoices", "operations/invoices", view)
}

type invoiceView struct {
	Number, License, LicenseHref, Amount, Due, Status string
	Created, Updated                                  string
	Reminders                                         []reminderView
}

// reminderView is one reminder of an invoice: its announcement and whom
// it went to.
type reminderView struct {
	announcementRow
	Deliveries []deliveryRow
	// More says the announcement's page lists more deliveries.
	More bool
}

// remindersShown bounds the deliveries listed under each reminder: a
// license has a few billing contacts, and the announcement's page lists
// them all.
const remindersShown = 50

// invoice shows an invoice and its reminder history: each reminder that
// was made (the ledger's invoice_reminder announcements about it), when,
// and each delivery's status.
func (c *Console) invoice(v *visit) error {
	inv, err := c.Billing.Get(v.ctx(), v.r.PathValue("number"))
	if e, ok := fault.As(err); ok {
		c.errorPage(v, web.Status(e), "Not found", e.Error())
		return nil
	}
	if err != nil {
		return err
	}
	view := invoiceView{Number: inv.Number, License: inv.LicenseID, LicenseHref: "/console/licenses/" + url.PathEscape(inv.LicenseID),
		Amount: templates.FormatAmount(inv.AmountMinor, inv.Currency, "en"), Due: inv.DueDate, Status: string(inv.Status),
		Created: v.in(inv.CreatedAt), Updated: v.in(inv.UpdatedAt)}
	reminders, err := c.Ledger.ByRef(v.ctx(), kinds.InvoiceReminder, inv.Number)
	if err != nil {
		return err
	}
	for _, a := range reminders {
		rv := reminderView{announcementRow: v.announcementRow(a)}
		list, err := c.Ledger.Deliveries(v.ctx(), a.ID, ledger.DeliveryFilter{Page: page.Request{Limit: remindersShown}})
		if err != nil {
			return err
		}
		for _, d := range list.Items {
			rv.Deliveries = append(rv.Deliveries, v.deliveryRow(d))
		}
		rv.More = list.Next != ""
		view.Reminders = append(view.Reminders, rv)
	}
	return c.render(v, http.StatusOK, pageInvoice, "Invoice "+inv.Number, "operations/invoices", view)
}

// deliveryRow is a delivery as the console lists it, linked to the
// person's page unless the address was erased.
func (v *visit) deliveryRow(d ledger.Delivery) deliveryRow {
	r := deliveryRow{Email: d.Email, Status: string(d.Status), Reason: d.Reason, Error: d.LastError, Attempts: d.Attempts}
	if !strings.HasPrefix(d.Email, contacts.ErasedPrefix) {
		r.Href = personHref(d.Email)
	}
	if d.SentAt != nil {
		r.Sent = v.in(*d.SentAt)
	}
	if d.ComplainedAt != nil {
		r.Complained = v.in(*d.ComplainedAt)
	}
	return r
}
