package admin

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
)

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	page, err := pageRequest(r)
	if err != nil {
		return err
	}
	p, err := s.contacts.ListContacts(r.Context(), contacts.ContactFilter{Q: r.URL.Query().Get("q"), Page: page})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, newContactView))
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contacts.GetContact(r.Context(), r.PathValue("email"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newContactView(c))
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name            *string `json:"name"`
		Locale          *string `json:"locale"`
		ReleaseOptOut   *bool   `json:"release_opt_out"`
		BroadcastOptOut *bool   `json:"broadcast_opt_out"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	c, err := s.contacts.UpdateContact(r.Context(), r.PathValue("email"), contacts.ContactPatch{
		Name: req.Name, Locale: req.Locale, ReleaseOptOut: req.ReleaseOptOut, BroadcastOptOut: req.BroadcastOptOut,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newContactView(c))
	return nil
}

func (s *Server) importContacts(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "text/csv"); err != nil {
		return err
	}
	// The file is read as it arrives, never whole: the reader bounds its
	// fields and lines, and holds only the rows.
	body := http.MaxBytesReader(w, r.Body, maxCSVBody)
	rows, err := contacts.ReadCSV(body)
	if err != nil {
		drain(body)
		return importReadError(err)
	}
	res, err := s.contacts.Import(r.Context(), importedBy(r.Context()), rows)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request) error {
	// Buffer the export so that a database error is still an error status,
	// not a truncated file with 200.
	var buf bytes.Buffer
	cw := contacts.NewCSVWriter(&buf)
	if err := s.contacts.Export(r.Context(), cw.Write); err != nil {
		return err
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="herald-contacts.csv"`)
	_, err := w.Write(buf.Bytes())
	return err
}

// importReadError is a refused file as it is, or a body that could not be
// read (the client broke off, or sent more than the limit).
func importReadError(err error) error {
	var (
		ie  *contacts.ImportError
		mbe *http.MaxBytesError
	)
	if errors.As(err, &ie) || errors.As(err, &mbe) {
		return err
	}
	return fault.Invalid("", "reading the request body: %v", err)
}

// drain reads what is left of a body refused before its end (up to its
// limit), so that a client still sending it reads the answer instead of a
// connection reset.
func drain(body io.Reader) { _, _ = io.Copy(io.Discard, body) }

// personDeliveryView is one delivery of a person's history: what was sent
// (the announcement), what became of it, why, and what came back after it
// was sent (bounces, delays, complaints).
type personDeliveryView struct {
	ID             int64                  `json:"id"`
	AnnouncementID int64                  `json:"announcement_id"`
	Kind           string                 `json:"kind"`
	Subject        string                 `json:"subject"`
	Email          string                 `json:"email"`
	Status         string                 `json:"status"`
	Attempts       int                    `json:"attempts"`
	LastError      string                 `json:"last_error"`
	Reason         string                 `json:"reason"`
	CreatedAt      time.Time              `json:"created_at"`
	NextAttemptAt  *time.Time             `json:"next_attempt_at"`
	SentAt         *time.Time             `json:"sent_at"`
	FinishedAt     *time.Time             `json:"finished_at"`
	ComplainedAt   *time.Time             `json:"complained_at"`
	Events         []ledger.DeliveryEvent `json:"events"`
}

func newPersonDeliveryView(d ledger.PersonDelivery, events []ledger.DeliveryEvent) personDeliveryView {
	v := personDeliveryView{
		ID: d.ID, AnnouncementID: d.AnnouncementID, Kind: string(d.Kind), Subject: d.Subject,
		Email: d.Email, Status: string(d.Status), Attempts: d.Attempts, LastError: d.LastError,
		Reason: d.Reason, CreatedAt: d.CreatedAt, SentAt: d.SentAt, ComplainedAt: d.ComplainedAt,
		Events: utcEvents(events),
	}
	switch d.Status {
	case ledger.DeliveryPending:
		v.NextAttemptAt = &d.NextAttemptAt
	case ledger.DeliverySent, ledger.DeliveryBounced:
		// What comes back later (a bounce, a complaint) writes the row
		// again: the delivery ended when it was sent.
		v.FinishedAt = d.SentAt
	case ledger.DeliveryFailed, ledger.DeliverySkipped, ledger.DeliveryCancelled:
		// A settled delivery is not written again: its last change is
		// when it ended.
		v.FinishedAt = &d.UpdatedAt
	}
	return v
}

// utcEvents returns events with their times in UTC, and an empty list for
// none, so that a delivery without events still says so.
func utcEvents(events []ledger.DeliveryEvent) []ledger.DeliveryEvent {
	out := make([]ledger.DeliveryEvent, len(events))
	for i, e := range events {
		e.OccurredAt = e.OccurredAt.UTC()
		out[i] = e
	}
	return out
}

// contactDeliveries lists a person's deliveries across every announcement,
// newest first. A person is known while they are a contact or while the
// ledger holds a delivery to them (a contact removed since still has a
// history); anyone else is a 404, as GET /api/v1/contacts/{email} is.
func (s *Server) contactDeliveries(w http.ResponseWriter, r *http.Request) error {
	req, err := pageRequest(r)
	if err != nil {
		return err
	}
	email := r.PathValue("email")
	f := ledger.PersonFilter{Email: email, Status: ledger.DeliveryStatus(r.URL.Query().Get("status")), Page: req}
	p, err := s.ledger.PersonDeliveries(r.Context(), f)
	if err != nil {
		return err
	}
	if len(p.Items) == 0 && req.After == "" {
		if _, err := s.contacts.GetContact(r.Context(), email); errors.Is(err, fault.ErrNotFound) {
			known, err := s.ledger.HasDeliveries(r.Context(), email)
			if err != nil {
				return err
			}
			if !known {
				return fault.NotFound("%s is no contact and was never sent anything", email)
			}
		} else if err != nil {
			return err
		}
	}
	// The events of the whole page in one query.
	ids := make([]int64, len(p.Items))
	for i, d := range p.Items {
		ids[i] = d.ID
	}
	events, err := s.ledger.Events(r.Context(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListView(p, func(d ledger.PersonDelivery) personDeliveryView {
		return newPersonDeliveryView(d, events[d.ID])
	}))
	return nil
}

// eraseContact erases a person at their request (contacts.Erase): it
// answers with the hash that replaced their address, which the audit log
// and the deliveries now show, and what was changed. The log of this
// server names who erased, never whom.
func (s *Server) eraseContact(w http.ResponseWriter, r *http.Request) error {
	by := changedBy(r.Context())
	e, err := s.contacts.Erase(r.Context(), by, r.PathValue("email"), s.erasureKey)
	if err != nil {
		return err
	}
	s.logger.Info("person erased", "by", by, "hash", e.Hash)
	writeJSON(w, http.StatusOK, struct {
		Erased      string `json:"erased"`
		Memberships int    `json:"memberships"`
		Deliveries  int64  `json:"deliveries"`
	}{e.Hash, e.Memberships, e.Deliveries})
	return nil
}
