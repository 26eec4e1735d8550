package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/metrics"
)

// Runner runs jobs the one way herald runs them, whether a cron tick or
// the API's POST /jobs/… starts them: under the job's lease, so that one
// run at a time happens across every replica; counted in the metrics;
// logged; and recorded as the job's last run, which GET /jobs shows.
type Runner struct {
	leases  *leases
	runs    runs
	metrics *metrics.Metrics
	logger  *slog.Logger
}

// RunnerConfig is what a Runner needs.
type RunnerConfig struct {
	Redis redis.UniversalClient
	// Namespace separates the leases of herald installations that share a
	// Redis: the queue's name.
	Namespace string
	DB        *db.DB
	Logger    *slog.Logger
	// LeaseTTL bounds how long a lease outlives a process that died
	// holding it (default a minute).
	LeaseTTL time.Duration
	Metrics  *metrics.Metrics // optional
}

// NewRunner returns a job runner.
func NewRunner(cfg RunnerConfig) *Runner {
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = time.Minute
	}
	return &Runner{
		leases:  &leases{rdb: cfg.Redis, namespace: cfg.Namespace, ttl: cfg.LeaseTTL},
		runs:    runs{db: cfg.DB},
		metrics: cfg.Metrics,
		logger:  cfg.Logger,
	}
}

// ErrBusy is returned when another scheduler is running the job.
var ErrBusy = errors.New("another scheduler is running this job")

// Run runs j now, as someone asked (the API): under its lease, released
// as soon as the run ends. The recorded result says it was run by hand.
func (r *Runner) Run(ctx context.Context, j Job) (fmt.Stringer, error) {
	return r.run(ctx, j, time.Time{}, " (run through the API)")
}

// run runs j under its lease unless it runs everywhere, and keeps the lease
// until hold (when in the future) so that a replica whose clock ticks a
// few seconds later does not run it again.
func (r *Runner) run(ctx context.Context, j Job, hold time.Time, note string) (fmt.Stringer, error) {
	if j.Everywhere {
		return r.record(ctx, j, note)
	}
	ls, ok, err := r.leases.acquire(ctx, j.Name)
	if err != nil {
		r.logger.Error("job lease failed; skipping this run", "job", j.Name, "err", err)
		return nil, err
	}
	if !ok {
		r.logger.Debug("job runs in another scheduler", "job", j.Name)
		return nil, ErrBusy
	}
	defer func() {
		if err := ls.release(hold); err != nil {
			r.logger.Warn("job lease release failed; it expires by itself", "job", j.Name, "err", err)
		}
	}()
	return r.record(ctx, j, note)
}

// record runs j, logs what it did, counts and records the run. Input that
// the job refuses (an invalid as_of) is not a run of the job.
func (r *Runner) record(ctx context.Context, j Job, note string) (fmt.Stringer, error) {
	start := time.Now()
	res, err := j.Run(ctx)
	if errors.Is(err, fault.ErrInvalid) {
		return res, err
	}
	r.metrics.JobRun(j.Name, err)
	run := Run{Name: j.Name, StartedAt: start, FinishedAt: time.Now()}
	if err != nil {
		run.Error = err.Error()
		r.logger.Error("job failed", "job", j.Name, "took", time.Since(start), "err", err)
	} else {
		run.Result = res.String() + note
		level := slog.LevelInfo
		if j.Everywhere {
			level = slog.LevelDebug // the reconciler runs every few seconds
		}
		r.logger.Log(ctx, level, "job done", "job", j.Name, "took", time.Since(start), "result", run.Result)
	}
	if rerr := r.runs.record(context.WithoutCancel(ctx), run); rerr != nil {
		r.logger.Warn("could not record the job run", "job", j.Name, "err", rerr)
	}
	return res, err
}

// Statuses lists jobs with their last run (from the database, whichever
// replica ran it) and their next run as their schedule in loc says.
func (r *Runner) Statuses(ctx context.Context, jobs []Job, loc *time.Location, now time.Time) ([]Status, error) {
	return r.runs.statuses(ctx, jobs, loc, now)
}
