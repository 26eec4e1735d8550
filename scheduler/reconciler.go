package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// Reconciler makes the queue match the ledger again. The ledger is the truth
// and Redis only carries work, so whatever Redis lost (a flush, a restart of
// the embedded one, a crash between a commit and its enqueue) is found in
// the ledger and enqueued again. Enqueueing what is still queued collapses
// on the task id, so running it often is harmless.
type Reconciler struct {
	Ledger *ledger.Ledger
	Queue  *queue.Queue
	// Grace is how long a pending delivery may be overdue before its chunk
	// is enqueued again; it covers the moment between a fan-out's commit
	// and its enqueue.
	Grace  time.Duration
	Logger *slog.Logger
}

// ReconcileResult says what a run did.
type ReconcileResult struct {
	LeasesExpired int `json:"leases_expired"`
	Fanouts       int `json:"fanouts"`
	Chunks        int `json:"chunks"`
	Finished      int `json:"finished"`
}

func (r ReconcileResult) String() string {
	return fmt.Sprintf("%d lease chunks returned, %d fan-outs and %d chunks enqueued, %d announcements finished",
		r.LeasesExpired, r.Fanouts, r.Chunks, r.Finished)
}

// Run reconciles once.
func (r *Reconciler) Run(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	if _, err := r.Ledger.SweepCancelled(ctx); err != nil {
		return res, err
	}
	expired, err := r.Ledger.ExpireLeases(ctx)
	if err != nil {
		return res, err
	}
	res.LeasesExpired = len(expired)
	for _, c := range expired {
		r.Logger.Warn("lease expired; the deliveries go back to pending", "announcement", c.AnnouncementID, "chunk", c.Chunk)
		if err := r.Queue.Enqueue(ctx, queue.NewSendTask(c.AnnouncementID, c.Chunk, time.Time{})); err != nil {
			return res, err
		}
	}

	resolving, err := r.Ledger.ToResolve(ctx)
	if err != nil {
		return res, err
	}
	for _, id := range resolving {
		if err := r.Queue.Enqueue(ctx, queue.NewFanoutTask(id)); err != nil {
			return res, err
		}
		res.Fanouts++
	}

	overdue, err := r.overdue(ctx)
	if err != nil {
		return res, err
	}
	for _, c := range overdue {
		if err := r.Queue.Enqueue(ctx, queue.NewSendTask(c.AnnouncementID, c.Chunk, time.Time{})); err != nil {
			return res, err
		}
		res.Chunks++
	}

	finished, err := r.Ledger.FinishAllDone(ctx)
	res.Finished = int(finished)
	return res, err
}

// overdue returns the chunks to enqueue again. An announcement whose
// earliest overdue chunk has a live task is being worked through by the
// queue (a million deliveries wait there for minutes): it is left alone,
// and a run costs one probe of the ledger and one of Redis for it, not a
// scan of all it has pending and an enqueue per chunk. Otherwise the queue
// lost work (a flush, a restart, a task that gave up) and every overdue
// chunk of the announcement is enqueued again; a chunk lost behind a live
// one is found when the chunks before it are done.
func (r *Reconciler) overdue(ctx context.Context) ([]ledger.ChunkRef, error) {
	earliest, err := r.Ledger.EarliestOverdue(ctx, r.Grace)
	if err != nil {
		return nil, err
	}
	var out []ledger.ChunkRef
	for _, c := range earliest {
		live, err := r.Queue.Live(ctx, queue.NewSendTask(c.AnnouncementID, c.Chunk, time.Time{}))
		if err != nil {
			return nil, err
		}
		if live {
			continue
		}
		refs, err := r.Ledger.OverdueOf(ctx, c.AnnouncementID, r.Grace)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}
