package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"text/template"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/templates"
)

// reminderComposer writes invoice reminders. The invoice is read again for
// every message, just before it is sent: an invoice paid or voided since
// the reminder was made is never reminded of.
type reminderComposer struct {
	params     billing.ReminderParams
	billing    *billing.Billing
	store      *contacts.Store
	paymentURL *template.Template
	now        func() time.Time
	invoice    billing.InvoiceOfLicense
}

func newReminderComposer(a ledger.Announcement, deps Deps, paymentURL *template.Template) (*reminderComposer, error) {
	var p billing.ReminderParams
	if err := json.Unmarshal(a.Params, &p); err != nil {
		return nil, fmt.Errorf("reminder params of announcement %d: %w", a.ID, err)
	}
	if deps.Billing == nil {
		return nil, fmt.Errorf("announcement %d is an invoice reminder, and this worker has no billing", a.ID)
	}
	return &reminderComposer{params: p, billing: deps.Billing, store: deps.Contacts, paymentURL: paymentURL, now: deps.Now}, nil
}

func (c *reminderComposer) recipients(ctx context.Context, emails []string) (map[string]contacts.Recipient, error) {
	inv, err := c.billing.Lookup(ctx, c.params.Number)
	if err != nil {
		return nil, err
	}
	c.invoice = inv
	return c.store.Recipients(ctx, emails, contacts.Billing, contacts.Scope{LicenseID: inv.LicenseID})
}

func (c *reminderComposer) check(ctx context.Context) (string, error) {
	inv, err := c.billing.Lookup(ctx, c.params.Number)
	if err != nil {
		return "", err
	}
	c.invoice = inv
	switch inv.Status {
	case billing.Paid:
		return "invoice paid", nil
	case billing.Void:
		return "invoice void", nil
	}
	return "", nil
}

func (c *reminderComposer) compose(rec contacts.Recipient, found bool) (any, string) {
	inv := c.invoice
	switch {
	case !found:
		return nil, "contact deleted"
	case rec.Suppressed:
		return nil, "suppressed"
	case len(rec.Licenses) == 0:
		return nil, "no longer a billing contact of " + inv.LicenseID
	}
	days := inv.DaysPastDue(c.now())
	if days < 0 {
		days = -days
	}
	return &templates.InvoiceReminder{
		Recipient: templates.Recipient{Email: rec.Email, Name: rec.Name},
		License:   templates.LicenseRef{ID: inv.LicenseID, Name: inv.LicenseName},
		Invoice: templates.InvoiceInfo{
			Number: inv.Number, Amount: billing.FormatAmount(inv.AmountMinor, inv.Currency, rec.Locale),
			AmountMinor: inv.AmountMinor, Currency: inv.Currency, DueDate: inv.DueDate,
		},
		Days:       days,
		PaymentURL: c.payURL(),
	}, ""
}

// payURL fills in HERALD_PAYMENT_URL_TEMPLATE; a result that is not an
// http(s) URL is left out rather than sent.
func (c *reminderComposer) payURL() string {
	if c.paymentURL == nil {
		return ""
	}
	var buf bytes.Buffer
	if err := c.paymentURL.Execute(&buf, PaymentURLData{Invoice: c.invoice.Invoice, License: templates.LicenseRef{ID: c.invoice.LicenseID, Name: c.invoice.LicenseName}}); err != nil {
		return ""
	}
	u, err := url.Parse(buf.String())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}

// PaymentURLData is what HERALD_PAYMENT_URL_TEMPLATE is executed on.
type PaymentURLData struct {
	Invoice billing.Invoice
	License templates.LicenseRef
}

func (c *reminderComposer) headers(contacts.Recipient) [][2]string {
	return [][2]string{{"Auto-Submitted", "auto-generated"}}
}
