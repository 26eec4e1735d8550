package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// Control is what staff do to announcements (start, cancel, pause,
// resume, retry the failed deliveries), the same through the API, the
// console and the command line: each change is made in the ledger,
// audited under who made it, and what it made due is enqueued.
type Control struct {
	Ledger *ledger.Ledger
	// Queue enqueues what a change made due; without one (a command run
	// where Redis cannot be reached) the reconciler enqueues it.
	Queue  *queue.Queue
	Audit  *contacts.Store
	Logger *slog.Logger
	// SettleTimeout bounds how long Cancel waits for the deliveries
	// already handed to the relay (default 15 s).
	SettleTimeout time.Duration
}

// Started audits an announcement just created (a broadcast or a release)
// and enqueues its fan-out if it is due now.
func (c *Control) Started(ctx context.Context, by contacts.Actor, a ledger.Announcement) {
	c.audit(ctx, by, contacts.AnnouncementCreated, a, "")
	if c.Queue != nil {
		StartIfDue(ctx, c.Queue, a, c.Logger)
	}
}

// Cancel cancels an announcement and waits until the deliveries a worker
// had claimed have settled, so that nothing reaches the relay after it
// returns; settled is false if some were still being sent at the timeout.
func (c *Control) Cancel(ctx context.Context, by contacts.Actor, id int64) (a ledger.Announcement, settled bool, err error) {
	if a, err = c.Ledger.Cancel(ctx, id); err != nil {
		return a, false, err
	}
	c.audit(ctx, by, contacts.AnnouncementCancelled, a, "")
	timeout := c.SettleTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	if settled, err = c.Ledger.WaitSettled(ctx, id, timeout); err != nil {
		return a, false, err
	}
	if !settled {
		c.Logger.Warn("cancelled; some deliveries are still being sent", "announcement", id)
	}
	a, err = c.Ledger.Get(ctx, id)
	return a, settled, err
}

// Pause stops an announcement's sending until it is resumed.
func (c *Control) Pause(ctx context.Context, by contacts.Actor, id int64, reason string) (ledger.Announcement, error) {
	a, err := c.Ledger.Pause(ctx, id, reason, by.Who())
	if err == nil {
		c.audit(ctx, by, contacts.AnnouncementPaused, a, reason)
	}
	return a, err
}

// Resume resumes a paused announcement and enqueues its work.
func (c *Control) Resume(ctx context.Context, by contacts.Actor, id int64) (ledger.Announcement, error) {
	a, res, err := c.Ledger.Resume(ctx, id)
	if err != nil {
		return a, err
	}
	c.audit(ctx, by, contacts.AnnouncementResumed, a, "")
	if c.Queue != nil {
		EnqueueResumed(ctx, c.Queue, res, c.Logger)
	}
	return a, nil
}

// RetryFailed makes an announcement's failed deliveries due again and
// enqueues their chunks.
func (c *Control) RetryFailed(ctx context.Context, by contacts.Actor, id int64) (ledger.Announcement, error) {
	failed := 0
	if before, err := c.Ledger.Get(ctx, id); err == nil {
		failed = before.Counts.Failed
	}
	a, chunks, err := c.Ledger.RetryFailed(ctx, id)
	if err != nil {
		return a, err
	}
	c.audit(ctx, by, contacts.AnnouncementRetried, a, fmt.Sprintf("%d failed", failed))
	if c.Queue != nil {
		for _, ch := range chunks {
			c.Queue.TryEnqueue(ctx, queue.NewSendTask(id, ch, time.Time{}), c.Logger)
		}
	}
	return a, nil
}

// audit records what was done to a; the change is made by then, so a
// failure to record it is logged rather than undoing it.
func (c *Control) audit(ctx context.Context, by contacts.Actor, action contacts.Action, a ledger.Announcement, more string) {
	detail := fmt.Sprintf("announcement %d (%s): %s", a.ID, a.Kind, a.Subject)
	if more != "" {
		detail += " · " + more
	}
	if err := c.Audit.Audit(ctx, contacts.AuditEntry{Action: action, Detail: detail, By: by}); err != nil {
		c.Logger.Error("could not audit a change to an announcement", "announcement", a.ID, "action", action, "by", by.String(), "err", err)
	}
}
