package queue

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Embedded is an in-process Redis (miniredis) on loopback, for running
// herald with nothing installed. It keeps nothing across restarts, which is
// fine: the reconciler rebuilds the queue from the database.
//
// It requires a password made at start, which only herald's own clients
// know: loopback is shared by every process and user of the machine, and
// the queue holds addresses and can be told to send.
type Embedded struct {
	mr       *miniredis.Miniredis
	password string
	stop     chan struct{}
	done     sync.WaitGroup
	closed   sync.Once
}

// clockTick is how often the embedded Redis's clock is moved on.
const clockTick = 250 * time.Millisecond

// StartEmbedded starts an embedded Redis on 127.0.0.1 and a free port.
func StartEmbedded() (*Embedded, error) {
	mr := miniredis.NewMiniRedis()
	password := rand.Text()
	mr.RequireAuth(password)
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded Redis: %w", err)
	}
	e := &Embedded{mr: mr, password: password, stop: make(chan struct{})}
	// miniredis expires keys only when told time has passed. asynq relies
	// on expiry (unique locks, leases, server heartbeats), so the clock is
	// moved on by the real time that went by.
	e.done.Go(func() {
		t := time.NewTicker(clockTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-e.stop:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	})
	return e, nil
}

// Addr is host:port of the embedded Redis.
func (e *Embedded) Addr() string { return e.mr.Addr() }

// URL is the redis:// URL of the embedded Redis, password included: it is
// for herald's clients, never for a log.
func (e *Embedded) URL() string { return "redis://:" + e.password + "@" + e.mr.Addr() }

// FlushAll empties it, as a Redis FLUSHALL would (for tests).
func (e *Embedded) FlushAll() { e.mr.FlushAll() }

// Close stops it; closing it again does nothing.
func (e *Embedded) Close() {
	e.closed.Do(func() {
		close(e.stop)
		e.done.Wait()
		e.mr.Close()
	})
}
