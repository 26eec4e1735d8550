package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
)

// ReleaseCmd groups the release subcommands.
type ReleaseCmd struct {
	Announce ReleaseAnnounceCmd `cmd:"" help:"Announce a release to the technical contacts of the product's active licenses."`
}

// ReleaseAnnounceCmd announces a release from the shell, as POST
// /api/v1/releases does.
type ReleaseAnnounceCmd struct {
	Product   string        `required:"" help:"Product key, such as jira."`
	Version   string        `required:"" help:"The version released, such as 9.4.0."`
	Title     string        `help:"Title (default: PRODUCT VERSION)."`
	NotesFile string        `type:"existingfile" placeholder:"FILE" help:"Release notes in Markdown."`
	URL       string        `name:"url" help:"Link to the release notes or downloads."`
	SendAt    time.Time     `placeholder:"RFC3339" help:"Send later, at this time (RFC 3339)."`
	Wait      bool          `help:"Show progress until every delivery is done; exit 1 if any failed."`
	Poll      time.Duration `default:"500ms" hidden:""`
}

func (c *ReleaseAnnounceCmd) Run(ctx context.Context, env *Env) error {
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
		return waitFor(ctx, env, a.Ledger, ann.ID, c.Poll)
	})
}

// startFanout starts an announcement that is due now, or says who will.
func startFanout(ctx context.Context, env *Env, a *app.App, ann ledger.Announcement) {
	if ann.Status == ledger.Resolving && !a.StartFanout(ctx, ann.ID) {
		fmt.Fprintf(env.stdout, "a running \"herald serve\" on this database sends it within %s\n", env.cfg.Scheduler.ReconcileInterval)
	}
}

// waitFor shows the progress of an announcement until it is done or
// cancelled, and fails if any delivery failed. On a terminal it draws a
// progress bar; elsewhere (CI logs) it prints a line when the counts change.
func waitFor(ctx context.Context, env *Env, led *ledger.Ledger, id int64, poll time.Duration) error {
	var bar *progressbar.ProgressBar
	f, isFile := env.stderr.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	var last ledger.Counts
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		a, err := led.Get(ctx, id)
		if err != nil {
			return err
		}
		c := a.Counts
		done := c.Sent + c.Failed + c.Skipped + c.Cancelled
		switch {
		case tty && bar == nil && c.Recipients > 0:
			bar = progressbar.NewOptions(c.Recipients,
				progressbar.OptionSetWriter(env.stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("announcement %d", id)),
				progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish())
			fallthrough
		case tty && bar != nil:
			_ = bar.Set(done)
		case !tty && c != last:
			fmt.Fprintf(env.stderr, "announcement %d: %d of %d done (%d sent, %d failed, %d skipped)\n",
				id, done, c.Recipients, c.Sent, c.Failed, c.Skipped)
		}
		last = c
		if a.Status == ledger.Done || a.Status == ledger.Cancelled {
			if bar != nil {
				_ = bar.Finish()
			}
			fmt.Fprintf(env.stdout, "announcement %d %s: %d recipients, %d sent, %d failed, %d skipped, %d cancelled\n",
				id, a.Status, c.Recipients, c.Sent, c.Failed, c.Skipped, c.Cancelled)
			if c.Failed > 0 {
				return fmt.Errorf("%d deliveries failed; GET /api/v1/announcements/%d/deliveries?status=failed lists them", c.Failed, id)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
