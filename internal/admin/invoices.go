package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/kinds"
)

type invoiceView struct {
	Number      string              `json:"number"`
	LicenseID   string              `json:"license_id"`
	AmountMinor int64               `json:"amount_minor"`
	Currency    string              `json:"currency"`
	DueDate     string              `json:"due_date"`
	Status      string              `json:"status"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	Reminders   *[]announcementView `json:"reminders,omitempty"`
}

func newInvoiceView(inv billing.Invoice) invoiceView {
	return invoiceView{
		Number: inv.Number, LicenseID: inv.LicenseID, AmountMinor: inv.AmountMinor, Currency: inv.Currency,
		DueDate: inv.DueDate, Status: string(inv.Status), CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
	}
}

// invoiceDetail is the view of one invoice, with the reminders made for it.
func (s *Server) invoiceDetail(ctx context.Context, inv billing.Invoice) (invoiceView, error) {
	list, err := s.ledger.ByRef(ctx, kinds.InvoiceReminder, inv.Number)
	if err != nil {
		return invoiceView{}, err
	}
	v := newInvoiceView(inv)
	reminders := make([]announcementView, len(list))
	for i, a := range list {
		reminders[i] = newAnnouncementView(a)
	}
	v.Reminders = &reminders
	return v, nil
}

func (s *Server) putInvoice(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		LicenseID   string `json:"license_id"`
		AmountMinor *int64 `json:"amount_minor"`
		Currency    string `json:"currency"`
		DueDate     string `json:"due_date"`
		Status      string `json:"status"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	inv, created, err := s.billing.Put(r.Context(), r.PathValue("number"), billing.InvoiceInput{
		LicenseID: req.LicenseID, AmountMinor: req.AmountMinor, Currency: req.Currency, DueDate: req.DueDate, Status: billing.Status(req.Status),
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	v, err := s.invoiceDetail(r.Context(), inv)
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.billing.Get(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	v, err := s.invoiceDetail(r.Context(), inv)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := s.billing.List(r.Context(), billing.Filter{Status: billing.Status(q.Get("status")), LicenseID: q.Get("license_id"), Page: req})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newInvoiceView))
	return nil
}
