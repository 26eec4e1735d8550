// Package scheduler runs herald's periodic jobs on robfig/cron: for now the
// reconciler, which keeps the queue in step with the ledger.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one periodic job.
type Job struct {
	Name string
	Spec string // cron spec, or @every 30s
	Run  func(ctx context.Context) (fmt.Stringer, error)
}

// Scheduler runs jobs on their schedules, one run of a job at a time.
type Scheduler struct {
	cron   *cron.Cron
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a scheduler of jobs, in loc.
func New(jobs []Job, loc *time.Location, logger *slog.Logger) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		cron:   cron.New(cron.WithLocation(loc), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger))),
		logger: logger,
		ctx:    ctx,
		cancel: cancel,
	}
	for _, j := range jobs {
		if _, err := s.cron.AddFunc(j.Spec, s.runner(j)); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule of %s %q: %w", j.Name, j.Spec, err)
		}
	}
	return s, nil
}

func (s *Scheduler) runner(j Job) func() {
	var mu sync.Mutex
	return func() {
		mu.Lock()
		defer mu.Unlock()
		start := time.Now()
		res, err := j.Run(s.ctx)
		if err != nil {
			s.logger.Error("job failed", "job", j.Name, "took", time.Since(start), "err", err)
			return
		}
		s.logger.Debug("job done", "job", j.Name, "took", time.Since(start), "result", res.String())
	}
}

// Start starts the schedule.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops the schedule and waits for running jobs (cancelling their
// context once ctx is done).
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
