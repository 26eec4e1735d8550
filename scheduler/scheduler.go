// Package scheduler runs herald's periodic jobs on robfig/cron: invoice
// reminders, due scheduled announcements, release feeds, retention and the
// reconciler. Any number of schedulers may run against one Redis and one
// database: a job whose schedule is a cron spec runs in one of them per
// tick (a Redis lease), and what the jobs create is keyed so that a second
// run creates nothing twice.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/metrics"
)

// Job is one periodic job.
type Job struct {
	Name string
	// Spec is a standard cron spec ("0 9 * * *", "CRON_TZ=Europe/Berlin 0 9
	// * * *") or "@every 15s".
	Spec string
	Run  func(ctx context.Context) (fmt.Stringer, error)
	// Everywhere jobs run in every scheduler, without a lease: the
	// reconciler, which is idempotent and should not wait for a replica
	// that died.
	Everywhere bool
}

// Config is what a Scheduler needs.
type Config struct {
	Location *time.Location
	Redis    redis.UniversalClient
	// Namespace separates the leases of herald installations that share a
	// Redis: the queue's name.
	Namespace string
	DB        *db.DB
	Logger    *slog.Logger
	// LeaseTTL bounds how long a lease outlives a scheduler that died
	// holding it (default a minute).
	LeaseTTL time.Duration
	Metrics  *metrics.Metrics // optional
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cron    *cron.Cron
	jobs    map[string]Job
	leases  *leases
	runs    runs
	metrics *metrics.Metrics
	logger  *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
}

// New returns a scheduler of jobs; it does not start them.
func New(cfg Config, jobs []Job) (*Scheduler, error) {
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		cron:    cron.New(cron.WithLocation(cfg.Location), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger))),
		jobs:    map[string]Job{},
		leases:  &leases{rdb: cfg.Redis, namespace: cfg.Namespace, ttl: cfg.LeaseTTL},
		runs:    runs{db: cfg.DB},
		metrics: cfg.Metrics,
		logger:  cfg.Logger,
		ctx:     ctx,
		cancel:  cancel,
	}
	for _, j := range jobs {
		if _, err := s.cron.AddFunc(j.Spec, func() { _, _ = s.tick(j) }); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule of %s %q: %w", j.Name, j.Spec, err)
		}
		s.jobs[j.Name] = j
	}
	return s, nil
}

// ErrBusy is returned when another scheduler is running the job.
var ErrBusy = errors.New("another scheduler is running this job")

// tick runs a job at its scheduled time: under its lease unless it runs
// everywhere.
func (s *Scheduler) tick(j Job) (fmt.Stringer, error) {
	if j.Everywhere {
		return s.run(s.ctx, j)
	}
	ls, ok, err := s.leases.acquire(s.ctx, j.Name)
	if err != nil {
		s.logger.Error("job lease failed; skipping this run", "job", j.Name, "err", err)
		return nil, err
	}
	if !ok {
		s.logger.Debug("job runs in another scheduler", "job", j.Name)
		return nil, ErrBusy
	}
	// Keep the lease a little past the tick, so that a replica ticking a
	// few seconds late finds it.
	tick := time.Now().Truncate(time.Minute)
	defer func() {
		if err := ls.release(tick.Add(50 * time.Second)); err != nil {
			s.logger.Warn("job lease release failed; it expires by itself", "job", j.Name, "err", err)
		}
	}()
	return s.run(s.ctx, j)
}

// run runs a job, logs what it did and records the run.
func (s *Scheduler) run(ctx context.Context, j Job) (fmt.Stringer, error) {
	start := time.Now()
	res, err := j.Run(ctx)
	s.metrics.JobRun(j.Name, err)
	run := Run{Name: j.Name, StartedAt: start, FinishedAt: time.Now()}
	if err != nil {
		run.Error = err.Error()
		s.logger.Error("job failed", "job", j.Name, "took", time.Since(start), "err", err)
	} else {
		run.Result = res.String()
		level := slog.LevelInfo
		if j.Everywhere {
			level = slog.LevelDebug // the reconciler runs every few seconds
		}
		s.logger.Log(ctx, level, "job done", "job", j.Name, "took", time.Since(start), "result", run.Result)
	}
	if rerr := s.runs.record(context.WithoutCancel(ctx), run); rerr != nil {
		s.logger.Warn("could not record the job run", "job", j.Name, "err", rerr)
	}
	return res, err
}

// RunNow runs a job at once exactly as its tick would: under its lease
// (ErrBusy when another scheduler holds it), logged and recorded.
func (s *Scheduler) RunNow(ctx context.Context, name string) (fmt.Stringer, error) {
	j, ok := s.jobs[name]
	if !ok {
		return nil, fmt.Errorf("no job called %s", name)
	}
	return s.tick(j)
}

// Start starts the schedule.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops the schedule and waits for running jobs; once ctx is done
// their context is cancelled.
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop()
	select {
	case <-done.Done():
	case <-ctx.Done():
		s.cancel()
		<-done.Done()
	}
	s.cancel()
}
