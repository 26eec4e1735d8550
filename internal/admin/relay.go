package admin

import (
	"net/http"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/relay"
)

// relayState shows the relay as every process sees it: its state, the
// last error and what to change, the send rate, and the announcements
// paused while it fails.
func (s *Server) relayState(w http.ResponseWriter, r *http.Request) error {
	status, err := s.relay.Status(r.Context())
	if err != nil {
		return err
	}
	paused, err := s.ledger.List(r.Context(), ledger.Filter{Status: ledger.Paused, Page: page.Request{Limit: page.MaxSize}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		relay.Status
		Rate   relay.Rate                 `json:"rate"`
		Paused listView[announcementView] `json:"paused"`
	}{status, s.relay.Rate(r.Context()), newListView(paused, newAnnouncementView)})
	return nil
}
