package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// StartIfDue enqueues the fan-out of an announcement just made when it is
// due now (resolving). A scheduled one is enqueued by the scheduler when
// its time comes, and what cannot be enqueued now the reconciler enqueues
// later: the ledger, not the queue, says what is to be sent.
func StartIfDue(ctx context.Context, q *queue.Queue, a ledger.Announcement, logger *slog.Logger) {
	if a.Status == ledger.Resolving {
		q.TryEnqueue(ctx, queue.NewFanoutTask(a.ID), logger)
	}
}

// Fanout resolves an announcement's audience into deliveries, set-based in
// SQL, and enqueues one send task per chunk: first those of a first page,
// committed and enqueued at once, then those of the rest of the audience,
// so that the first messages of a release to a million leave while the
// rest of its deliveries are being inserted.
type Fanout struct {
	Ledger    *ledger.Ledger
	Kinds     *kinds.Registry
	Queue     *queue.Queue
	ChunkSize int
	// FirstPage is how many deliveries the first page holds (default ten
	// chunks).
	FirstPage int
}

// ProcessTask handles queue.TypeFanout.
func (h *Fanout) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := queue.DecodeFanout(t)
	if err != nil {
		return err
	}
	a, err := h.Ledger.Lookup(ctx, p.Announcement)
	if errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	open, err := h.Kinds.Open(a)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	firstPage := h.FirstPage
	if firstPage <= 0 {
		firstPage = 10 * h.ChunkSize
	}
	urgent := h.Kinds.Urgent(a.Kind)
	for {
		chunks, more, err := h.Ledger.ResolvePage(ctx, a.ID, open.Audience(), h.ChunkSize, firstPage)
		if err != nil {
			return err
		}
		for _, c := range chunks {
			task := queue.NewSendTask(a.ID, c, time.Time{})
			if urgent {
				task = task.Urgent()
			}
			if err := h.Queue.Enqueue(ctx, task); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		h.waitForFirstSends(ctx, a.ID)
	}
}

// firstSendsWait is how long the rest of a fan-out waits for the first
// page's sending to begin.
const firstSendsWait = time.Second

// waitForFirstSends returns once a delivery of the announcement has been
// claimed, or after firstSendsWait. On SQLite the rest of a large audience
// holds the one writer for seconds, and a worker's claim of the first
// page's deliveries would wait behind it: the first message would leave
// after the last delivery was inserted.
func (h *Fanout) waitForFirstSends(ctx context.Context, id int64) {
	deadline := time.Now().Add(firstSendsWait)
	for time.Now().Before(deadline) {
		if started, err := h.Ledger.SendingBegun(ctx, id); err != nil || started {
			return // an error here only costs the wait
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
