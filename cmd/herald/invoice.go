package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// InvoiceCmd groups the invoice subcommands.
type InvoiceCmd struct {
	Import InvoiceImportCmd `cmd:"" help:"Import invoices from a CSV file (all or nothing)."`
	Remind InvoiceRemindCmd `cmd:"" help:"Make the invoice reminders that are due now, as the scheduler does, and queue them for the workers."`
}

// InvoiceRemindCmd runs the reminder job once.
type InvoiceRemindCmd struct {
	AsOf string `name:"as-of" placeholder:"YYYY-MM-DD" help:"The day to remind for (default: each license's today)."`
}

func (c *InvoiceRemindCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		cadence := billing.Cadence{Offsets: env.cfg.Billing.ReminderOffsets, AllFrom: env.cfg.Billing.ReminderAllFrom}
		made, err := a.Billing.Remind(ctx, cadence, c.AsOf, kinds.ReminderAnnouncement)
		if err != nil {
			return err
		}
		for _, m := range made {
			fmt.Fprintf(env.stdout, "announcement %d: %s\n", m.ID, m.Subject)
		}
		if len(made) == 0 {
			fmt.Fprintln(env.stdout, "no reminders are due")
			return nil
		}
		fmt.Fprintf(env.stdout, "%d reminders made; %s\n", len(made), enqueueFanouts(ctx, env, a, made))
		return nil
	})
}

// enqueueFanouts queues the fan-out of announcements that are due now, as
// the scheduler's jobs do, when this process reaches the workers' Redis,
// and says who sends them. The reconciler enqueues what is left in the
// database, so a queue that cannot be reached delays them, no more.
func enqueueFanouts(ctx context.Context, env *Env, a *app.App, anns []ledger.Announcement) string {
	later := fmt.Sprintf("a running herald on this database sends them within %s", env.cfg.Scheduler.ReconcileInterval)
	if env.cfg.Queue.RedisURL == "" {
		// The embedded Redis is inside "herald serve", out of reach.
		return later
	}
	q, err := a.OpenQueue(ctx)
	if err != nil {
		a.Logger.Warn("Redis cannot be reached; the reconciler will enqueue the announcements", "err", err)
		return "Redis cannot be reached, so " + later
	}
	queued := 0
	for _, ann := range anns {
		if ann.Status != ledger.Resolving {
			continue
		}
		if err := q.Enqueue(ctx, queue.NewFanoutTask(ann.ID)); err != nil {
			a.Logger.Warn("enqueue failed; the reconciler will enqueue the announcement", "announcement", ann.ID, "err", err)
			continue
		}
		queued++
	}
	if queued < len(anns) {
		return fmt.Sprintf("%d queued for the workers; %s", queued, later)
	}
	return "queued for the workers"
}
