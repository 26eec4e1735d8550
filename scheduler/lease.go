package scheduler

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// leases are Redis keys that make one process at a time, across every
// replica, do something: SET NX with an expiry, renewed while it is held,
// so that a process that died holding one lets it go after ttl.
type leases struct {
	rdb       redis.UniversalClient
	namespace string
	ttl       time.Duration
}

// lease is a held lease.
type lease struct {
	l     *leases
	key   string
	token string
	stop  chan struct{}
	done  chan struct{}
}

// Only the holder may extend or end a lease.
var (
	extendScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
	endScript    = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
)

func (l *leases) key(name string) string { return "herald:" + l.namespace + ":" + name }

// acquire takes the lease name, or reports false when another process
// holds it.
func (l *leases) acquire(ctx context.Context, name string) (*lease, bool, error) {
	key, token := l.key(name), rand.Text()
	ok, err := l.rdb.SetNX(ctx, key, token, l.ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	ls := &lease{l: l, key: key, token: token, stop: make(chan struct{}), done: make(chan struct{})}
	go ls.renew()
	return ls, true, nil
}

// wait takes the lease name as soon as it is free, asking every second,
// until ctx is done.
func (l *leases) wait(ctx context.Context, name string) (*lease, error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		ls, ok, err := l.acquire(ctx, name)
		if err != nil || ok {
			return ls, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// mark sets name until until, unless it is set: it reports whether this
// process set it. A mark is not held and not renewed; it only says that
// something happened (a tick of a job ran) until it expires.
func (l *leases) mark(ctx context.Context, name string, until time.Time) (bool, error) {
	return l.rdb.SetNX(ctx, l.key(name), "1", max(time.Until(until), time.Millisecond)).Result()
}

// renew extends the lease every third of its time until release.
func (ls *lease) renew() {
	defer close(ls.done)
	t := time.NewTicker(ls.l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ls.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ls.l.ttl/3)
			_ = extendScript.Run(ctx, ls.l.rdb, []string{ls.key}, ls.token, ls.l.ttl.Milliseconds()).Err()
			cancel()
		}
	}
}

// release ends the lease.
func (ls *lease) release() error {
	close(ls.stop)
	<-ls.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := endScript.Run(ctx, ls.l.rdb, []string{ls.key}, ls.token).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
