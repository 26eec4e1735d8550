package admin

import (
	"errors"
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/templates"
)

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.renderer.List()})
	return nil
}

// previewTemplate renders a template on the data in the body, or on its
// sample data when the body is empty, in ?locale= (default: the default
// locale).
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	data, ok := s.renderer.Sample(name)
	if !ok {
		return fault.NotFound("there is no template called %q", name)
	}
	if err := decodeJSON(w, r, data, true); err != nil {
		return err
	}
	locale := r.URL.Query().Get("locale")
	if locale != "" {
		// An unknown locale falls back to the default, as it does for a
		// contact; one that is not a language tag at all is a mistake.
		if _, err := contacts.NormalizeLocale("locale", locale); err != nil {
			return err
		}
	}
	msg, err := s.renderer.Render(name, locale, data)
	if errors.Is(err, templates.ErrUnknown) {
		return fault.NotFound("there is no template called %q", name)
	}
	if err != nil {
		// The error names the file and line: "template: release.html.tmpl:4:12: …".
		return fault.Invalid("", "%v", err)
	}
	writeJSON(w, http.StatusOK, msg)
	return nil
}
