package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/heraldhq/herald/internal/ledger"
)

// WaitFlags are the flags of the commands that can wait for the
// announcement they made to finish.
type WaitFlags struct {
	Wait    bool          `help:"Show progress until every delivery is done; exit 1 if any failed."`
	Timeout time.Duration `placeholder:"DURATION" help:"With --wait, stop waiting after this long (such as 10m; 0, the default, waits as long as it takes) and exit 1; the announcement goes on."`
	// Poll is how often the counts are read; StallAfter is how long
	// nothing may move before the command says that no worker seems to
	// run. Hidden: tests shorten them.
	Poll       time.Duration `default:"500ms" hidden:""`
	StallAfter time.Duration `default:"30s" hidden:""`
}

func (w WaitFlags) check() error {
	switch {
	case w.Timeout < 0:
		return fmt.Errorf("--timeout: %s is negative", w.Timeout)
	case w.Timeout > 0 && !w.Wait:
		return errors.New("--timeout: only goes with --wait")
	}
	return nil
}

// waitFor shows the progress of an announcement until it is done, and
// fails if any delivery failed. On a terminal it draws a progress bar;
// elsewhere (CI logs) it prints a line when the counts change.
//
// Nothing moves when no worker runs on the announcement's database and
// queue (a "herald serve" elsewhere, with the embedded Redis, or none at
// all): after w.StallAfter without progress while deliveries are pending
// it says so, once, and keeps waiting, until w.Timeout if one is set.
func waitFor(ctx context.Context, env *Env, led *ledger.Ledger, id int64, w WaitFlags) error {
	var bar *progressbar.ProgressBar
	f, isFile := env.stderr.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	var (
		last    ledger.Counts
		status  ledger.Status
		movedAt = env.now()
		warned  bool
	)
	var deadline <-chan time.Time
	if w.Timeout > 0 {
		timer := time.NewTimer(w.Timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	tick := time.NewTicker(w.Poll)
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
		if c != last || a.Status != status {
			movedAt = env.now()
		}
		last, status = c, a.Status
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
		if !warned && awaitsWorker(a) && env.now().Sub(movedAt) >= w.StallAfter {
			warned = true
			if bar != nil {
				fmt.Fprintln(env.stderr)
			}
			fmt.Fprintf(env.stderr, "announcement %d: nothing has moved for %s while deliveries are pending: no worker seems to be running "+
				"(\"herald serve\", or \"herald worker\" on this database and HERALD_REDIS_URL); still waiting\n", id, w.StallAfter)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			if a.Status == ledger.Resolving || a.Status == ledger.Scheduled {
				return fmt.Errorf("stopped waiting for announcement %d after %s (--timeout), still %s; it goes on without this command",
					id, w.Timeout, a.Status)
			}
			return fmt.Errorf("stopped waiting for announcement %d after %s (--timeout), %d of %d deliveries done; it goes on without this command",
				id, w.Timeout, done, c.Recipients)
		case <-tick.C:
		}
	}
}

// awaitsWorker reports whether a moves only when a worker takes it: its
// audience is to be resolved, or deliveries are to be sent. A scheduled
// or paused announcement waits for a time or a person instead.
func awaitsWorker(a ledger.Announcement) bool {
	return a.Status == ledger.Resolving || a.Status == ledger.Sending && a.Counts.Pending+a.Counts.Sending > 0
}
