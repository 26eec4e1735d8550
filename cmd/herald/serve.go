package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/admin"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/unsubscribe"
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
	m := metrics.New()
	bill := billing.New(d, led, env.now)
	jobs := newJobs(env, led, bill, q)

	var (
		stops   []func(context.Context) error
		stopped bool
	)
	stopAll := func() error {
		stopped = true
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](shutdownCtx))
		}
		return errors.Join(errs...)
	}
	// Whatever fails while starting stops what had started.
	defer func() {
		if !stopped {
			_ = stopAll()
		}
	}()
	fatal := make(chan error, 1)

	var (
		sender    mailer.Sender
		workerCfg worker.Config
		tokens    *unsubscribe.Tokens
	)
	if r.worker || r.api {
		// The API sends too: staff's test broadcasts.
		if sender, err = openSender(env); err != nil {
			return err
		}
		stops = append(stops, func(context.Context) error { return sender.Close() })
		secret, err := unsubscribe.Secret(ctx, d, cfg.Lists.Secret)
		if err != nil {
			return err
		}
		tokens = unsubscribe.New(secret)
		if workerCfg, err = newWorkerConfig(cfg, tokens); err != nil {
			return err
		}
	}

	if r.worker {
		mux, err := worker.NewMux(workerCfg,
			worker.Deps{Ledger: led, Contacts: store, Billing: bill, Queue: q, Renderer: renderer, Sender: sender, Logger: env.logger, Metrics: m, Now: env.now})
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
		sched, err := startScheduler(ctx, env, d, q, jobs, m)
		if err != nil {
			return err
		}
		stops = append(stops, func(ctx context.Context) error { sched.Stop(ctx); return nil })
	}

	if r.api {
		apiTokens := auth.NewTokens(d, env.now)
		if err := ensureToken(ctx, env, apiTokens); err != nil {
			return err
		}
		loc, _ := cfg.Scheduler.Location() // validated
		api := admin.New(admin.Deps{
			DB: d, Metrics: m, Billing: bill, Contacts: store, Ledger: led, Queue: q, Renderer: renderer, Tokens: apiTokens,
			Tester:      &worker.Tester{Config: workerCfg, Renderer: renderer, Sender: sender, Now: env.now},
			Unsubscribe: tokens,
			Jobs:        &admin.Jobs{Jobs: jobs, List: jobs.List(specs(cfg)), Location: loc, Record: scheduler.RecordRun(d)},
			Checks:      []admin.Check{{Name: "database", Check: d.PingContext}, {Name: "redis", Check: q.Ping}},
			Logger:      env.logger,
		})
		srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		ln, err := net.Listen("tcp", cfg.HTTP.Addr)
		if err != nil {
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

	if cfg.HTTP.MetricsAddr != "" {
		if err := serveMetrics(cfg.HTTP.MetricsAddr, m, &stops, fatal, env); err != nil {
			return err
		}
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

// serveMetrics serves /metrics and /healthz on addr, for processes without
// the API.
func serveMetrics(addr string, m *metrics.Metrics, stops *[]func(context.Context) error, fatal chan<- error, env *Env) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HERALD_METRICS_ADDR: %w", err)
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fatal <- fmt.Errorf("serve metrics: %w", err)
		}
	}()
	*stops = append(*stops, srv.Shutdown)
	env.logger.Info("metrics are served", "addr", ln.Addr().String())
	return nil
}

// newJobs assembles the periodic jobs from the configuration.
func newJobs(env *Env, led *ledger.Ledger, bill *billing.Billing, q *queue.Queue) *scheduler.Jobs {
	cfg := env.cfg
	jobs := &scheduler.Jobs{
		Ledger:        led,
		Billing:       bill,
		Queue:         q,
		Cadence:       billing.Cadence{Offsets: cfg.Billing.ReminderOffsets, AllFrom: cfg.Billing.ReminderAllFrom},
		Reconciler:    &scheduler.Reconciler{Ledger: led, Queue: q, Grace: cfg.Scheduler.ReconcileInterval, Logger: env.logger},
		RetentionDays: cfg.Scheduler.RetentionDays,
		Logger:        env.logger,
		Now:           env.now,
	}
	if len(cfg.Feeds.ReleaseFeeds) > 0 {
		jobs.Feeds = &scheduler.FeedPoller{
			Feeds: cfg.Feeds.ReleaseFeeds, Ledger: led, Queue: q, Logger: env.logger,
			HTTP: &http.Client{Timeout: time.Minute},
		}
	}
	return jobs
}

func specs(cfg config.Config) scheduler.Specs {
	return scheduler.Specs{
		InvoiceReminders:  cfg.Scheduler.InvoiceReminders,
		Announcements:     cfg.Scheduler.Announcements,
		ReleaseFeeds:      cfg.Scheduler.ReleaseFeeds,
		Retention:         cfg.Scheduler.Retention,
		ReconcileInterval: cfg.Scheduler.ReconcileInterval,
	}
}

// startScheduler reconciles once, at once (a restart finds what the last
// run left), then runs every job on its schedule.
func startScheduler(ctx context.Context, env *Env, d *db.DB, q *queue.Queue, jobs *scheduler.Jobs, m *metrics.Metrics) (*scheduler.Scheduler, error) {
	if res, err := jobs.Reconciler.Run(ctx); err != nil {
		env.logger.Error("reconcile at start failed", "err", err)
	} else {
		env.logger.Info("reconciled at start", "result", res.String())
	}
	loc, _ := env.cfg.Scheduler.Location() // validated
	sched, err := scheduler.New(scheduler.Config{Location: loc, Redis: q.Redis(), Namespace: q.Name(), DB: d, Logger: env.logger, Metrics: m}, jobs.List(specs(env.cfg)))
	if err != nil {
		return nil, fmt.Errorf("HERALD_SCHEDULE_*: %w", err)
	}
	sched.Start()
	return sched, nil
}

// paymentURL parses HERALD_PAYMENT_URL_TEMPLATE (validated with the
// configuration).
func paymentURL(text string) *template.Template {
	if text == "" {
		return nil
	}
	return template.Must(template.New("payment_url").Option("missingkey=error").Parse(text))
}

// newWorkerConfig is how messages are made, from the configuration.
func newWorkerConfig(cfg config.Config, tokens *unsubscribe.Tokens) (worker.Config, error) {
	domain, err := mailer.Domain(cfg.Mail.From)
	if err != nil {
		return worker.Config{}, fmt.Errorf("HERALD_FROM: %w", err)
	}
	replyTo := map[ledger.Kind]string{}
	for kind, addr := range map[ledger.Kind]string{
		ledger.KindRelease: cfg.Lists.ReplyToRelease, ledger.KindBroadcast: cfg.Lists.ReplyToBroadcast, ledger.KindInvoiceReminder: cfg.Lists.ReplyToInvoice,
	} {
		if addr != "" {
			replyTo[kind] = addr
		}
	}
	return worker.Config{
		ChunkSize:   cfg.Worker.ChunkSize,
		Lease:       cfg.Worker.SendLease,
		MaxAttempts: cfg.Worker.SendMaxAttempts,
		RetryBase:   cfg.Worker.SendRetryBase,
		From:        cfg.Mail.From,
		PaymentURL:  paymentURL(cfg.Billing.PaymentURLTemplate),
		Lists: &worker.Lists{
			Tokens:    tokens,
			PublicURL: strings.TrimRight(cfg.Lists.PublicURL, "/"),
			Mailto:    cfg.Lists.UnsubscribeMailto,
		},
		ListID:  "herald announcements <announcements." + domain + ">",
		ReplyTo: replyTo,
	}, nil
}

// openSender returns the SMTP transport when HERALD_SMTP_URL is set, else
// the outbox.
func openSender(env *Env) (mailer.Sender, error) {
	var signer *gomail.DKIMSigner
	if d := env.cfg.DKIM; d.Domain != "" {
		var err error
		if signer, err = mailer.NewDKIM(d.Domain, d.Selector, d.KeyFile); err != nil {
			return nil, fmt.Errorf("HERALD_DKIM_KEY_FILE: %w", err)
		}
		env.logger.Info("mail is DKIM-signed", "domain", d.Domain, "selector", d.Selector)
	}
	if env.cfg.Mail.SMTPURL == "" {
		env.logger.Info("no HERALD_SMTP_URL: mail goes to the outbox", "dir", env.cfg.Mail.OutboxDir)
		return mailer.NewOutbox(env.cfg.Mail.OutboxDir, signer)
	}
	smtpCfg, err := mailer.ParseSMTPURL(env.cfg.Mail.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_SMTP_URL: %w", err)
	}
	smtpCfg.Connections = env.cfg.Mail.SMTPConnections
	smtpCfg.DKIM = signer
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
