package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/kinds"
)

// InvoiceCmd groups the invoice subcommands.
type InvoiceCmd struct {
	Import InvoiceImportCmd `cmd:"" help:"Import invoices from a CSV file (all or nothing)."`
	Remind InvoiceRemindCmd `cmd:"" help:"Make the invoice reminders that are due now, as the scheduler does."`
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
		fmt.Fprintf(env.stdout, "%d reminders made; a running herald sends them within %s\n", len(made), env.cfg.Scheduler.ReconcileInterval)
		return nil
	})
}
