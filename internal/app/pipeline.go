package app

import (
	"context"
	"fmt"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

// OpenQueue opens the work queue, once: the Redis of HERALD_REDIS_URL, or
// an embedded one.
func (a *App) OpenQueue(ctx context.Context) (*queue.Queue, error) {
	if a.queue != nil {
		return a.queue, nil
	}
	q, err := queue.Open(ctx, a.Config.Queue.RedisURL, a.opts.QueueName, a.Logger)
	if err != nil {
		return nil, err
	}
	a.onClose("queue", func(context.Context) error { return q.Close() })
	a.queue = q
	a.Metrics.WatchBacklog(metrics.Backlog{Tasks: q.Depth, Deliveries: a.Ledger.Unfinished, Logger: a.Logger})
	return q, nil
}

// messages are what composing and rendering mail takes: the kinds, their
// templates, the key of unsubscribe links, and the references that tie
// what comes back to its delivery.
type messages struct {
	unsubscribe *unsubscribe.Tokens
	refs        *bounce.Refs
	kinds       *kinds.Registry
	renderer    *templates.Renderer
}

// OpenKinds returns the registry of the kinds of announcement, built once.
func (a *App) OpenKinds(ctx context.Context) (*kinds.Registry, error) {
	m, err := a.openMessages(ctx)
	if err != nil {
		return nil, err
	}
	return m.kinds, nil
}

// OpenBounceSink returns what records the bounces, delays and complaints
// that the inbound server and the webhooks verify: the ledger; each event
// it applies is counted.
func (a *App) OpenBounceSink(ctx context.Context) (bounce.Sink, error) {
	k, err := a.OpenKinds(ctx)
	if err != nil {
		return nil, err
	}
	return countedSink{ledger.NewBounces(a.Ledger, a.Contacts, k.OptOut), a.Metrics}, nil
}

// countedSink counts the events its sink applies
// (herald_delivery_events_total): both ways in (the inbound server and
// the webhooks) go through it, and a repeat, which the sink does not
// apply, is not counted again.
type countedSink struct {
	sink    bounce.Sink
	metrics *metrics.Metrics
}

// Record implements bounce.Sink.
func (s countedSink) Record(ctx context.Context, e bounce.Event) (bool, string, error) {
	applied, reason, err := s.sink.Record(ctx, e)
	if applied && err == nil {
		s.metrics.DeliveryEvent(string(e.Kind), e.Source)
	}
	return applied, reason, err
}

// OpenRefs returns the references signed into each message (its
// Message-ID, and its return path with HERALD_BOUNCE_DOMAIN), with the
// key derived from HERALD_SECRET.
func (a *App) OpenRefs(ctx context.Context) (*bounce.Refs, error) {
	m, err := a.openMessages(ctx)
	if err != nil {
		return nil, err
	}
	return m.refs, nil
}

// OpenRenderer returns the templates of every kind, parsed and checked
// once.
func (a *App) OpenRenderer(ctx context.Context) (*templates.Renderer, error) {
	m, err := a.openMessages(ctx)
	if err != nil {
		return nil, err
	}
	return m.renderer, nil
}

func (a *App) openMessages(ctx context.Context) (*messages, error) {
	if a.messages != nil {
		return a.messages, nil
	}
	cfg := a.Config
	secret, err := unsubscribe.Secret(ctx, a.DB, cfg.Lists.Secret)
	if err != nil {
		return nil, err
	}
	tokens, err := unsubscribe.New(secret)
	if err != nil {
		return nil, err
	}
	refs, err := bounce.NewRefs(secret, cfg.Inbound.BounceDomain)
	if err != nil {
		return nil, err
	}
	m := &messages{unsubscribe: tokens, refs: refs}
	m.kinds, err = kinds.New(kinds.Deps{
		Contacts: a.Contacts, Billing: a.Billing, Unsubscribe: m.unsubscribe, Lists: cfg.Lists,
		PaymentURL: cfg.Billing.PaymentURLTemplate, From: cfg.Mail.From, Now: a.Now,
		SignInLinks: a.Sessions(), SignInTTL: cfg.Portal.SignInTTL,
		Staff: a.Staff(), ConsoleLinks: a.ConsoleSessions(), ConsoleURL: cfg.HTTP.InternalURL(),
	})
	if err != nil {
		return nil, err
	}
	if m.renderer, err = templates.New(cfg.Templates.Dir, m.kinds.Templates()); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	a.messages = m
	return m, nil
}

// OpenJobs returns the scheduler's jobs and the runner that runs them,
// built once.
func (a *App) OpenJobs(ctx context.Context) (*scheduler.Jobs, *scheduler.Runner, error) {
	if a.jobs != nil {
		return a.jobs, a.runner, nil
	}
	q, err := a.OpenQueue(ctx)
	if err != nil {
		return nil, nil, err
	}
	a.runner = scheduler.NewRunner(scheduler.RunnerConfig{Redis: q.Redis(), Namespace: q.Name(), DB: a.DB, Logger: a.Logger, Metrics: a.Metrics, Audit: a.Contacts})
	a.jobs = a.newJobs(q)
	return a.jobs, a.runner, nil
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
			MaxBytes: int64(cfg.Feeds.MaxBytes), Timeout: cfg.Feeds.Timeout}
	}
	return jobs
}

// openSender opens, once, the SMTP transport when HERALD_SMTP_URL is set,
// else the outbox: only the roles that send (the workers, and the API for
// test sends) open it.
func (a *App) openSender() (mailer.Sender, error) {
	if a.sender != nil {
		return a.sender, nil
	}
	s, err := a.newSender()
	if err != nil {
		return nil, err
	}
	a.onClose("mail transport", func(context.Context) error { return s.Close() })
	a.sender = s
	return s, nil
}

func (a *App) newSender() (mailer.Sender, error) {
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
	q, err := a.OpenQueue(ctx)
	if err != nil {
		a.Logger.Warn("Redis cannot be reached; the reconciler will enqueue the announcement", "announcement", id, "err", err)
		return false
	}
	q.TryEnqueue(ctx, queue.NewFanoutTask(id), a.Logger)
	return true
}

// startAnnouncement enqueues the fan-out of an announcement made due by a
// request or command: on this process's queue when a role opened it (the
// API's queue is its workers'), else as StartFanout does for the command
// line. What cannot be enqueued now, the reconciler enqueues later.
func (a *App) startAnnouncement(ctx context.Context, id int64) {
	if a.queue != nil {
		a.queue.TryEnqueue(ctx, queue.NewFanoutTask(id), a.Logger)
		return
	}
	a.StartFanout(ctx, id)
}

// OpenTester returns what sends broadcasts to staff as tests: the API's
// POST /broadcasts/test and "herald broadcast test" both send through it.
func (a *App) OpenTester(ctx context.Context) (*worker.Tester, error) {
	t, err := a.Previewer(ctx)
	if err != nil {
		return nil, err
	}
	if t.Sender, err = a.openSender(); err != nil {
		return nil, err
	}
	return t, nil
}

// Previewer returns a Tester that renders broadcasts but cannot send them
// (no Sender): a dry run from the shell must not open the transport, which
// makes the outbox directory wherever it runs.
func (a *App) Previewer(ctx context.Context) (*worker.Tester, error) {
	m, err := a.openMessages(ctx)
	if err != nil {
		return nil, err
	}
	return &worker.Tester{From: a.Config.Mail.From, Kinds: m.kinds, Renderer: m.renderer, Now: a.Now}, nil
}
