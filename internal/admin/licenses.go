package admin

import (
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

type memberRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Main  bool   `json:"main"`
}

func (m memberRequest) member() contacts.NewMember {
	return contacts.NewMember{Email: m.Email, Name: m.Name, Role: contacts.Role(m.Role), Main: m.Main}
}

func (s *Server) createLicense(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID       string          `json:"id"`
		Product  string          `json:"product"`
		Name     string          `json:"name"`
		Status   string          `json:"status"`
		Timezone string          `json:"timezone"`
		Contacts []memberRequest `json:"contacts"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	nl := contacts.NewLicense{ID: req.ID, Product: req.Product, Name: req.Name, Status: contacts.Status(req.Status), Timezone: req.Timezone}
	for _, m := range req.Contacts {
		nl.Contacts = append(nl.Contacts, m.member())
	}
	l, err := s.contacts.CreateLicense(r.Context(), changedBy(r.Context()), nl)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/licenses/"+l.ID)
	writeJSON(w, http.StatusCreated, newLicenseView(l))
	return nil
}

func (s *Server) listLicenses(w http.ResponseWriter, r *http.Request) error {
	page, err := pageRequest(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := s.contacts.ListLicenses(r.Context(), contacts.LicenseFilter{
		Product: q.Get("product"), Status: contacts.Status(q.Get("status")), Q: q.Get("q"), Page: page,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newLicenseView))
	return nil
}

func (s *Server) getLicense(w http.ResponseWriter, r *http.Request) error {
	l, err := s.contacts.GetLicense(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLicenseView(l))
	return nil
}

func (s *Server) updateLicense(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     *string `json:"name"`
		Product  *string `json:"product"`
		Status   *string `json:"status"`
		Timezone *string `json:"timezone"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	l, err := s.contacts.UpdateLicense(r.Context(), changedBy(r.Context()), r.PathValue("id"), contacts.LicensePatch{
		Name: req.Name, Product: req.Product, Status: (*contacts.Status)(req.Status), Timezone: req.Timezone,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLicenseView(l))
	return nil
}

func (s *Server) deleteLicense(w http.ResponseWriter, r *http.Request) error {
	if err := s.contacts.DeleteLicense(r.Context(), changedBy(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addContact(w http.ResponseWriter, r *http.Request) error {
	var req memberRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	l, err := s.contacts.AddMember(r.Context(), changedBy(r.Context()), r.PathValue("id"), req.member())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newLicenseView(l))
	return nil
}

func (s *Server) promoteContact(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	l, err := s.contacts.Promote(r.Context(), changedBy(r.Context()), r.PathValue("id"), r.PathValue("email"), contacts.Role(req.Role))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLicenseView(l))
	return nil
}

func (s *Server) removeContact(w http.ResponseWriter, r *http.Request) error {
	role := contacts.Role(r.URL.Query().Get("role"))
	l, err := s.contacts.RemoveMember(r.Context(), changedBy(r.Context()), r.PathValue("id"), r.PathValue("email"), role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLicenseView(l))
	return nil
}

func pageRequest(r *http.Request) (page.Request, error) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return page.Request{}, err
	}
	if limit == 0 && r.URL.Query().Get("limit") != "" {
		// Zero is how page.Request says "the default"; asked for, it is
		// out of range like any other.
		return page.Request{}, fault.Invalid("limit", "must be between 1 and %d", page.MaxSize)
	}
	return page.Request{Limit: limit, After: r.URL.Query().Get("after")}, nil
}
