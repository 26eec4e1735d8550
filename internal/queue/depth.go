package queue

import (
	"context"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"
)

// Depth counts the queue's tasks by state: pending (ready to run), active,
// scheduled (for later), retry and archived (dead). An unknown queue,
// before the first task, has none.
func (q *Queue) Depth(ctx context.Context) (map[string]int, error) {
	// The inspector takes no context; the caller's deadline is kept by
	// not waiting for an answer that comes too late.
	type answer struct {
		info *asynq.QueueInfo
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		info, err := q.info()
		done <- answer{info, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("queue %s depth: %w", q.name, ctx.Err())
	}
	if a.err != nil {
		return nil, fmt.Errorf("queue %s depth: %w", q.name, a.err)
	}
	return map[string]int{
		"pending": a.info.Pending, "active": a.info.Active, "scheduled": a.info.Scheduled,
		"retry": a.info.Retry, "archived": a.info.Archived,
	}, nil
}

// info returns the queue's figures; a queue that holds no task yet, and so
// does not exist in Redis, has none. (GetQueueInfo's not-found error is of
// a type internal to asynq, so it cannot be told from a failure.)
func (q *Queue) info() (*asynq.QueueInfo, error) {
	insp := asynq.NewInspectorFromRedisClient(q.redis)
	names, err := insp.Queues()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, q.name) {
		return &asynq.QueueInfo{Queue: q.name}, nil
	}
	return insp.GetQueueInfo(q.name)
}
