package queue_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

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

func TestEmbeddedRedisRequiresItsPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emb, err := queue.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()

	stranger := redis.NewClient(&redis.Options{Addr: emb.Addr()})
	defer stranger.Close()
	if err := stranger.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("a client without the password: SET = %v, want NOAUTH", err)
	}
	guesser := redis.NewClient(&redis.Options{Addr: emb.Addr(), Password: "herald"})
	defer guesser.Close()
	if err := guesser.Ping(ctx).Err(); err == nil {
		t.Error("a client with a wrong password was let in")
	}

	opt, err := redis.ParseURL(emb.URL())
	if err != nil {
		t.Fatal(err)
	}
	herald := redis.NewClient(opt)
	defer herald.Close()
	if err := herald.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Errorf("a client with the password: SET = %v", err)
	}
}

func TestOpenOnTheEmbeddedRedis(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	q, err := queue.Open(context.Background(), "", "", slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Enqueue(context.Background(), queue.NewFanoutTask(7)); err != nil {
		t.Errorf("herald's own client cannot use its embedded Redis: %v", err)
	}
	u, err := url.Parse(q.Embedded().URL())
	if err != nil {
		t.Fatal(err)
	}
	if password, _ := u.User.Password(); password == "" || strings.Contains(log.String(), password) {
		t.Errorf("password %q; the log shows it:\n%s", password, log.String())
	}
}
