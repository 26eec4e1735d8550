package admin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/ledger"
)

// openAPIDocument describes every route of the route table; a test keeps
// the two in step.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIFor is the document as this herald serves it: the kinds of
// announcement are those of its registry, so that a new kind is documented
// where it is defined.
func openAPIFor(kinds []ledger.Kind) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, err
	}
	// A missing level reads as nil, and asserts as not ok.
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	schema, ok := schemas["AnnouncementKind"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi.json has no AnnouncementKind schema")
	}
	schema["enum"] = kinds
	return json.Marshal(doc)
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.openAPIDoc)
	return err
}
