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
// SQL, then enqueues one send task per chunk.
type Fanout struct {
	Ledger    *ledger.Ledger
	Kinds     *kinds.Registry
	Queue     *queue.Queue
	ChunkSize int
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
	chunks, err := h.Ledger.Resolve(ctx, a.ID, open.Audience(), h.ChunkSize)
	if err != nil {
		return err
	}
	urgent := h.Kinds.Urgent(a.Kind)
	for _, c := range chunks {
		task := queue.NewSendTask(a.ID, c, time.Time{})
		if urgent {
			task = task.Urgent()
		}
		if err := h.Queue.Enqueue(ctx, task); err != nil {
			return err
		}
	}
	return nil
}
