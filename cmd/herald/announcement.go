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
		ann, err := a.Ledger.Pause(ctx, c.ID, c.Reason, cliActor())
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
		ann, res, err := a.Ledger.Resume(ctx, c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "announcement %d resumed: %s\n", ann.ID, ann.Status)
		if env.cfg.Queue.RedisURL == "" {
			fmt.Fprintf(env.stdout, "a running \"herald serve\" on this database sends it within %s\n", env.cfg.Scheduler.ReconcileInterval)
			return nil
		}
		q, err := a.OpenQueue(ctx)
		if err != nil {
			a.Logger.Warn("Redis cannot be reached; the reconciler will enqueue the announcement", "announcement", ann.ID, "err", err)
			return nil
		}
		worker.EnqueueResumed(ctx, q, res, a.Logger)
		return nil
	})
}
