package queue_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/queuetest"
)

// TestUrgentGoesFirst checks that a task a person waits for (a sign-in
// mail) is worked before the bulk tasks queued ahead of it.
func TestUrgentGoesFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := queuetest.Open(t)
	for chunk := range 5 {
		if err := q.Enqueue(ctx, queue.NewSendTask(1, chunk, time.Time{})); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue(ctx, queue.NewFanoutTask(2).Urgent()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	srv := q.NewServer(queue.ServerConfig{Concurrency: 1, PollInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.Start(asynq.HandlerFunc(func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, task.Type())
		if len(order) == 6 {
			close(done)
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("tasks worked within 30s: %v", order)
	}
	if order[0] != queue.TypeFanout {
		t.Errorf("order %v: the urgent task did not go first", order)
	}
}
