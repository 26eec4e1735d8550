package admin

import (
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/fault"
)

func (s *Server) listKept(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	p, err := s.kept.List(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, func(m bounce.KeptMessage) bounce.KeptMessage { return m }))
	return nil
}

// getKept answers with the message as received, as message/rfc822, and as
// an attachment: a browser must not render what anyone could have sent.
func (s *Server) getKept(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.NotFound("kept inbound message %q does not exist", r.PathValue("id"))
	}
	m, err := s.kept.Get(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="kept-`+strconv.FormatInt(id, 10)+`.eml"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(m.Raw)
	return nil
}
