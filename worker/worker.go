// Package worker holds herald's asynq handlers: Fanout turns a due
// announcement into deliveries, Send sends the pending deliveries of one
// chunk. Both act only on rows the ledger says are still to do, so a task
// that runs twice sends nothing twice.
package worker

import (
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/templates"
)

// Config tunes the workers.
type Config struct {
	// ChunkSize is the number of deliveries per send task.
	ChunkSize int
	// FanoutPage is the number of deliveries in the first page of a
	// fan-out, sent while the rest are inserted (default ten chunks).
	FanoutPage int
	// Lease is how long a claimed delivery stays claimed.
	Lease time.Duration
	// MaxAttempts is how often a temporary failure is tried before the
	// delivery is failed.
	MaxAttempts int
	// RetryBase is the first retry delay; it doubles with each attempt.
	RetryBase time.Duration
	// MaxThrottles is how many throttling replies a delivery may get, each
	// given back untried, before it is failed (default 50).
	MaxThrottles int
	// Unrecorded is how many messages this process may have handed to
	// the SMTP server whose outcome is not yet written (default 64): the
	// most a crash can send twice.
	Unrecorded int
	// From is the sender, "Name <address>".
	From string
}

// Deps are what the workers work with.
type Deps struct {
	Ledger *ledger.Ledger
	// Contacts suppresses the addresses the SMTP server refuses.
	Contacts *contacts.Store
	// Kinds say who each announcement goes to and what it says.
	Kinds *kinds.Registry
	Queue *queue.Queue
	// Relay is the send rate shared with the other processes; Breaker
	// stops this process's sends while the relay fails as a whole.
	Relay    *relay.Relay
	Breaker  *Breaker
	Renderer *templates.Renderer
	Sender   mailer.Sender
	// Refs sign each message's Message-ID and, with a bounce domain, its
	// return path, so that what comes back names its delivery.
	Refs    *bounce.Refs
	Logger  *slog.Logger
	Metrics *metrics.Metrics // optional
	Now     func() time.Time
}

// NewMux returns the handler of every task type, with logging.
func NewMux(cfg Config, deps Deps) (*asynq.ServeMux, error) {
	send, err := NewSend(cfg, deps)
	if err != nil {
		return nil, err
	}
	mux := asynq.NewServeMux()
	mux.Use(Logging(deps.Logger, deps.Metrics))
	mux.Handle(queue.TypeFanout, &Fanout{Ledger: deps.Ledger, Kinds: deps.Kinds, Queue: deps.Queue, ChunkSize: cfg.ChunkSize, FirstPage: cfg.FanoutPage})
	mux.Handle(queue.TypeSend, send)
	return mux, nil
}
