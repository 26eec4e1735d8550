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
	Test BroadcastTestCmd `cmd:"" help:"Send a broadcast to the given addresses only, its subject marked [TEST]; nothing is stored."`
}

// BroadcastSendCmd sends a broadcast from the shell, as POST
// /api/v1/broadcasts does.
type BroadcastSendCmd struct {
	Subject  string    `required:"" help:"The subject."`
	BodyFile string    `required:"" type:"existingfile" placeholder:"FILE" help:"The message, in Markdown."`
	Roles    []string  `placeholder:"ROLE" help:"technical and/or billing (default both)."`
	Products []string  `placeholder:"PRODUCT" help:"Only contacts of these products' licenses."`
	Licenses []string  `placeholder:"ID" help:"Only contacts of these licenses."`
	MainOnly bool      `help:"Only main contacts."`
	SendAt   time.Time `placeholder:"RFC3339" help:"Send later, at this time."`
	DryRun   bool      `help:"Show who would get it and how it reads; store and send nothing."`
	WaitFlags
}

func (c *BroadcastSendCmd) Run(ctx context.Context, env *Env) error {
	if err := c.WaitFlags.check(); err != nil {
		return err
	}
	nb, err := readBroadcast(c.Subject, c.BodyFile)
	if err != nil {
		return err
	}
	nb.SendAt = c.SendAt
	nb.Audience = kinds.BroadcastAudience{Products: c.Products, Licenses: c.Licenses, MainOnly: c.MainOnly}
	for _, r := range c.Roles {
		nb.Audience.Roles = append(nb.Audience.Roles, contacts.Role(r))
	}
	if err := nb.Normalize(); err != nil {
		return err
	}
	return env.withApp(ctx, func(a *app.App) error {
		count, err := nb.Audience.Count(ctx, a.Contacts)
		if err != nil {
			return err
		}
		if count.Recipients == 0 {
			return fmt.Errorf("no one would receive this broadcast (%d matching contacts opted out or are suppressed)", count.Skipped)
		}
		if c.DryRun {
			return c.dryRun(ctx, env, a, nb, count)
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
		return waitFor(ctx, env, a.Ledger, ann.ID, c.WaitFlags)
	})
}

// dryRun prints what POST /api/v1/broadcasts with dry_run answers: who
// would get the broadcast, and the text part as the first of them would
// read it.
func (c *BroadcastSendCmd) dryRun(ctx context.Context, env *Env, a *app.App, nb kinds.NewBroadcast, count contacts.AudienceCount) error {
	previewer, err := a.Previewer(ctx)
	if err != nil {
		return err
	}
	msg, err := previewer.Preview(nb.Params(), count.Sample[0], "")
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	fmt.Fprintf(env.stdout, "%d recipients (%d more opted out or suppressed), for example:\n  %s\n",
		count.Recipients, count.Skipped, strings.Join(count.Sample, "\n  "))
	fmt.Fprintf(env.stdout, "\nAs %s would get it (nothing was stored or sent):\n\nSubject: %s\n\n%s\n",
		count.Sample[0], msg.Subject, strings.TrimRight(msg.Text, "\n"))
	return nil
}

// BroadcastTestCmd sends a broadcast to staff before it goes out, as POST
// /api/v1/broadcasts/test does.
type BroadcastTestCmd struct {
	Subject  string   `required:"" help:"The subject."`
	BodyFile string   `required:"" type:"existingfile" placeholder:"FILE" help:"The message, in Markdown."`
	To       []string `required:"" placeholder:"ADDRESS" help:"Where to send the test (at most 20 addresses)."`
}

// maxTestAddresses is as many addresses as a test goes to, as in the API.
const maxTestAddresses = 20

func (c *BroadcastTestCmd) Run(ctx context.Context, env *Env) error {
	nb, err := readBroadcast(c.Subject, c.BodyFile)
	if err != nil {
		return err
	}
	if err := nb.Normalize(); err != nil {
		return err
	}
	if len(c.To) > maxTestAddresses {
		return fmt.Errorf("--to: %d addresses; a test goes to at most %d", len(c.To), maxTestAddresses)
	}
	to := make([]string, len(c.To))
	for i, e := range c.To {
		if to[i], err = contacts.NormalizeEmail("--to", e); err != nil {
			return err
		}
	}
	return env.withApp(ctx, func(a *app.App) error {
		tester, err := a.OpenTester(ctx)
		if err != nil {
			return err
		}
		results, err := tester.Send(ctx, nb.Params(), to)
		if err != nil {
			return err
		}
		failed := 0
		for _, r := range results {
			if r.Error != "" {
				failed++
				fmt.Fprintf(env.stderr, "%s: %s\n", r.Email, r.Error)
				continue
			}
			fmt.Fprintf(env.stdout, "sent the test to %s\n", r.Email)
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d test messages were not sent", failed, len(results))
		}
		return nil
	})
}

// readBroadcast reads the body of a broadcast from its file.
func readBroadcast(subject, bodyFile string) (kinds.NewBroadcast, error) {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return kinds.NewBroadcast{}, err
	}
	return kinds.NewBroadcast{Subject: subject, Body: string(body)}, nil
}
