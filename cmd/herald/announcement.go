package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/worker"
)

// AnnouncementCmd groups the announcement subcommands.
type AnnouncementCmd struct {
	Pause  AnnouncementPauseCmd  `cmd:"" help:"Pause an announcement: no more of its deliveries are sent until it is resumed."`
	Resume AnnouncementResumeCmd `cmd:"" help:"Resume a paused announcement."`
}

// AnnouncementPauseCmd pauses an announcement by hand, as POST
// /api/v1/announcements/{id}/pause does.
type AnnouncementPauseCmd struct {
	ID     int64  `arg:"" help:"The announcement's id."`
	Reason string `help:"Why, shown with the announcement."`
}

func (c *AnnouncementPauseCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		control := &worker.Control{Ledger: a.Ledger, Audit: a.Contacts, Logger: a.Logger}
		ann, err := control.Pause(ctx, cliAudit(), c.ID, c.Reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "announcement %d paused (%d pending, %d being sent finish); \"herald announcement resume %d\" resumes it\n",
			ann.ID, ann.Counts.Pending, ann.Counts.Sending, ann.ID)
		return nil
	})
}

// AnnouncementResumeCmd resumes a paused announcement.
type AnnouncementResumeCmd struct {
	ID int64 `arg:"" help:"The announcement's id."`
}

func (c *AnnouncementResumeCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		// Without Redis, the reconciler of a running "herald serve"
		// enqueues the resumed work.
		control := &worker.Control{Ledger: a.Ledger, Audit: a.Contacts, Logger: a.Logger}
		if env.cfg.Queue.RedisURL != "" {
			q, err := a.OpenQueue(ctx)
			if err != nil {
				a.Logger.Warn("Redis cannot be reached; the reconciler will enqueue the announcement", "announcement", c.ID, "err", err)
			} else {
				control.Queue = q
			}
		}
		ann, err := control.Resume(ctx, cliAudit(), c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "announcement %d resumed: %s\n", ann.ID, ann.Status)
		if control.Queue == nil {
			fmt.Fprintf(env.stdout, "a running \"herald serve\" on this database sends it within %s\n", env.cfg.Scheduler.ReconcileInterval)
		}
		return nil
	})
}
