package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/worker"
)

// ReleaseCmd groups the release subcommands.
type ReleaseCmd struct {
	Announce ReleaseAnnounceCmd `cmd:"" help:"Announce a release to the technical contacts of the product's active licenses."`
}

// ReleaseAnnounceCmd announces a release from the shell, as POST
// /api/v1/releases does.
type ReleaseAnnounceCmd struct {
	Product   string    `required:"" help:"Product key, such as jira."`
	Version   string    `required:"" help:"The version released, such as 9.4.0."`
	Title     string    `help:"Title (default: PRODUCT VERSION)."`
	NotesFile string    `type:"existingfile" placeholder:"FILE" help:"Release notes in Markdown."`
	URL       string    `name:"url" help:"Link to the release notes or downloads."`
	SendAt    time.Time `placeholder:"RFC3339" help:"Send later, at this time (RFC 3339)."`
	WaitFlags
}

func (c *ReleaseAnnounceCmd) Run(ctx context.Context, env *Env) error {
	if err := c.WaitFlags.check(); err != nil {
		return err
	}
	nr := ledger.NewRelease{Product: c.Product, Version: c.Version, Title: c.Title, URL: c.URL, SendAt: c.SendAt}
	if c.NotesFile != "" {
		notes, err := os.ReadFile(c.NotesFile)
		if err != nil {
			return err
		}
		nr.Notes = string(notes)
	}
	return env.withApp(ctx, func(a *app.App) error {
		rel, ann, created, err := a.Ledger.CreateRelease(ctx, nr, kinds.ReleaseAnnouncement)
		if err != nil {
			return err
		}
		if !created {
			fmt.Fprintf(env.stdout, "%s %s was announced already (announcement %d, %s); nothing new is sent\n", rel.Product, rel.Version, ann.ID, ann.Status)
		} else {
			fmt.Fprintf(env.stdout, "announcing %s %s: announcement %d, %s\n", rel.Product, rel.Version, ann.ID, ann.Status)
			startFanout(ctx, env, a, ann)
		}
		if !c.Wait {
			return nil
		}
		return waitFor(ctx, env, a.Ledger, ann.ID, c.WaitFlags)
	})
}

// startFanout starts an announcement that is due now, or says who will.
func startFanout(ctx context.Context, env *Env, a *app.App, ann ledger.Announcement) {
	// The control audits it; without a queue of its own it leaves the
	// enqueueing to StartFanout below.
	(&worker.Control{Ledger: a.Ledger, Audit: a.Contacts, Logger: a.Logger}).Started(ctx, cliAudit(), ann)
	if ann.Status == ledger.Resolving && !a.StartFanout(ctx, ann.ID) {
		fmt.Fprintf(env.stdout, "a running \"herald serve\" on this database sends it within %s\n", env.cfg.Scheduler.ReconcileInterval)
	}
}
