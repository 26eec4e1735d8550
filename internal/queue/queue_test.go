package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/queuetest"
)

func TestEnqueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SameIDCollapses", func(t *testing.T) {
		q := queuetest.Open(t)
		for range 3 {
			if err := q.Enqueue(ctx, queue.NewFanoutTask(7)); err != nil {
				t.Fatal(err)
			}
		}
		tasks, err := asynq.NewInspectorFromRedisClient(q.Redis()).ListPendingTasks(q.Name())
		if err != nil || len(tasks) != 1 || tasks[0].ID != "fanout:7" {
			t.Errorf("pending tasks: %+v, %v; want fanout:7 once", tasks, err)
		}
	})

	t.Run("ADeadTaskIsReplaced", func(t *testing.T) {
		q := queuetest.Open(t)
		insp := asynq.NewInspectorFromRedisClient(q.Redis())
		task := queue.NewSendTask(7, 3, time.Time{})
		if err := q.Enqueue(ctx, task); err != nil {
			t.Fatal(err)
		}
		// asynq gives up on a task after its retries: it is archived, and
		// its id would block the same work forever.
		if err := insp.ArchiveTask(q.Name(), task.ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, task); err != nil {
			t.Fatal(err)
		}
		info, err := insp.GetTaskInfo(q.Name(), task.ID)
		if err != nil || info.State != asynq.TaskStatePending {
			t.Errorf("after enqueueing again: %+v, %v; want pending", info, err)
		}
	})

	t.Run("ALaterRetryHasItsOwnID", func(t *testing.T) {
		later := queue.NewSendTask(7, 3, time.Now().Add(time.Hour))
		if now := queue.NewSendTask(7, 3, time.Time{}); later.ID == now.ID {
			t.Errorf("a retry later shares the id %s of the send now", now.ID)
		}
	})
}
