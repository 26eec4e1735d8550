// Package apptest runs herald inside a test, built by app.Open exactly as
// "herald serve" builds it: on a fresh database of the test's kind (SQLite,
// or a PostgreSQL schema of its own), on a queue of its own (the Redis of
// HERALD_TEST_REDIS_URL or an embedded one), sending to an in-process SMTP
// server, with a clock the test moves and logs that go to t.Log. Its
// helpers wait for conditions with a deadline, never a bare sleep.
package apptest

import (
	"cmp"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/queuetest"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

// From is the sender of the test's mail.
const From = "Vendor Updates <updates@vendor.test>"

// Options say what a test needs running.
type Options struct {
	// Database is where herald keeps its data (default SQLite).
	Database dbtest.Database
	// DatabaseURL, when set, is a database to open again instead of a
	// fresh one: another herald's, to restart it.
	DatabaseURL string
	// Config changes the test's configuration before herald is built.
	Config func(*config.Config)
	// SMTP sets up the SMTP server (its failures on command) before
	// anything is sent.
	SMTP func(*smtptest.Server)
	// Workers starts the workers; API serves the admin API; Public also
	// serves the public pages on a listener of their own
	// (HERALD_PUBLIC_ADDR), at PublicURL.
	Workers, API, Public bool
	// Breaker tunes the workers' relay breaker.
	Breaker worker.BreakerConfig
	// HeaderTimeout and PageTimeout shorten the HTTP server's limits.
	HeaderTimeout, PageTimeout time.Duration
	// Log, if set, receives herald's log (at debug level) besides t.Log.
	Log io.Writer
	// PollInterval is how often idle workers look for tasks (default
	// 50ms; benchmarks set herald's own default).
	PollInterval time.Duration
	// WebhookFetcher stands in for AWS's SNS.
	WebhookFetcher inbound.Fetcher
}

// Bundle is herald running for one test.
type Bundle struct {
	*app.App
	SMTP     *smtptest.Server
	Clock    *Clock
	Queue    *queue.Queue
	Kinds    *kinds.Registry
	Renderer *templates.Renderer
	Jobs     *scheduler.Jobs
	Relay    *relay.Relay
	Runner   *scheduler.Runner
	// URL is the base of the API, and Token an admin token for it, when
	// the API is served.
	URL, Token string
	// PublicURL is the base of the public listener, when it is served.
	PublicURL string
}

// Start builds herald for t and starts what opts asks for; it is stopped
// when the test ends.
func Start(t testing.TB, opts Options) *Bundle {
	t.Helper()
	if opts.Database.Name == "" {
		opts.Database = dbtest.SQLite
	}
	ctx := context.Background()
	b := &Bundle{SMTP: smtptest.Start(t), Clock: &Clock{}}
	if opts.SMTP != nil {
		opts.SMTP(b.SMTP)
	}
	var ln net.Listener
	if opts.API {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		b.URL = "http://" + ln.Addr().String()
		b.Token = "hrld_test_" + rand.Text()
	}
	var pln net.Listener
	if opts.Public {
		var err error
		if pln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		b.PublicURL = "http://" + pln.Addr().String()
	}
	cfg := b.config(t, opts)
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	logTo := logWriter(t)
	if opts.Log != nil {
		logTo = io.MultiWriter(logTo, opts.Log)
	}
	a, err := app.Open(ctx, cfg, app.Options{
		Logger:         slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:            b.Clock.Now,
		QueueName:      queuetest.Name(),
		PollInterval:   cmp.Or(opts.PollInterval, 50*time.Millisecond),
		Breaker:        opts.Breaker,
		HeaderTimeout:  opts.HeaderTimeout,
		PageTimeout:    opts.PageTimeout,
		WebhookFetcher: opts.WebhookFetcher,
	})
	if err != nil {
		t.Fatalf("open herald: %v", err)
	}
	b.App = a
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close herald: %v", err)
		}
	})
	if b.Queue, err = a.OpenQueue(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Kinds, err = a.OpenKinds(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Renderer, err = a.OpenRenderer(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Relay, err = a.OpenRelay(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Jobs, b.Runner, err = a.OpenJobs(ctx); err != nil {
		t.Fatal(err)
	}
	if opts.Workers {
		if err := a.StartWorkers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if opts.API {
		if err := a.ServeAPI(ctx, ln); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Public {
		if err := a.ServePublic(ctx, pln); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// config is the test's configuration before opts.Config: small chunks,
// quick retries, four SMTP connections to the test's server.
func (b *Bundle) config(t testing.TB, opts Options) config.Config {
	cfg := config.Default()
	cfg.Database.URL = opts.DatabaseURL
	if cfg.Database.URL == "" {
		cfg.Database.URL = opts.Database.URL(t)
	}
	cfg.Queue.RedisURL = queuetest.URL()
	cfg.Mail.SMTPURL = "smtp://127.0.0.1:" + b.SMTP.Port() + "?tls=none"
	cfg.Mail.OutboxDir = t.TempDir()
	cfg.Mail.From = From
	cfg.Worker.Concurrency = 4
	cfg.Worker.ChunkSize = 50
	cfg.Worker.SendMaxAttempts = 5
	cfg.Worker.SendRetryBase = 20 * time.Millisecond
	cfg.Scheduler.ReconcileInterval = time.Second
	cfg.HTTP.ShutdownTimeout = 10 * time.Second
	if opts.API {
		cfg.HTTP.AdminToken = b.Token
		cfg.Lists.PublicURL = b.URL
	}
	if b.PublicURL != "" {
		cfg.HTTP.PublicAddr = strings.TrimPrefix(b.PublicURL, "http://")
		cfg.Lists.PublicURL = b.PublicURL
	}
	return cfg
}
