package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// Job names.
const (
	JobInvoiceReminders = "invoice-reminders"
	JobAnnouncements    = "scheduled-announcements"
	JobReleaseFeeds     = "release-feeds"
	JobRetention        = "retention"
	JobReconcile        = "reconcile"
)

// Specs are the schedules of the jobs.
type Specs struct {
	InvoiceReminders  string
	Announcements     string
	ReleaseFeeds      string
	Retention         string
	ReconcileInterval time.Duration
}

// Jobs are herald's periodic jobs, run on their schedules or at once (the
// API's POST /jobs/…), both through a Runner.
type Jobs struct {
	Specs Specs
	// Location is the timezone of the schedules.
	Location      *time.Location
	Ledger        *ledger.Ledger
	Billing       *billing.Billing
	Queue         *queue.Queue
	Cadence       billing.Cadence
	Feeds         *FeedPoller // nil without feeds
	Reconciler    *Reconciler
	RetentionDays int
	Logger        *slog.Logger
	Now           func() time.Time
}

// List returns the jobs with their schedules.
func (j *Jobs) List() []Job {
	specs := j.Specs
	jobs := []Job{
		j.InvoiceRemindersAsOf(""),
		{Name: JobAnnouncements, Spec: specs.Announcements, Run: func(ctx context.Context) (fmt.Stringer, error) {
			return j.ScheduledAnnouncements(ctx)
		}},
		{Name: JobRetention, Spec: specs.Retention, Run: func(ctx context.Context) (fmt.Stringer, error) {
			return j.Retention(ctx)
		}},
		{Name: JobReconcile, Spec: "@every " + specs.ReconcileInterval.String(), Everywhere: true, Run: func(ctx context.Context) (fmt.Stringer, error) {
			return j.Reconciler.Run(ctx)
		}},
	}
	if j.Feeds != nil {
		jobs = append(jobs, j.ReleaseFeeds())
	}
	return jobs
}

// Job returns the job called name, as List has it.
func (j *Jobs) Job(name string) (Job, bool) {
	for _, job := range j.List() {
		if job.Name == name {
			return job, true
		}
	}
	return Job{}, false
}

// ReleaseFeeds is the job that polls the release feeds; Feeds must be set.
func (j *Jobs) ReleaseFeeds() Job {
	return Job{Name: JobReleaseFeeds, Spec: j.Specs.ReleaseFeeds, Run: func(ctx context.Context) (fmt.Stringer, error) {
		return j.Feeds.Poll(ctx)
	}}
}

// InvoiceRemindersAsOf is the reminder job for the day asOf (YYYY-MM-DD;
// empty is each license's today), as the API runs it for a given day.
func (j *Jobs) InvoiceRemindersAsOf(asOf string) Job {
	return Job{Name: JobInvoiceReminders, Spec: j.Specs.InvoiceReminders, Run: func(ctx context.Context) (fmt.Stringer, error) {
		return j.InvoiceReminders(ctx, asOf)
	}}
}

// Created counts the announcements a job made.
type Created struct {
	AnnouncementsCreated int `json:"announcements_created"`
}

func (c Created) String() string {
	return fmt.Sprintf("%d announcements created", c.AnnouncementsCreated)
}

// InvoiceReminders makes the reminders that are due (as of asOf,
// YYYY-MM-DD, or each license's today) and starts them.
func (j *Jobs) InvoiceReminders(ctx context.Context, asOf string) (Created, error) {
	made, err := j.Billing.Remind(ctx, j.Cadence, asOf, kinds.ReminderAnnouncement)
	if err != nil {
		return Created{}, err
	}
	for _, a := range made {
		j.Queue.TryEnqueue(ctx, queue.NewFanoutTask(a.ID), j.Logger)
	}
	return Created{AnnouncementsCreated: len(made)}, nil
}

// Started counts the scheduled announcements that came due.
type Started struct {
	Started int64 `json:"started"`
}

func (s Started) String() string { return fmt.Sprintf("%d scheduled announcements started", s.Started) }

// ScheduledAnnouncements starts the scheduled announcements whose time has
// come.
func (j *Jobs) ScheduledAnnouncements(ctx context.Context) (Started, error) {
	n, err := j.Ledger.StartDue(ctx)
	if err != nil || n == 0 {
		return Started{Started: n}, err
	}
	ids, err := j.Ledger.ToResolve(ctx)
	if err != nil {
		return Started{Started: n}, err
	}
	for _, id := range ids {
		j.Queue.TryEnqueue(ctx, queue.NewFanoutTask(id), j.Logger)
	}
	return Started{Started: n}, nil
}

// Pruned says what retention removed.
type Pruned struct {
	Deliveries    int64 `json:"deliveries"`
	ArchivedTasks int   `json:"archived_tasks"`
}

func (p Pruned) String() string {
	return fmt.Sprintf("%d old deliveries and %d dead tasks removed", p.Deliveries, p.ArchivedTasks)
}

// Retention deletes the deliveries of announcements finished more than
// RetentionDays ago (keeping their counts) and the queue's dead tasks of
// that age.
func (j *Jobs) Retention(ctx context.Context) (Pruned, error) {
	before := j.Now().Add(-time.Duration(j.RetentionDays) * 24 * time.Hour)
	n, err := j.Ledger.Prune(ctx, before)
	if err != nil {
		return Pruned{Deliveries: n}, err
	}
	tasks, err := j.Queue.PruneArchived(ctx, before)
	return Pruned{Deliveries: n, ArchivedTasks: tasks}, err
}
