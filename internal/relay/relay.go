// Package relay is what every herald process shares about the SMTP relay,
// through Redis: the send rate, one GCRA limiter for all workers that
// halves when the relay throttles and climbs back while sends pass, and
// the relay's state (working or failing, why, since when), which the API
// shows.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/config"
)

// The shared rate runs between the configured one and a sixty-fourth of
// it: halved at most once a second when the relay throttles, raised by a
// twentieth of the configured rate at most once a second while sends
// pass, from calmAfter after the last halving on.
const (
	minFactor  = 1.0 / 64
	raiseStep  = 1.0 / 20
	adjustOnce = time.Second
	calmAfter  = 5 * time.Second
	// factorTTL is how long a lowered rate is kept without news: when
	// nothing is sent for that long, the next send starts at full rate.
	factorTTL = time.Hour
)

// Relay is one process's handle on the shared state.
type Relay struct {
	rdb     redis.UniversalClient
	prefix  string
	rate    config.Rate
	limiter *redis_rate.Limiter

	mu       sync.Mutex
	factor   float64 // as last read or set
	factorAt time.Time
}

// New returns the relay state of the herald installation namespace (its
// queue's name) on rdb, sending at most rate (zero: no limit).
func New(rdb redis.UniversalClient, namespace string, rate config.Rate) *Relay {
	return &Relay{rdb: rdb, prefix: "herald:" + namespace + ":relay:", rate: rate, limiter: redis_rate.NewLimiter(rdb), factor: 1}
}

// Limited says whether a send rate is configured.
func (r *Relay) Limited() bool { return r.rate.N > 0 }

// Wait blocks until the shared rate lets one more message go, and says
// whether it had to wait. Without a configured rate it returns at once.
// When Redis does not answer, it lets the message go: a short outage of
// Redis should not stop the mail.
func (r *Relay) Wait(ctx context.Context) (waited bool, err error) {
	if r.rate.N == 0 {
		return false, nil
	}
	for {
		res, err := r.limiter.Allow(ctx, r.prefix+"rate", limit(r.rate, r.currentFactor(ctx)))
		if err != nil {
			if ctx.Err() != nil {
				return waited, ctx.Err()
			}
			return waited, nil
		}
		if res.Allowed > 0 {
			return waited, nil
		}
		waited = true
		select {
		case <-ctx.Done():
			return waited, ctx.Err()
		case <-time.After(res.RetryAfter):
		}
	}
}

// limit is the limiter's rate for the configured rate lowered by factor,
// with a burst of a tenth of a period's worth: enough to fill the
// connections, not enough to run past a relay that counts by the second.
// A rate under one message a period stretches the period instead.
func limit(rate config.Rate, factor float64) redis_rate.Limit {
	n := float64(rate.N) * factor
	if n >= 1 {
		whole := int(math.Floor(n))
		return redis_rate.Limit{Rate: whole, Burst: max(1, whole/10), Period: rate.Per}
	}
	return redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Duration(float64(rate.Per) / n)}
}

// currentFactor is the share of the configured rate that the workers may
// use now, read from Redis at most once a second.
// The other workers go on with the factor they have meanwhile, rather
// than wait for the one that reads it.
func (r *Relay) currentFactor(ctx context.Context) float64 {
	r.mu.Lock()
	f := r.factor
	if time.Since(r.factorAt) < adjustOnce {
		r.mu.Unlock()
		return f
	}
	r.factorAt = time.Now()
	r.mu.Unlock()
	v, err := r.rdb.Get(ctx, r.prefix+"factor").Float64()
	switch {
	case errors.Is(err, redis.Nil):
		f = 1
	case err == nil && v >= minFactor && v <= 1:
		f = v
	default:
		return f // Redis is away: keep the last one
	}
	r.mu.Lock()
	r.factor = f
	r.mu.Unlock()
	return f
}

// adjust multiplies the shared factor by ARGV[1] and adds ARGV[2], within
// its bounds, unless the adjustment's guard (KEYS[2]) was set in the last
// second by any process: atomic in Redis, so that a burst of throttled
// replies from every worker at once halves the rate once. A halving also
// sets KEYS[3] for calmAfter, and no raise comes while it is set: the rate
// climbs back only once the relay has been quiet for a while.
var adjust = redis.NewScript(`
local halving = tonumber(ARGV[1]) < 1
if not halving and redis.call("EXISTS", KEYS[3]) == 1 then return false end
if redis.call("SET", KEYS[2], "1", "PX", ARGV[4], "NX") == false then return false end
if halving then redis.call("SET", KEYS[3], "1", "PX", ARGV[6]) end
local f = tonumber(redis.call("GET", KEYS[1]) or "1")
f = f * tonumber(ARGV[1]) + tonumber(ARGV[2])
if f < tonumber(ARGV[3]) then f = tonumber(ARGV[3]) end
if f >= 1 then
  redis.call("DEL", KEYS[1])
  return "1"
end
redis.call("SET", KEYS[1], tostring(f), "PX", ARGV[5])
return tostring(f)
`)

func (r *Relay) adjust(ctx context.Context, guard string, times, plus float64) {
	if r.rate.N == 0 {
		return
	}
	v, err := adjust.Run(ctx, r.rdb, []string{r.prefix + "factor", r.prefix + guard, r.prefix + "calm"},
		times, plus, minFactor, adjustOnce.Milliseconds(), factorTTL.Milliseconds(), calmAfter.Milliseconds()).Text()
	if err != nil {
		return // adjusted by another process this second, or Redis is away
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		r.mu.Lock()
		r.factor, r.factorAt = f, time.Now()
		r.mu.Unlock()
	}
}

// Throttled says the relay answered with a throttling reply: the shared
// rate is halved, for every worker.
func (r *Relay) Throttled(ctx context.Context) {
	r.adjust(ctx, "halved", 0.5, 0)
}

// Passed says a message went through: the shared rate climbs back.
func (r *Relay) Passed(ctx context.Context) {
	if r.currentFactor(ctx) < 1 {
		r.adjust(ctx, "raised", 1, raiseStep)
	}
}

// Rate is the configured send rate and the one the workers use now, in
// messages a second; zero for no limit.
type Rate struct {
	Configured float64 `json:"configured"`
	Effective  float64 `json:"effective"`
}

// Rate reads the shared rate.
func (r *Relay) Rate(ctx context.Context) Rate {
	configured := r.rate.PerSecond()
	return Rate{Configured: configured, Effective: configured * r.currentFactor(ctx)}
}

// State is how the relay works, as the last process that tried it saw.
type State string

// States of the relay.
const (
	Unknown State = "unknown" // no process has tried it yet
	Working State = "ok"
	Failing State = "failing"
)

// Status is the relay's state, shared by every process.
type Status struct {
	State State `json:"state"`
	// Error and Advice say, while it fails, what failed and which setting
	// to change.
	Error  string `json:"error,omitempty"`
	Advice string `json:"advice,omitempty"`
	// Since is when it came to this state.
	Since time.Time `json:"since"`
}

// SetStatus records the relay's state; Since is kept when the state is
// the one recorded already.
func (r *Relay) SetStatus(ctx context.Context, s Status) error {
	if cur, err := r.Status(ctx); err == nil && cur.State == s.State && !cur.Since.IsZero() {
		s.Since = cur.Since
	}
	if s.Since.IsZero() {
		s.Since = time.Now().UTC()
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := r.rdb.Set(ctx, r.prefix+"status", data, 0).Err(); err != nil {
		return fmt.Errorf("record the relay's state: %w", err)
	}
	return nil
}

// Status reads the relay's state.
func (r *Relay) Status(ctx context.Context) (Status, error) {
	data, err := r.rdb.Get(ctx, r.prefix+"status").Bytes()
	if errors.Is(err, redis.Nil) {
		return Status{State: Unknown}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("read the relay's state: %w", err)
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return Status{}, fmt.Errorf("read the relay's state: %w", err)
	}
	return s, nil
}
