package admin

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/billing"
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

// newInvoiceDetail is the view of one invoice, with its reminders.
func newInvoiceDetail(inv billing.Invoice) invoiceView {
	v := newInvoiceView(inv)
	reminders := make([]announcementView, len(inv.Reminders))
	for i, a := range inv.Reminders {
		reminders[i] = newAnnouncementView(a)
	}
	v.Reminders = &reminders
	return v
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
	writeJSON(w, status, newInvoiceDetail(inv))
	return nil
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.billing.Get(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newInvoiceDetail(inv))
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
