package portal

import (
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/templates"
)

// invoices are a license's invoices as a billing contact sees them: those
// from the day they became one, the amount and date in their language.
func (p *Portal) invoices(v *visit, l contacts.License) ([]invoiceView, error) {
	if p.Invoices == nil {
		return nil, nil
	}
	var since time.Time
	for _, m := range l.Billing {
		if m.Email == v.me() {
			since = m.AddedAt
		}
	}
	list, err := p.Invoices.InvoicesSince(v.ctx(), l.ID, since)
	if err != nil {
		return nil, err
	}
	out := make([]invoiceView, len(list))
	for i, inv := range list {
		out[i] = invoiceView{
			Number: inv.Number,
			Amount: templates.FormatAmount(inv.AmountMinor, inv.Currency, v.t.Lang),
			Due:    templates.FormatDate(inv.DueDate, v.t.Lang),
			Status: v.t.InvoiceStatusName[inv.Status],
		}
	}
	return out, nil
}
