package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/scheduler"
)

// Jobs is what the API knows of the scheduler: the jobs and their
// schedules, to list them and to run two of them now.
type Jobs struct {
	Jobs     *scheduler.Jobs
	List     []scheduler.Job
	Location *time.Location
	// Record keeps the run of a job started through the API, so that
	// GET /jobs shows it like a scheduled one.
	Record func(ctx context.Context, run scheduler.Run) error
}

type jobView struct {
	Name       string     `json:"name"`
	Spec       string     `json:"spec"`
	LastRun    *time.Time `json:"last_run"`
	LastResult string     `json:"last_result"`
	LastError  string     `json:"last_error"`
	NextRun    time.Time  `json:"next_run"`
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	statuses, err := scheduler.Statuses(r.Context(), s.db, s.jobs.List, s.jobs.Location, time.Now())
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
	res, err := runRecorded(r.Context(), s.jobs, scheduler.JobInvoiceReminders, func(ctx context.Context) (scheduler.Created, error) {
		return s.jobs.Jobs.InvoiceReminders(ctx, req.AsOf)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) runReleaseFeeds(w http.ResponseWriter, r *http.Request) error {
	if s.jobs.Jobs.Feeds == nil {
		writeJSON(w, http.StatusOK, scheduler.FeedsResult{Feeds: []scheduler.FeedResult{}})
		return nil
	}
	res, err := runRecorded(r.Context(), s.jobs, scheduler.JobReleaseFeeds, s.jobs.Jobs.Feeds.Poll)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// runRecorded runs a job now and records the run.
func runRecorded[T fmt.Stringer](ctx context.Context, jobs *Jobs, name string, run func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	res, err := run(ctx)
	if errors.Is(err, fault.ErrInvalid) {
		return res, err // bad input is not a run of the job
	}
	rec := scheduler.Run{Name: name, StartedAt: start, FinishedAt: time.Now()}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.Result = res.String() + " (run through the API)"
	}
	if jobs.Record != nil {
		_ = jobs.Record(context.WithoutCancel(ctx), rec)
	}
	return res, err
}
