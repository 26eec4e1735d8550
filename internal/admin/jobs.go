package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/scheduler"
)

type jobView struct {
	Name       string     `json:"name"`
	Spec       string     `json:"spec"`
	LastRun    *time.Time `json:"last_run"`
	LastResult string     `json:"last_result"`
	LastError  string     `json:"last_error"`
	NextRun    time.Time  `json:"next_run"`
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	statuses, err := s.runner.Statuses(r.Context(), s.jobs.List(), s.jobs.Location, time.Now())
	if err != nil {
		return err
	}
	items := make([]jobView, len(statuses))
	for i, st := range statuses {
		v := jobView{Name: st.Name, Spec: st.Spec, NextRun: st.NextRun}
		if st.LastRun != nil {
			v.LastRun, v.LastResult, v.LastError = &st.LastRun.StartedAt, st.LastRun.Result, st.LastRun.Error
		}
		items[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) runInvoiceReminders(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AsOf string `json:"as_of"`
	}
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	return s.runJob(r.Context(), w, s.jobs.InvoiceRemindersAsOf(req.AsOf))
}

func (s *Server) runReleaseFeeds(w http.ResponseWriter, r *http.Request) error {
	if s.jobs.Feeds == nil {
		writeJSON(w, http.StatusOK, scheduler.FeedsResult{Feeds: []scheduler.FeedResult{}})
		return nil
	}
	return s.runJob(r.Context(), w, s.jobs.ReleaseFeeds())
}

// runJob runs a job now, through the runner the scheduler uses: under the
// job's lease, counted and recorded.
func (s *Server) runJob(ctx context.Context, w http.ResponseWriter, j scheduler.Job) error {
	res, err := s.runner.RunBy(ctx, j, changedBy(ctx))
	if errors.Is(err, scheduler.ErrBusy) {
		return fault.Conflict("job %s is running elsewhere now; ask again when it has finished", j.Name)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
