// Package scheduler runs herald's periodic jobs on robfig/cron: invoice
// reminders, due scheduled announcements, release feeds, retention and the
// reconciler. Any number of schedulers may run against one Redis and one
// database: a job whose schedule is a cron spec runs in one of them per
// tick (a mark in Redis), one run at a time (a Redis lease, which runs
// through the API take too), and what the jobs create is keyed so that a
// second run creates nothing twice.
package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
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

// Scheduler runs jobs on their schedules, through a Runner.
type Scheduler struct {
	cron   *cron.Cron
	jobs   map[string]Job
	runner *Runner
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a scheduler of jobs in loc; it does not start them.
func New(runner *Runner, loc *time.Location, jobs []Job) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		cron:   cron.New(cron.WithLocation(loc), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger))),
		jobs:   map[string]Job{},
		runner: runner,
		ctx:    ctx,
		cancel: cancel,
	}
	for _, j := range jobs {
		if _, err := s.cron.AddFunc(j.Spec, func() { _, _ = s.tick(s.ctx, j) }); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule of %s %q: %w", j.Name, j.Spec, err)
		}
		s.jobs[j.Name] = j
	}
	return s, nil
}

// tick runs a job at its scheduled time, this minute's tick.
func (s *Scheduler) tick(ctx context.Context, j Job) (fmt.Stringer, error) {
	return s.runner.tick(ctx, j, time.Now().Truncate(time.Minute))
}

// RunNow runs a job at once exactly as this minute's tick would: once
// across the schedulers (ErrBusy for the others), logged and recorded.
func (s *Scheduler) RunNow(ctx context.Context, name string) (fmt.Stringer, error) {
	j, ok := s.jobs[name]
	if !ok {
		return nil, fmt.Errorf("no job called %s", name)
	}
	return s.tick(ctx, j)
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
