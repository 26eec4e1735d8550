package admin

import (
	"net/http"

	"github.com/heraldhq/herald/contacts"
)

// productView is a product: name is null until one is given, and
// display_name is what messages call it (the name, else the key).
type productView struct {
	Key         string  `json:"key"`
	Name        *string `json:"name"`
	DisplayName string  `json:"display_name"`
	Licenses    int     `json:"licenses"`
}

func newProductView(p contacts.Product) productView {
	v := productView{Key: p.Key, DisplayName: p.DisplayName(), Licenses: p.Licenses}
	if p.Name != "" {
		v.Name = &p.Name
	}
	return v
}

func (s *Server) putProduct(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	p, created, err := s.contacts.PutProduct(r.Context(), r.PathValue("key"), req.Name)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, newProductView(p))
	return nil
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := s.contacts.GetProduct(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newProductView(p))
	return nil
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	p, err := s.contacts.ListProducts(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newProductView))
	return nil
}
