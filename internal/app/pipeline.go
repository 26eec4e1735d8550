package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
)

// pipeline is what the roles share beyond the stores and the queue: the
// mail transport, the kinds and their templates, the jobs and their runner.
type pipeline struct {
	sender      mailer.Sender
	unsubscribe *unsubscribe.Tokens
	kinds       *kinds.Registry
	renderer    *templates.Renderer
	jobs        *scheduler.Jobs
	runner      *scheduler.Runner
}

// Queue opens the work queue, once: the Redis of HERALD_REDIS_URL, or an
// embedded one.
func (a *App) Queue(ctx context.Context) (*queue.Queue, error) {
	if a.queue != nil {
		return a.queue, nil
	}
	q, err := queue.Open(ctx, a.Config.Queue.RedisURL, a.opts.QueueName, a.Logger)
	if err != nil {
		return nil, err
	}
	a.onClose("queue", func(context.Context) error { return q.Close() })
	a.queue = q
	return q, nil
}

// Kinds returns the registry of the kinds of announcement.
func (a *App) Kinds(ctx context.Context) (*kinds.Registry, error) {
	p, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	return p.kinds, nil
}

// Renderer returns the templates of every kind, parsed and checked.
func (a *App) Renderer(ctx context.Context) (*templates.Renderer, error) {
	p, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	return p.renderer, nil
}

// Jobs returns the scheduler's jobs and the runner that runs them.
func (a *App) Jobs(ctx context.Context) (*scheduler.Jobs, *scheduler.Runner, error) {
	p, err := a.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return p.jobs, p.runner, nil
}

// open opens the pipeline the first time a role asks for it.
func (a *App) open(ctx context.Context) (*pipeline, error) {
	if a.pipeline != nil {
		return a.pipeline, nil
	}
	cfg := a.Config
	p := &pipeline{}
	q, err := a.Queue(ctx)
	if err != nil {
		return nil, err
	}
	if p.sender, err = a.openSender(); err != nil {
		return nil, err
	}
	a.onClose("mail transport", func(context.Context) error { return p.sender.Close() })

	secret, err := unsubscribe.Secret(ctx, a.DB, cfg.Lists.Secret)
	if err != nil {
		return nil, err
	}
	p.unsubscribe = unsubscribe.New(secret)
	p.kinds, err = kinds.New(kinds.Deps{
		Contacts: a.Contacts, Billing: a.Billing, Unsubscribe: p.unsubscribe, Lists: cfg.Lists,
		PaymentURL: cfg.Billing.PaymentURLTemplate, From: cfg.Mail.From, Now: a.Now,
	})
	if err != nil {
		return nil, err
	}
	if p.renderer, err = templates.New(cfg.Templates.Dir, p.kinds.Templates()); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}

	p.runner = scheduler.NewRunner(scheduler.RunnerConfig{Redis: q.Redis(), Namespace: q.Name(), DB: a.DB, Logger: a.Logger, Metrics: a.Metrics})
	p.jobs = a.newJobs(q)
	a.pipeline = p
	return p, nil
}

// newJobs assembles the periodic jobs from the configuration.
func (a *App) newJobs(q *queue.Queue) *scheduler.Jobs {
	cfg := a.Config
	loc, _ := cfg.Scheduler.Location() // validated
	jobs := &scheduler.Jobs{
		Specs: scheduler.Specs{
			InvoiceReminders:  cfg.Scheduler.InvoiceReminders,
			Announcements:     cfg.Scheduler.Announcements,
			ReleaseFeeds:      cfg.Scheduler.ReleaseFeeds,
			Retention:         cfg.Scheduler.Retention,
			ReconcileInterval: cfg.Scheduler.ReconcileInterval,
		},
		Location:      loc,
		Ledger:        a.Ledger,
		Billing:       a.Billing,
		Queue:         q,
		Cadence:       billing.Cadence{Offsets: cfg.Billing.ReminderOffsets, AllFrom: cfg.Billing.ReminderAllFrom},
		Reconciler:    &scheduler.Reconciler{Ledger: a.Ledger, Queue: q, Grace: cfg.Scheduler.ReconcileInterval, Logger: a.Logger},
		RetentionDays: cfg.Scheduler.RetentionDays,
		Logger:        a.Logger,
		Now:           a.Now,
	}
	if len(cfg.Feeds.ReleaseFeeds) > 0 {
		feeds := make([]scheduler.Feed, len(cfg.Feeds.ReleaseFeeds))
		for i, f := range cfg.Feeds.ReleaseFeeds {
			feeds[i] = scheduler.Feed{Product: f.Product, URL: f.URL, Version: f.VersionPattern()}
		}
		jobs.Feeds = &scheduler.FeedPoller{Feeds: feeds, Ledger: a.Ledger, Queue: q, Logger: a.Logger,
			HTTP: &http.Client{Timeout: time.Minute}}
	}
	return jobs
}

// openSender returns the SMTP transport when HERALD_SMTP_URL is set, else
// the outbox.
func (a *App) openSender() (mailer.Sender, error) {
	cfg := a.Config
	var signer *gomail.DKIMSigner
	if d := cfg.DKIM; d.Domain != "" {
		var err error
		if signer, err = mailer.NewDKIM(d.Domain, d.Selector, d.KeyFile); err != nil {
			return nil, fmt.Errorf("HERALD_DKIM_KEY_FILE: %w", err)
		}
		a.Logger.Info("mail is DKIM-signed", "domain", d.Domain, "selector", d.Selector)
	}
	if cfg.Mail.SMTPURL == "" {
		a.Logger.Info("no HERALD_SMTP_URL: mail goes to the outbox", "dir", cfg.Mail.OutboxDir)
		return mailer.NewOutbox(cfg.Mail.OutboxDir, signer)
	}
	smtpCfg, err := mailer.ParseSMTPURL(cfg.Mail.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_SMTP_URL: %w", err)
	}
	smtpCfg.Connections = cfg.Mail.SMTPConnections
	smtpCfg.DKIM = signer
	return mailer.NewSMTP(smtpCfg)
}

// StartFanout enqueues the fan-out of a due announcement when this process
// shares the workers' queue, and reports whether it did. With the
// embedded Redis the queue lives inside "herald serve", whose reconciler
// picks the announcement up within HERALD_RECONCILE_INTERVAL.
func (a *App) StartFanout(ctx context.Context, id int64) bool {
	if a.Config.Queue.RedisURL == "" {
		return false
	}
	q, err := a.Queue(ctx)
	if err != nil {
		a.Logger.Warn("Redis cannot be reached; the reconciler will enqueue the announcement", "announcement", id, "err", err)
		return false
	}
	q.TryEnqueue(ctx, queue.NewFanoutTask(id), a.Logger)
	return true
}
