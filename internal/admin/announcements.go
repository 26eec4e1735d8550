package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
)

type announcementView struct {
	ID         int64         `json:"id"`
	Kind       string        `json:"kind"`
	Subject    string        `json:"subject"`
	Status     string        `json:"status"`
	DedupeKey  string        `json:"dedupe_key"`
	SendAt     time.Time     `json:"send_at"`
	CreatedAt  time.Time     `json:"created_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	Counts     ledger.Counts `json:"counts"`
	// PausedReason and PausedBy say, of a paused announcement, why and
	// who paused it ("relay" when the relay failed).
	PausedReason string `json:"paused_reason,omitempty"`
	PausedBy     string `json:"paused_by,omitempty"`
}

func newAnnouncementView(a ledger.Announcement) announcementView {
	return announcementView{
		ID: a.ID, Kind: string(a.Kind), Subject: a.Subject, Status: string(a.Status), DedupeKey: a.DedupeKey,
		SendAt: a.SendAt, CreatedAt: a.CreatedAt, FinishedAt: a.FinishedAt, Counts: a.Counts,
		PausedReason: a.PausedReason, PausedBy: a.PausedBy,
	}
}

type deliveryView struct {
	Email         string     `json:"email"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	MessageID     string     `json:"message_id"`
	SentAt        *time.Time `json:"sent_at"`
	Reason        string     `json:"reason"`
	ComplainedAt  *time.Time `json:"complained_at"`
}

func newDeliveryView(d ledger.Delivery) deliveryView {
	v := deliveryView{
		Email: d.Email, Status: string(d.Status), Attempts: d.Attempts, LastError: d.LastError,
		MessageID: d.MessageID, SentAt: d.SentAt, Reason: d.Reason, ComplainedAt: d.ComplainedAt,
	}
	if d.Status == ledger.DeliveryPending {
		v.NextAttemptAt = &d.NextAttemptAt
	}
	return v
}

func announcementID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.NotFound("announcement %q does not exist", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) listAnnouncements(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	kind := ledger.Kind(q.Get("kind"))
	if kind != "" {
		if err := s.kinds.Check("kind", kind); err != nil {
			return err
		}
	}
	p, err := s.ledger.List(r.Context(), ledger.Filter{Kind: kind, Status: ledger.Status(q.Get("status")), Page: req})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newAnnouncementView))
	return nil
}

func (s *Server) getAnnouncement(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	a, err := s.ledger.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAnnouncementView(a))
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	email, err := filterEmail(r)
	if err != nil {
		return err
	}
	p, err := s.ledger.Deliveries(r.Context(), id, ledger.DeliveryFilter{
		Status: ledger.DeliveryStatus(r.URL.Query().Get("status")), Email: email, Page: req,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newDeliveryView))
	return nil
}

func (s *Server) cancelAnnouncement(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	// Deliveries a worker had claimed before the cancel may be on their way
	// to the SMTP server; answer once they have settled, so that nothing
	// reaches it after the answer.
	a, _, err := s.control.Cancel(r.Context(), changedBy(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAnnouncementView(a))
	return nil
}

func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	a, err := s.control.RetryFailed(r.Context(), changedBy(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAnnouncementView(a))
	return nil
}

func (s *Server) pauseAnnouncement(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if len(req.Reason) > 500 {
		return fault.Invalid("reason", "is longer than 500 bytes")
	}
	a, err := s.control.Pause(r.Context(), changedBy(r.Context()), id, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAnnouncementView(a))
	return nil
}

func (s *Server) resumeAnnouncement(w http.ResponseWriter, r *http.Request) error {
	id, err := announcementID(r)
	if err != nil {
		return err
	}
	a, err := s.control.Resume(r.Context(), changedBy(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAnnouncementView(a))
	return nil
}
