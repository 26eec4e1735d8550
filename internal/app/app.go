// Package app wires herald from one configuration: it opens the database
// and builds the stores on it, opens the queue, the mail transport and the
// templates when a role needs them, and starts the roles a process runs
// (the API, the workers, the scheduler; inbound mail and web pages are
// next). Close stops what was started in the reverse order. Every
// subcommand of cmd/herald and every integration test builds herald
// through it, so that the tests run the wiring production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/admin"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/worker"
)

// Options are what a process tells the app besides its configuration.
type Options struct {
	Logger *slog.Logger
	// Now is the clock of everything herald dates and schedules (default
	// time.Now); tests move theirs forward.
	Now func() time.Time
	// Stdout receives what a person must read once: the first API token.
	Stdout io.Writer
	// QueueName is the asynq queue (default queue.DefaultName); tests that
	// share one Redis take one each.
	QueueName string
	// PollInterval is how often idle workers look for tasks (default 100ms).
	PollInterval time.Duration
	// Breaker tunes the workers' relay breaker (its From is HERALD_FROM);
	// tests shorten its waits.
	Breaker worker.BreakerConfig
	// Existing opens only a database herald made before (db.ErrNoSchema
	// otherwise), for the commands that administer one: they must not
	// leave an empty herald.db wherever they happen to run. It is still
	// migrated, as every process migrates the database it opens.
	Existing bool
	// HeaderTimeout bounds how long a client may take to send a request's
	// headers (default 10s), and PageTimeout a whole request to a public
	// page (default admin.DefaultPageTimeout); tests shorten them.
	HeaderTimeout, PageTimeout time.Duration
	// WebhookFetcher fetches SNS certificates and SubscribeURLs (default:
	// over HTTPS); tests give one of their own, in code only.
	WebhookFetcher inbound.Fetcher
}

// App is herald, wired. The stores are ready once Open returns; the rest
// is opened by the roles that need it. Starting roles is not safe for
// concurrent use; what they start is.
type App struct {
	Config  config.Config
	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *metrics.Metrics

	DB       *db.DB
	Contacts *contacts.Store
	Ledger   *ledger.Ledger
	Billing  *billing.Billing
	Tokens   *auth.Tokens

	opts Options
	// Opened on first use, by the roles that need them.
	queue           *queue.Queue
	sender          mailer.Sender
	messages        *messages
	jobs            *scheduler.Jobs
	runner          *scheduler.Runner
	relay           *relay.Relay
	breaker         *worker.Breaker
	api             *admin.Server
	sessions        *web.Sessions
	consoleSessions *web.Sessions
	staff           *staff.Store

	stops []stop
	fatal chan error
}

// stop is how one started thing is stopped.
type stop struct {
	name string
	fn   func(context.Context) error
}

// Open opens and migrates the configured database (creating it unless
// opts.Existing) and builds the stores on it. The configuration is
// validated already.
func Open(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = 10 * time.Second
	}
	open := db.Open
	if opts.Existing {
		open = db.OpenExisting
	}
	d, err := open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_DATABASE_URL: %w", err)
	}
	if err := d.Migrate(ctx, opts.Logger); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{
		Config:   cfg,
		Logger:   opts.Logger,
		Now:      opts.Now,
		Metrics:  metrics.New(),
		DB:       d,
		Contacts: contacts.NewStore(d, opts.Now),
		Ledger:   ledger.New(d, opts.Now),
		Tokens:   auth.NewTokens(d, opts.Now, cfg.HTTP.AdminToken),
		opts:     opts,
		fatal:    make(chan error, 1),
	}
	a.Billing = billing.New(d, a.Ledger, opts.Now)
	// Every change to a license's contacts stores its notices with it, and
	// starts sending them once committed.
	a.Contacts.SetNotifier(&kinds.ContactNotices{Ledger: a.Ledger, Start: a.startAnnouncement})
	a.onClose("database", func(context.Context) error { return d.Close() })
	// Checking a token notes its use; this writes the uses down, and the
	// last ones at Close, before the database closes.
	a.Tokens.Start(time.Minute, opts.Logger)
	a.onClose("token uses", a.Tokens.Close)
	return a, nil
}

// onClose registers how to stop something just started; Close stops the
// last started first.
func (a *App) onClose(name string, fn func(context.Context) error) {
	a.stops = append(a.stops, stop{name: name, fn: fn})
}

// Wait runs until ctx is done (SIGINT, SIGTERM) or a role fails.
func (a *App) Wait(ctx context.Context) error {
	select {
	case err := <-a.fatal:
		return err
	case <-ctx.Done():
		a.Logger.Info("shutting down", "grace", a.Config.HTTP.ShutdownTimeout)
		return nil
	}
}

// Close stops everything that was started, the last started first: the
// listeners stop taking requests, the scheduler stops enqueueing, the
// workers finish what they hold, then the transport, the queue and the
// database close. Each gets what is left of HERALD_SHUTDOWN_TIMEOUT.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	var errs []error
	for i := len(a.stops) - 1; i >= 0; i-- {
		if err := a.stops[i].fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", a.stops[i].name, err))
		}
	}
	a.stops = nil
	return errors.Join(errs...)
}

// fail reports a role that stopped by itself, once.
func (a *App) fail(err error) {
	select {
	case a.fatal <- err:
	default:
	}
}
