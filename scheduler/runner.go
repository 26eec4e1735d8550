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

// ErrBusy is returned when the job is running elsewhere, or its tick ran
// in another scheduler.
var ErrBusy = errors.New("another scheduler is running this job")

// Run runs j now, as the API asked, unless it is running elsewhere
// (ErrBusy). The recorded result says it was run through the API.
func (r *Runner) Run(ctx context.Context, j Job) (fmt.Stringer, error) {
	return r.RunBy(ctx, j, "through the API")
}

// RunBy runs j now, as someone asked, unless it is running elsewhere
// (ErrBusy). The recorded result says how it was run ("through the API",
// "in the console by ada@vendor.test"), so that a run by hand is not
// taken for the schedule's.
func (r *Runner) RunBy(ctx context.Context, j Job, how string) (fmt.Stringer, error) {
	if j.Everywhere {
		return r.record(ctx, j, "")
	}
	ls, ok, err := r.leases.acquire(ctx, "lease:"+j.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBusy
	}
	defer r.release(j, ls)
	return r.record(ctx, j, " (run "+how+")")
}

// tick runs j at its scheduled time, at the minute tick: in one scheduler
// of all those that tick then (the first to mark the tick; the others get
// ErrBusy), after any run of the job in progress, which it waits for. The
// mark outlives the tick's minute: a replica whose clock ticks a few
// seconds late finds it, and so does a tick run late in its minute (a run
// now at :55 once marked the tick for a millisecond only).
func (r *Runner) tick(ctx context.Context, j Job, tick time.Time) (fmt.Stringer, error) {
	if j.Everywhere {
		return r.record(ctx, j, "")
	}
	first, err := r.leases.mark(ctx, fmt.Sprintf("tick:%s:%d", j.Name, tick.Unix()), tick.Add(2*time.Minute))
	if err != nil {
		r.logger.Error("job lease failed; skipping this run", "job", j.Name, "err", err)
		return nil, err
	}
	if !first {
		r.logger.Debug("job runs in another scheduler", "job", j.Name)
		return nil, ErrBusy
	}
	ls, err := r.leases.wait(ctx, "lease:"+j.Name)
	if err != nil {
		r.logger.Error("job lease failed; skipping this run", "job", j.Name, "err", err)
		return nil, err
	}
	defer r.release(j, ls)
	return r.record(ctx, j, "")
}

func (r *Runner) release(j Job, ls *lease) {
	if err := ls.release(); err != nil {
		r.logger.Warn("job lease release failed; it expires by itself", "job", j.Name, "err", err)
	}
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
