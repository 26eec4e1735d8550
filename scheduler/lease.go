package scheduler

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// leases make a job run in one scheduler at a time across replicas: a run
// holds a Redis key (SET NX with an expiry, renewed while it runs), and a
// run that finishes keeps the key until its tick is well past, so that a
// replica whose clock ticks a few seconds later does not run it again.
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
	endScript    = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
		if tonumber(ARGV[2]) > 0 then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
		return redis.call("DEL", KEYS[1]) end return 0`)
)

// acquire takes the lease of job, or reports false when another scheduler
// holds it.
func (l *leases) acquire(ctx context.Context, job string) (*lease, bool, error) {
	key := "herald:" + l.namespace + ":lease:" + job
	token := rand.Text()
	ok, err := l.rdb.SetNX(ctx, key, token, l.ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	ls := &lease{l: l, key: key, token: token, stop: make(chan struct{}), done: make(chan struct{})}
	go ls.renew()
	return ls, true, nil
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

// release ends the lease, keeping the key until until (when in the future).
func (ls *lease) release(until time.Time) error {
	close(ls.stop)
	<-ls.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keep := time.Until(until).Milliseconds()
	err := endScript.Run(ctx, ls.l.rdb, []string{ls.key}, ls.token, max(keep, 0)).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
