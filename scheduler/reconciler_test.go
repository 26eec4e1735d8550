package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/scheduler"
)

func TestReconcilerOverdueChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// A release resolved into three chunks of one, an hour ago, whose
		// send tasks nobody enqueued, and no workers to run them.
		b := apptest.Start(t, apptest.Options{Database: database})
		b.License(t, "SEN-1", "jira", "active", apptest.Tech("a@acme.test", "A"), apptest.Tech("b@acme.test", "B"), apptest.Tech("c@acme.test", "C"))
		_, a, _, err := b.Ledger.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "9.0"}, kinds.ReleaseAnnouncement)
		if err != nil {
			t.Fatal(err)
		}
		open, err := b.Kinds.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		if chunks, err := b.Ledger.Resolve(ctx, a.ID, open.Audience(), 1); err != nil || len(chunks) != 3 {
			t.Fatalf("Resolve = %v, %v", chunks, err)
		}
		b.Clock.Add(time.Hour)
		r := &scheduler.Reconciler{Ledger: b.Ledger, Queue: b.Queue, Grace: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		run := func() int {
			t.Helper()
			res, err := r.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return res.Chunks
		}

		if n := run(); n != 3 {
			t.Errorf("first run enqueued %d chunks, want the 3 the queue never had", n)
		}
		// The queue holds the earliest chunk's task: it is working
		// through the announcement, which is left alone.
		if n := run(); n != 0 {
			t.Errorf("second run enqueued %d chunks, want 0 while the earliest is queued", n)
		}
		// The queue loses the earliest chunk's task: everything overdue
		// is enqueued again.
		insp := asynq.NewInspectorFromRedisClient(b.Queue.Redis())
		if err := insp.DeleteTask(b.Queue.Name(), queue.NewSendTask(a.ID, 0, time.Time{}).ID); err != nil {
			t.Fatal(err)
		}
		if n := run(); n != 3 {
			t.Errorf("run after the task was lost enqueued %d chunks, want 3", n)
		}
		if live, err := b.Queue.Live(ctx, queue.NewSendTask(a.ID, 0, time.Time{})); err != nil || !live {
			t.Errorf("the lost task is live = %v, %v; want true", live, err)
		}
	})
}
