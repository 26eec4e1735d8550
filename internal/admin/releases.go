package admin

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
)

type releaseView struct {
	Product        string    `json:"product"`
	Version        string    `json:"version"`
	Title          string    `json:"title"`
	Notes          string    `json:"notes"`
	URL            string    `json:"url"`
	AnnouncementID int64     `json:"announcement_id"`
	CreatedAt      time.Time `json:"created_at"`
}

func newReleaseView(r ledger.Release) releaseView {
	return releaseView{Product: r.Product, Version: r.Version, Title: r.Title, Notes: r.Notes, URL: r.URL,
		AnnouncementID: r.AnnouncementID, CreatedAt: r.CreatedAt}
}

func (s *Server) createRelease(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Product string `json:"product"`
		Version string `json:"version"`
		Title   string `json:"title"`
		Notes   string `json:"notes"`
		URL     string `json:"url"`
		SendAt  string `json:"send_at"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	sendAt, err := parseTime("send_at", req.SendAt)
	if err != nil {
		return err
	}
	nr := ledger.NewRelease{Product: req.Product, Version: req.Version, Title: req.Title, Notes: req.Notes, URL: req.URL, SendAt: sendAt}
	rel, a, created, err := s.ledger.CreateRelease(r.Context(), nr, kinds.ReleaseAnnouncement)
	if err != nil {
		return err
	}
	status := http.StatusOK // the same version again: nothing new
	if created {
		status = http.StatusCreated
		s.control.Started(r.Context(), changedBy(r.Context()), a)
	}
	writeJSON(w, status, struct {
		Release        releaseView      `json:"release"`
		AnnouncementID int64            `json:"announcement_id"`
		Announcement   announcementView `json:"announcement"`
	}{newReleaseView(rel), a.ID, newAnnouncementView(a)})
	return nil
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	p, err := s.ledger.Releases(r.Context(), r.URL.Query().Get("product"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newReleaseView))
	return nil
}
