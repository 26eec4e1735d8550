package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/metrics"
)

// Logging logs and counts every task run: debug when it succeeds, an error
// when it fails (asynq then retries it).
func Logging(logger *slog.Logger, m *metrics.Metrics) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			id, _ := asynq.GetTaskID(ctx)
			err := next.ProcessTask(ctx, t)
			m.Task(t.Type(), err)
			if err != nil {
				logger.Error("task failed", "type", t.Type(), "task", id, "took", time.Since(start), "err", err)
				return err
			}
			logger.Debug("task done", "type", t.Type(), "task", id, "took", time.Since(start))
			return nil
		})
	}
}
