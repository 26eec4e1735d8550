package web

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is at most N actions per Per.
type Limit struct {
	N   int
	Per time.Duration
}

// Limiter counts actions in Redis, so that every replica of herald counts
// together.
type Limiter struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewLimiter returns a limiter on rdb, its keys under namespace (the
// queue's name).
func NewLimiter(rdb redis.UniversalClient, namespace string) *Limiter {
	return &Limiter{limiter: redis_rate.NewLimiter(rdb), prefix: "herald:" + namespace + ":limit:"}
}

// Allow counts one action on key and says whether it is within l.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (bool, error) {
	res, err := l.limiter.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: lim.N, Burst: lim.N, Period: lim.Per})
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return res.Allowed > 0, nil
}

// AllowAll counts one action on each key and says whether every one is
// within its limit. Each key is counted even when an earlier one is over:
// a client that tries many addresses uses up its own allowance too.
func (l *Limiter) AllowAll(ctx context.Context, keys []string, lims []Limit) (bool, error) {
	ok := true
	for i, k := range keys {
		allowed, err := l.Allow(ctx, k, lims[i])
		if err != nil {
			return false, err
		}
		ok = ok && allowed
	}
	return ok, nil
}
