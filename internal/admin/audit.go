package admin

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/contacts"
)

// auditView is one entry of the audit log, as API.md shows it: a change
// to a membership, a token, a suppression, or an erasure.
type auditView struct {
	ID           int64     `json:"id"`
	LicenseID    string    `json:"license_id"`
	Action       string    `json:"action"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	Main         bool      `json:"main"`
	PreviousMain *string   `json:"previous_main"`
	TokenName    string    `json:"token_name"`
	Detail       string    `json:"detail"`
	Via          string    `json:"via"`
	Actor        string    `json:"actor"`
	At           time.Time `json:"at"`
}

func newAuditView(e contacts.AuditEntry) auditView {
	v := auditView{
		ID: e.ID, LicenseID: e.LicenseID, Action: string(e.Action), Email: e.Email, Role: string(e.Role),
		Main: e.Main, TokenName: e.TokenName, Detail: e.Detail, Via: string(e.By.Via), Actor: e.By.Name, At: e.At,
	}
	if e.PreviousMain != "" {
		v.PreviousMain = &e.PreviousMain
	}
	return v
}

// listAudit lists the audit log of every license, filtered.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return s.writeAudit(w, r, contacts.AuditFilter{LicenseID: q.Get("license_id"), Email: q.Get("email"), Via: contacts.Via(q.Get("via"))})
}

// licenseAudit lists the audit log of one license, which may have been
// deleted since: the log outlives it.
func (s *Server) licenseAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return s.writeAudit(w, r, contacts.AuditFilter{LicenseID: r.PathValue("id"), Email: q.Get("email"), Via: contacts.Via(q.Get("via"))})
}

func (s *Server) writeAudit(w http.ResponseWriter, r *http.Request, f contacts.AuditFilter) error {
	var err error
	if f.Page, err = pageRequest(r); err != nil {
		return err
	}
	p, err := s.contacts.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newAuditView))
	return nil
}
