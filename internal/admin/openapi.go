package admin

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of the route table; a test keeps
// the two in step.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}
