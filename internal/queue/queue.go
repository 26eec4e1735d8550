package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/internal/redact"
)

// DefaultName is the asynq queue herald uses.
const DefaultName = "herald"

// Queue is a connection to the work queue.
type Queue struct {
	redis    redis.UniversalClient
	client   *asynq.Client
	name     string
	embedded *Embedded
}

// Open connects to the Redis at rawURL (redis://, rediss://,
// redis-sentinel://, redis-socket:// or redis-cluster://host:port,host:port),
// or, when rawURL is empty, starts an embedded Redis on loopback. name is the
// asynq queue to use (DefaultName unless tests want one of their own).
func Open(ctx context.Context, rawURL, name string, logger *slog.Logger) (*Queue, error) {
	if name == "" {
		name = DefaultName
	}
	q := &Queue{name: name}
	if rawURL == "" {
		emb, err := StartEmbedded()
		if err != nil {
			return nil, err
		}
		q.embedded = emb
		rawURL = emb.URL()
		logger.Info("embedded Redis started; it keeps nothing across restarts, the reconciler rebuilds the queue from the database", "addr", emb.Addr())
	}
	rdb, err := newRedis(rawURL)
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("HERALD_REDIS_URL: %w", redact.Error(err, rawURL))
	}
	q.redis = rdb
	if err := rdb.Ping(ctx).Err(); err != nil {
		q.Close()
		return nil, fmt.Errorf("connect to Redis: %w", redact.Error(err, rawURL))
	}
	q.client = asynq.NewClientFromRedisClient(rdb)
	return q, nil
}

func newRedis(rawURL string) (redis.UniversalClient, error) {
	if rest, ok := strings.CutPrefix(rawURL, "redis-cluster://"); ok {
		u, err := url.Parse("redis://" + rest)
		if err != nil {
			return nil, err
		}
		opt := asynq.RedisClusterClientOpt{Addrs: strings.Split(u.Host, ",")}
		if u.User != nil {
			opt.Username = u.User.Username()
			opt.Password, _ = u.User.Password()
		}
		return opt.MakeRedisClient().(redis.UniversalClient), nil
	}
	// asynq quotes the URL, password and all, in its errors: Open
	// redacts them.
	opt, err := asynq.ParseRedisURI(rawURL)
	if err != nil {
		return nil, err
	}
	return opt.MakeRedisClient().(redis.UniversalClient), nil
}

// Name is the asynq queue's name.
func (q *Queue) Name() string { return q.name }

// UrgentName is the asynq queue of the tasks a person waits for (a
// sign-in link): workers take its tasks before any of the bulk queue's.
func (q *Queue) UrgentName() string { return q.name + ":urgent" }

// Redis is the underlying connection, shared by asynq's client, servers and
// inspector, and used for the scheduler's leases.
func (q *Queue) Redis() redis.UniversalClient { return q.redis }

// Embedded returns the embedded Redis, or nil when a real one is used.
func (q *Queue) Embedded() *Embedded { return q.embedded }

// Enqueue adds a task to the queue. A task whose id is already queued,
// scheduled, running or retrying is the same work: that is not an error.
//
// A task of that id that asynq gave up on (archived after its retries, say
// during a long database outage) or kept as completed is not live: it is
// deleted and the task enqueued anew, so that the reconciler can always
// bring work back.
func (q *Queue) Enqueue(ctx context.Context, t Task) error {
	name := q.name
	if t.urgent {
		name = q.UrgentName()
	}
	_, err := q.client.EnqueueContext(ctx, t.Task, asynq.Queue(name))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		id := t.ID
		insp := asynq.NewInspectorFromRedisClient(q.redis)
		info, ierr := insp.GetTaskInfo(name, id)
		if ierr != nil || (info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted) {
			return nil // live: the same work is queued, scheduled, running or retrying
		}
		if derr := insp.DeleteTask(name, id); derr != nil && !errors.Is(derr, asynq.ErrTaskNotFound) {
			return fmt.Errorf("enqueue %s: remove the dead task %s: %w", t.Type(), id, derr)
		}
		_, err = q.client.EnqueueContext(ctx, t.Task, asynq.Queue(name))
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil // someone else enqueued it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// Live reports whether a task like t (same id) is queued, scheduled,
// running or retrying, on either queue.
func (q *Queue) Live(ctx context.Context, t Task) (bool, error) {
	insp := asynq.NewInspectorFromRedisClient(q.redis)
	for _, name := range []string{q.name, q.UrgentName()} {
		info, err := insp.GetTaskInfo(name, t.ID)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("look up task %s: %w", t.ID, err)
		}
		if info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted {
			return true, nil
		}
	}
	return false, ctx.Err()
}

// TryEnqueue enqueues t as Enqueue does, but only logs a failure: the
// ledger already holds the work, so when Redis cannot take it now the
// reconciler enqueues it once Redis answers again.
func (q *Queue) TryEnqueue(ctx context.Context, t Task, logger *slog.Logger) {
	if err := q.Enqueue(ctx, t); err != nil {
		logger.Warn("enqueue failed; the reconciler will retry", "task", t.ID, "err", err)
	}
}

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return q.redis.Ping(ctx).Err()
}

// Idle reports whether the queue holds no task that is waiting, running,
// scheduled or waiting for a retry.
func (q *Queue) Idle() bool {
	info, err := q.info()
	return err == nil && info.Pending+info.Active+info.Scheduled+info.Retry == 0
}

// DefaultPollInterval is how often idle workers look for tasks unless told
// otherwise: the first message of a release waits for it, and an idle look
// is one small script in Redis.
const DefaultPollInterval = 100 * time.Millisecond

// ServerConfig tunes the workers of NewServer.
type ServerConfig struct {
	Concurrency     int
	ShutdownTimeout time.Duration
	// PollInterval is how often an idle worker looks for new tasks, and
	// how often tasks scheduled for later are moved into the queue when
	// due (default DefaultPollInterval).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// NewServer returns an asynq server that works this queue.
func (q *Queue) NewServer(cfg ServerConfig) *asynq.Server {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	return asynq.NewServerFromRedisClient(q.redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.PollInterval,
		Queues:                   map[string]int{q.UrgentName(): 2, q.name: 1},
		// A sign-in mail must not wait behind a release to thousands.
		StrictPriority:  true,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          slogAdapter{cfg.Logger.With("component", "asynq")},
		LogLevel:        asynq.WarnLevel,
		// Sends are retried per delivery by the worker; a failed task is a
		// database or Redis error, worth trying again soon.
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			return min(time.Duration(n+1)*2*time.Second, time.Minute)
		},
	})
}

// Close closes the connections and stops the embedded Redis.
func (q *Queue) Close() error {
	var errs []error
	// asynq's client and servers share q.redis and leave closing it to us.
	if q.redis != nil {
		errs = append(errs, q.redis.Close())
	}
	if q.embedded != nil {
		q.embedded.Close()
	}
	return errors.Join(errs...)
}

// slogAdapter gives asynq's logger interface to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// PruneArchived deletes the tasks asynq gave up on (archived) that last
// failed before before, and returns how many.
func (q *Queue) PruneArchived(ctx context.Context, before time.Time) (int, error) {
	insp := asynq.NewInspectorFromRedisClient(q.redis)
	n := 0
	for page := 1; ; page++ {
		tasks, err := insp.ListArchivedTasks(q.name, asynq.Page(page), asynq.PageSize(100))
		if err != nil {
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return n, nil
			}
			return n, fmt.Errorf("list archived tasks: %w", err)
		}
		if len(tasks) == 0 {
			return n, nil
		}
		deleted := 0
		for _, t := range tasks {
			if t.LastFailedAt.Before(before) {
				if err := insp.DeleteTask(q.name, t.ID); err != nil {
					return n, fmt.Errorf("delete archived task %s: %w", t.ID, err)
				}
				deleted++
			}
		}
		n += deleted
		page -= min(deleted, 1) // deleting shifts the pages; read this one again
	}
}
