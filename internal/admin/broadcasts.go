package admin

import (
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

type broadcastRequest struct {
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	Audience struct {
		Roles    []string `json:"roles"`
		Products []string `json:"products"`
		Licenses []string `json:"licenses"`
		MainOnly bool     `json:"main_only"`
	} `json:"audience"`
	SendAt string   `json:"send_at"`
	DryRun bool     `json:"dry_run"`
	To     []string `json:"to"` // test sends only
}

func (req broadcastRequest) broadcast() (kinds.NewBroadcast, error) {
	sendAt, err := parseTime("send_at", req.SendAt)
	if err != nil {
		return kinds.NewBroadcast{}, err
	}
	nb := kinds.NewBroadcast{Subject: req.Subject, Body: req.Body, SendAt: sendAt,
		Audience: kinds.BroadcastAudience{Products: req.Audience.Products, Licenses: req.Audience.Licenses, MainOnly: req.Audience.MainOnly}}
	for _, r := range req.Audience.Roles {
		nb.Audience.Roles = append(nb.Audience.Roles, contacts.Role(r))
	}
	return nb, nb.Normalize()
}

// createBroadcast stores a broadcast and starts it (or schedules it); with
// dry_run it only says who would get it and what they would read.
func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request) error {
	var req broadcastRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.To != nil {
		return fault.Invalid("to", "belongs to POST /api/v1/broadcasts/test")
	}
	nb, err := req.broadcast()
	if err != nil {
		return err
	}
	count, err := nb.Audience.Count(r.Context(), s.contacts)
	if err != nil {
		return err
	}
	if count.Recipients == 0 {
		return fault.Invalid("audience", "no one would receive this broadcast: no contact of an active license matches (or all who do opted out or are suppressed)")
	}
	if req.DryRun {
		preview, err := s.tester.Preview(nb.Params(), count.Sample[0], "")
		if err != nil {
			return fault.Invalid("body", "%v", err)
		}
		writeJSON(w, http.StatusOK, struct {
			Recipients int               `json:"recipients"`
			Skipped    int               `json:"skipped"`
			Sample     []string          `json:"sample"`
			Preview    templates.Message `json:"preview"`
		}{count.Recipients, count.Skipped, count.Sample, preview})
		return nil
	}
	a, err := kinds.CreateBroadcast(r.Context(), s.ledger, nb)
	if err != nil {
		return err
	}
	s.control.Started(r.Context(), changedBy(r.Context()), a)
	w.Header().Set("Location", "/api/v1/announcements/"+itoa(a.ID))
	writeJSON(w, http.StatusCreated, newAnnouncementView(a))
	return nil
}

// testBroadcast sends the rendered broadcast to the addresses in "to" only.
func (s *Server) testBroadcast(w http.ResponseWriter, r *http.Request) error {
	var req broadcastRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if len(req.To) == 0 {
		return fault.Invalid("to", "is required: the addresses to send the test to")
	}
	if len(req.To) > 20 {
		return fault.Invalid("to", "has %d addresses; a test goes to at most 20", len(req.To))
	}
	to := make([]string, len(req.To))
	for i, e := range req.To {
		email, err := contacts.NormalizeEmail("to["+itoa(int64(i))+"]", e)
		if err != nil {
			return err
		}
		to[i] = email
	}
	nb, err := req.broadcast()
	if err != nil {
		return err
	}
	results, err := s.tester.Send(r.Context(), nb.Params(), to)
	if err != nil {
		return err
	}
	sent, failed := []string{}, []worker.TestResult{}
	for _, res := range results {
		if res.Error != "" {
			failed = append(failed, res)
		} else {
			sent = append(sent, res.Email)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": sent, "failed": failed})
	return nil
}
