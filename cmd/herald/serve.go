package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/admin"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

// ServeCmd runs every role in one process.
type ServeCmd struct{}

func (c *ServeCmd) Run(ctx context.Context, env *Env) error {
	return run(ctx, env, roles{api: true, worker: true, scheduler: true})
}

// APICmd runs the admin API alone.
type APICmd struct{}

func (c *APICmd) Run(ctx context.Context, env *Env) error { return run(ctx, env, roles{api: true}) }

// WorkerCmd runs the workers alone.
type WorkerCmd struct{}

func (c *WorkerCmd) Run(ctx context.Context, env *Env) error {
	return run(ctx, env, roles{worker: true})
}

// SchedulerCmd runs the scheduler alone.
type SchedulerCmd struct{}

func (c *SchedulerCmd) Run(ctx context.Context, env *Env) error {
	return run(ctx, env, roles{scheduler: true})
}

type roles struct{ api, worker, scheduler bool }

// run starts the roles asked for and runs until ctx is cancelled (SIGINT,
// SIGTERM), then stops them in reverse order: the API stops taking
// requests, the scheduler stops enqueueing, the workers finish what they
// hold, and the connections close.
func run(ctx context.Context, env *Env, r roles) error {
	cfg := env.cfg
	if cfg.Queue.RedisURL == "" && !(r.api && r.worker && r.scheduler) {
		return errors.New("HERALD_REDIS_URL is required to run the api, worker or scheduler role alone: " +
			"the embedded Redis lives inside one process; use \"herald serve\" or set HERALD_REDIS_URL")
	}
	d, err := env.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()

	q, err := queue.Open(ctx, cfg.Queue.RedisURL, "", env.logger)
	if err != nil {
		return err
	}
	defer q.Close()

	renderer, err := templates.New(cfg.Templates.Dir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	store := contacts.NewStore(d, env.now)
	led := ledger.New(d, env.now)

	var stops []func(context.Context) error
	stopAll := func() error {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](shutdownCtx))
		}
		return errors.Join(errs...)
	}
	fatal := make(chan error, 1)

	if r.worker {
		sender, err := openSender(env)
		if err != nil {
			return err
		}
		stops = append(stops, func(context.Context) error { return sender.Close() })
		mux, err := worker.NewMux(worker.Config{
			ChunkSize:   cfg.Worker.ChunkSize,
			Lease:       cfg.Worker.SendLease,
			MaxAttempts: cfg.Worker.SendMaxAttempts,
			RetryBase:   cfg.Worker.SendRetryBase,
			From:        cfg.Mail.From,
		}, worker.Deps{Ledger: led, Contacts: store, Queue: q, Renderer: renderer, Sender: sender, Logger: env.logger, Now: env.now})
		if err != nil {
			return err
		}
		srv := q.NewServer(queue.ServerConfig{Concurrency: cfg.Worker.Concurrency, ShutdownTimeout: cfg.HTTP.ShutdownTimeout, Logger: env.logger})
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		stops = append(stops, func(context.Context) error { srv.Shutdown(); return nil })
		env.logger.Info("workers started", "concurrency", cfg.Worker.Concurrency)
	}

	if r.scheduler {
		sched, err := startScheduler(ctx, env, led, q)
		if err != nil {
			_ = stopAll()
			return err
		}
		stops = append(stops, func(ctx context.Context) error { sched.Stop(ctx); return nil })
	}

	if r.api {
		tokens := auth.NewTokens(d, env.now)
		if err := ensureToken(ctx, env, tokens); err != nil {
			_ = stopAll()
			return err
		}
		api := admin.New(admin.Deps{
			Contacts: store, Ledger: led, Queue: q, Renderer: renderer, Tokens: tokens,
			Checks: []admin.Check{{Name: "database", Check: d.PingContext}, {Name: "redis", Check: q.Ping}},
			Logger: env.logger,
		})
		srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		ln, err := net.Listen("tcp", cfg.HTTP.Addr)
		if err != nil {
			_ = stopAll()
			return fmt.Errorf("HERALD_HTTP_ADDR: %w", err)
		}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				fatal <- fmt.Errorf("serve: %w", err)
			}
		}()
		stops = append(stops, srv.Shutdown)
		env.logger.Info("herald is serving", "addr", ln.Addr().String(), "database", string(d.Dialect))
	}

	var runErr error
	select {
	case runErr = <-fatal:
	case <-ctx.Done():
		env.logger.Info("shutting down", "grace", cfg.HTTP.ShutdownTimeout)
	}
	if err := stopAll(); err != nil {
		return errors.Join(runErr, fmt.Errorf("shut down: %w", err))
	}
	if runErr == nil {
		env.logger.Info("stopped")
	}
	return runErr
}

// startScheduler reconciles once, at once (a restart finds what the last
// run left), then on its interval.
func startScheduler(ctx context.Context, env *Env, led *ledger.Ledger, q *queue.Queue) (*scheduler.Scheduler, error) {
	rec := &scheduler.Reconciler{Ledger: led, Queue: q, Grace: env.cfg.Scheduler.ReconcileInterval, Logger: env.logger}
	if res, err := rec.Run(ctx); err != nil {
		env.logger.Error("reconcile at start failed", "err", err)
	} else {
		env.logger.Info("reconciled at start", "result", res.String())
	}
	loc, _ := env.cfg.Scheduler.Location() // validated
	sched, err := scheduler.New([]scheduler.Job{{
		Name: "reconcile",
		Spec: "@every " + env.cfg.Scheduler.ReconcileInterval.String(),
		Run: func(ctx context.Context) (fmt.Stringer, error) {
			return rec.Run(ctx)
		},
	}}, loc, env.logger)
	if err != nil {
		return nil, err
	}
	sched.Start()
	return sched, nil
}

// openSender returns the SMTP transport when HERALD_SMTP_URL is set, else
// the outbox.
func openSender(env *Env) (mailer.Sender, error) {
	if env.cfg.Mail.SMTPURL == "" {
		env.logger.Info("no HERALD_SMTP_URL: mail goes to the outbox", "dir", env.cfg.Mail.OutboxDir)
		return mailer.NewOutbox(env.cfg.Mail.OutboxDir)
	}
	smtpCfg, err := mailer.ParseSMTPURL(env.cfg.Mail.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_SMTP_URL: %w", err)
	}
	smtpCfg.Connections = env.cfg.Mail.SMTPConnections
	return mailer.NewSMTP(smtpCfg)
}

// ensureToken makes sure the API can be reached: it stores the token of
// HERALD_ADMIN_TOKEN, or on a first start with no token at all makes one and
// prints it, once.
func ensureToken(ctx context.Context, env *Env, tokens *auth.Tokens) error {
	if t := env.cfg.HTTP.AdminToken; t != "" {
		return tokens.Put(ctx, auth.EnvTokenName, t)
	}
	n, err := tokens.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := tokens.Create(ctx, "initial")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "herald: created the first admin API token; it is shown only this once:\n\n    %s\n\n"+
		"Use it as \"Authorization: Bearer <token>\". \"herald token create NAME\" makes more.\n", secret)
	return nil
}
