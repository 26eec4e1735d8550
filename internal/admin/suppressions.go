package admin

import (
	"net/http"

	"github.com/heraldhq/herald/contacts"
)

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	email, err := filterEmail(r)
	if err != nil {
		return err
	}
	p, err := s.contacts.Suppressions(r.Context(), contacts.SuppressionFilter{Email: email, Page: req})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newSuppressionView))
	return nil
}

// liftSuppression answers with the suppression as lifted, as removing a
// contact from a license answers with what is left: the caller sees what it
// undid, and who is recorded as having undone it.
func (s *Server) liftSuppression(w http.ResponseWriter, r *http.Request) error {
	by := changedBy(r.Context())
	lifted, err := s.contacts.Unsuppress(r.Context(), r.PathValue("email"), by)
	if err != nil {
		return err
	}
	s.logger.Info("suppression lifted", "by", by)
	s.logger.Debug("suppression lifted", "email", lifted.Email, "by", by)
	writeJSON(w, http.StatusOK, newSuppressionView(lifted))
	return nil
}
