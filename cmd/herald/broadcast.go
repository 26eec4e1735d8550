package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/kinds"
)

// BroadcastCmd groups the broadcast subcommands.
type BroadcastCmd struct {
	Send BroadcastSendCmd `cmd:"" help:"Send a broadcast to contacts chosen by role, product, license and main-contact status."`
}

// BroadcastSendCmd sends a broadcast from the shell, as POST
// /api/v1/broadcasts does.
type BroadcastSendCmd struct {
	Subject  string        `required:"" help:"The subject."`
	BodyFile string        `required:"" type:"existingfile" placeholder:"FILE" help:"The message, in Markdown."`
	Roles    []string      `placeholder:"ROLE" help:"technical and/or billing (default both)."`
	Products []string      `placeholder:"PRODUCT" help:"Only contacts of these products' licenses."`
	Licenses []string      `placeholder:"ID" help:"Only contacts of these licenses."`
	MainOnly bool          `help:"Only main contacts."`
	SendAt   time.Time     `placeholder:"RFC3339" help:"Send later, at this time."`
	DryRun   bool          `help:"Show who would get it and how it reads; store and send nothing."`
	Wait     bool          `help:"Show progress until every delivery is done; exit 1 if any failed."`
	Poll     time.Duration `default:"500ms" hidden:""`
}

func (c *BroadcastSendCmd) Run(ctx context.Context, env *Env) error {
	body, err := os.ReadFile(c.BodyFile)
	if err != nil {
		return err
	}
	nb := kinds.NewBroadcast{Subject: c.Subject, Body: string(body), SendAt: c.SendAt,
		Audience: kinds.BroadcastAudience{Products: c.Products, Licenses: c.Licenses, MainOnly: c.MainOnly}}
	for _, r := range c.Roles {
		nb.Audience.Roles = append(nb.Audience.Roles, contacts.Role(r))
	}
	if err := nb.Normalize(); err != nil {
		return err
	}
	return env.withApp(ctx, func(a *app.App) error {
		query, args := nb.Audience.Query()
		count, err := a.Contacts.CountAudience(ctx, query, args, true)
		if err != nil {
			return err
		}
		if count.Recipients == 0 {
			return fmt.Errorf("no one would receive this broadcast (%d matching contacts opted out or are suppressed)", count.Skipped)
		}
		if c.DryRun {
			fmt.Fprintf(env.stdout, "%d recipients (%d more opted out or suppressed), for example:\n  %s\n",
				count.Recipients, count.Skipped, strings.Join(count.Sample, "\n  "))
			return nil
		}
		ann, err := kinds.CreateBroadcast(ctx, a.Ledger, nb)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "broadcast %q: announcement %d, %s, to %d recipients\n", nb.Subject, ann.ID, ann.Status, count.Recipients)
		startFanout(ctx, env, a, ann)
		if !c.Wait {
			return nil
		}
		return waitFor(ctx, env, a.Ledger, ann.ID, c.Poll)
	})
}
