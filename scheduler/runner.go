package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/contacts"
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
	audit   *contacts.Store
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
	// Audit, if set, records each run by hand in the audit log, under
	// who asked for it.
	Audit *contacts.Store
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
		audit:   cfg.Audit,
		logger:  cfg.Logger,
	}
}

// ErrBusy is returned when the job is running elsewhere, or its tick ran
// in another scheduler.
var ErrBusy = errors.New("another scheduler is running this job")

// RunBy runs j now, as by asked (through the API, the console or the
// command line), unless it is running elsewhere (ErrBusy). The recorded
// result says how it was run ("run through the API", "run in the console
// by ada@vendor.test"), so that a run by hand is not taken for a
// scheduled one, and the run is in the audit log under by.
func (r *Runner) RunBy(ctx context.Context, j Job, by contacts.Actor) (fmt.Stringer, error) {
	if j.Everywhere {
		return r.byHand(ctx, j, by, "")
	}
	ls, ok, err := r.leases.acquire(ctx, "lease:"+j.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBusy
	}
	defer r.release(j, ls)
	return r.byHand(ctx, j, by, " (run "+how(by)+")")
}

// how says how by ran a job, for its recorded result.
func how(by contacts.Actor) string {
	switch by.Via {
	case contacts.ViaConsole:
		return "in the console by " + by.Name
	case contacts.ViaCLI:
		return "from the command line by " + by.Name
	}
	return "through the API"
}

// byHand runs j as by asked and audits the run, whatever its outcome;
// input the job refuses (an invalid as_of) is not a run.
func (r *Runner) byHand(ctx context.Context, j Job, by contacts.Actor, note string) (fmt.Stringer, error) {
	res, err := r.record(ctx, j, note)
	if r.audit == nil || errors.Is(err, fault.ErrInvalid) {
		return res, err
	}
	detail := j.Name + ": "
	if err != nil {
		detail += "failed: " + fault.Shorten(err.Error(), fault.MaxEchoError)
	} else {
		detail += res.String()
	}
	if aerr := r.audit.Audit(context.WithoutCancel(ctx), contacts.AuditEntry{Action: contacts.JobRun, Detail: detail, By: by}); aerr != nil {
		r.logger.Error("could not audit a job run by hand", "job", j.Name, "by", by.String(), "err", aerr)
	}
	return res, err
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
