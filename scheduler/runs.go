package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/heraldhq/herald/internal/db"
)

// Run is the last run of a job, as every replica sees it.
type Run struct {
	Name       string    `db:"name"`
	StartedAt  time.Time `db:"started_at"`
	FinishedAt time.Time `db:"finished_at"`
	Result     string    `db:"result"`
	Error      string    `db:"error"`
}

// runs keeps the last run of each job in the database.
type runs struct{ db *db.DB }

func (r runs) record(ctx context.Context, run Run) error {
	_, err := db.Exec(ctx, r.db, `
		INSERT INTO job_runs (name, started_at, finished_at, result, error) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
			result = excluded.result, error = excluded.error`,
		run.Name, run.StartedAt.UTC().Truncate(time.Microsecond), run.FinishedAt.UTC().Truncate(time.Microsecond), run.Result, run.Error)
	if err != nil {
		return fmt.Errorf("record run of %s: %w", run.Name, err)
	}
	return nil
}

// Status is a job with its schedule, its last run and its next.
type Status struct {
	Name    string
	Spec    string
	LastRun *Run
	NextRun time.Time
}

func (r runs) statuses(ctx context.Context, jobs []Job, loc *time.Location, now time.Time) ([]Status, error) {
	var last []Run
	if err := db.Select(ctx, r.db.Read, &last, `SELECT name, started_at, finished_at, result, error FROM job_runs`); err != nil {
		return nil, fmt.Errorf("job runs: %w", err)
	}
	byName := map[string]Run{}
	for _, r := range last {
		r.StartedAt, r.FinishedAt = r.StartedAt.UTC(), r.FinishedAt.UTC()
		byName[r.Name] = r
	}
	out := make([]Status, 0, len(jobs))
	for _, j := range jobs {
		st := Status{Name: j.Name, Spec: j.Spec}
		if r, ok := byName[j.Name]; ok {
			st.LastRun = &r
		}
		if sched, err := cron.ParseStandard(j.Spec); err == nil {
			st.NextRun = sched.Next(now.In(loc)).UTC()
		}
		out = append(out, st)
	}
	return out, nil
}
