package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/admin"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/keys"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/portal"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/worker"
)

// Roles are what a process runs: "herald serve" runs them all, "herald
// api", "herald worker", "herald scheduler" and "herald inbound" one each.
type Roles struct {
	API, Workers, Scheduler bool
	// Inbound is the SMTP server for bounces and complaints; "herald
	// serve" runs it when HERALD_INBOUND_ADDR is set.
	Inbound bool
}

// All is every role, in one process.
var All = Roles{API: true, Workers: true, Scheduler: true, Inbound: true}

// Check says whether cfg can run roles: alone, a role that uses the queue
// needs a Redis that the others share; the inbound server alone needs its
// address.
func (r Roles) Check(cfg config.Config) error {
	if r == (Roles{Inbound: true}) {
		if cfg.Inbound.Addr == "" {
			return errors.New("HERALD_INBOUND_ADDR is required to run the inbound server (with HERALD_BOUNCE_DOMAIN)")
		}
		return nil
	}
	if cfg.Queue.RedisURL == "" && r != All {
		return errors.New("HERALD_REDIS_URL is required to run the api, worker or scheduler role alone: " +
			"the embedded Redis lives inside one process; use \"herald serve\" or set HERALD_REDIS_URL")
	}
	return nil
}

// Start starts roles, and the metrics listener when HERALD_METRICS_ADDR is
// set. What fails to start leaves what did start for Close.
func (a *App) Start(ctx context.Context, r Roles) error {
	if err := r.Check(a.Config); err != nil {
		return err
	}
	if r.Workers {
		if err := a.StartWorkers(ctx); err != nil {
			return err
		}
	}
	if r.Scheduler {
		if err := a.StartScheduler(ctx); err != nil {
			return err
		}
	}
	if r.API {
		if _, err := a.StartAPI(ctx); err != nil {
			return err
		}
	}
	if r.Inbound && a.Config.Inbound.Addr != "" {
		if _, err := a.StartInbound(ctx); err != nil {
			return err
		}
	}
	if a.Config.HTTP.MetricsAddr != "" {
		return a.StartMetrics(ctx)
	}
	return nil
}

// StartWorkers starts the asynq workers that fan out and send.
func (a *App) StartWorkers(ctx context.Context) error {
	q, err := a.OpenQueue(ctx)
	if err != nil {
		return err
	}
	m, err := a.openMessages(ctx)
	if err != nil {
		return err
	}
	sender, err := a.openSender()
	if err != nil {
		return err
	}
	r := a.openRelay(q)
	cfg := a.Config
	bc := a.opts.Breaker
	bc.From = cfg.Mail.From
	// The breaker checks the relay at once, in the background: a relay
	// that does not answer does not hold the process up, and no delivery
	// is tried until it takes herald's connection.
	breaker := worker.NewBreaker(bc, sender, r, a.Ledger, q, a.Logger, a.Metrics)
	breaker.Start()
	a.breaker = breaker
	a.onClose("relay watch", func(context.Context) error { breaker.Stop(); return nil })
	mux, err := worker.NewMux(worker.Config{
		ChunkSize:    cfg.Worker.ChunkSize,
		FanoutPage:   cfg.Worker.FanoutPage,
		Lease:        cfg.Worker.SendLease,
		MaxAttempts:  cfg.Worker.SendMaxAttempts,
		MaxThrottles: cfg.Worker.SendMaxThrottles,
		Unrecorded:   cfg.Worker.SendUnrecorded,
		RetryBase:    cfg.Worker.SendRetryBase,
		From:         cfg.Mail.From,
	}, worker.Deps{
		Ledger: a.Ledger, Contacts: a.Contacts, Kinds: m.kinds, Queue: q, Renderer: m.renderer,
		Sender: sender, Refs: m.refs, Relay: r, Breaker: breaker, Logger: a.Logger, Metrics: a.Metrics, Now: a.Now,
	})
	if err != nil {
		return err
	}
	srv := q.NewServer(queue.ServerConfig{Concurrency: cfg.Worker.Concurrency, ShutdownTimeout: cfg.HTTP.ShutdownTimeout,
		PollInterval: a.opts.PollInterval, Logger: a.Logger})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	a.onClose("workers", func(context.Context) error { srv.Shutdown(); return nil })
	a.Logger.Info("workers started", "concurrency", cfg.Worker.Concurrency)
	return nil
}

// StartScheduler reconciles once, at once (a restart finds what the last
// run left), then runs every job on its schedule.
func (a *App) StartScheduler(ctx context.Context) error {
	jobs, runner, err := a.OpenJobs(ctx)
	if err != nil {
		return err
	}
	if res, err := jobs.Reconciler.Run(ctx); err != nil {
		a.Logger.Error("reconcile at start failed", "err", err)
	} else {
		a.Logger.Info("reconciled at start", "result", res.String())
	}
	sched, err := scheduler.New(runner, jobs.Location, jobs.List())
	if err != nil {
		return fmt.Errorf("HERALD_SCHEDULE_*: %w", err)
	}
	sched.Start()
	a.onClose("scheduler", func(ctx context.Context) error { sched.Stop(ctx); return nil })
	return nil
}

// API returns the admin API's handler, built once.
func (a *App) API(ctx context.Context) (*admin.Server, error) {
	q, err := a.OpenQueue(ctx)
	if err != nil {
		return nil, err
	}
	m, err := a.openMessages(ctx)
	if err != nil {
		return nil, err
	}
	// The API sends too: staff's test broadcasts.
	tester, err := a.OpenTester(ctx)
	if err != nil {
		return nil, err
	}
	jobs, runner, err := a.OpenJobs(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.ensureToken(ctx); err != nil {
		return nil, err
	}
	if a.api != nil {
		return a.api, nil
	}
	pages, err := a.openPortal(ctx, q)
	if err != nil {
		return nil, err
	}
	secret, err := unsubscribe.Secret(ctx, a.DB, a.Config.Lists.Secret)
	if err != nil {
		return nil, err
	}
	erasureKey, err := keys.Derive(secret, keys.Erasure)
	if err != nil {
		return nil, err
	}
	hooks, err := a.openWebhooks(ctx, secret)
	if err != nil {
		return nil, err
	}
	r := a.openRelay(q)
	control := &worker.Control{Ledger: a.Ledger, Queue: q, Audit: a.Contacts, Logger: a.Logger}
	cons, err := a.openConsole(ctx, q, console.Deps{Control: control, Tester: tester, Kinds: m.kinds, Renderer: m.renderer, Relay: r, Jobs: jobs, Runner: runner, Tokens: a.Tokens})
	if err != nil {
		return nil, err
	}
	if a.breaker == nil {
		a.checkRelay(tester.Sender, r) // the workers' breaker checks it where they run
	}
	api, err := admin.New(admin.Deps{
		Metrics: a.Metrics, Billing: a.Billing, Contacts: a.Contacts, Ledger: a.Ledger, Queue: q,
		Renderer: m.renderer, Tokens: a.Tokens, Kinds: m.kinds, Jobs: jobs, Runner: runner,
		Tester:      tester,
		Control:     control,
		Unsubscribe: m.unsubscribe,
		Relay:       r,
		Kept:        a.Kept(),
		Checks:      a.readiness(q),
		Logger:      a.Logger,
		PageTimeout: a.opts.PageTimeout,
		Pages:       pages,
		ErasureKey:  erasureKey,
		Console:     cons,
		Webhooks:    hooks,
	})
	if err != nil {
		return nil, err
	}
	a.api = api
	return api, nil
}

// openWebhooks builds the sending services' webhooks.
func (a *App) openWebhooks(ctx context.Context, secret []byte) (*inbound.Webhooks, error) {
	cfg := a.Config.Webhooks
	sink, err := a.OpenBounceSink(ctx)
	if err != nil {
		return nil, err
	}
	// A webhook names its delivery by a signed Message-ID or token, which
	// need no bounce domain.
	refs, err := bounce.NewRefs(secret, "")
	if err != nil {
		return nil, err
	}
	return inbound.NewWebhooks(cfg, inbound.WebhookDeps{
		Sink: sink, Refs: refs, DB: a.DB, Fetcher: a.opts.WebhookFetcher, Audit: a.Contacts,
		Metrics: a.Metrics, Logger: a.Logger.With("component", "webhooks"), Now: a.Now,
	})
}

// SESSubscriptions returns the SES webhook's subscription confirmations,
// for staff to confirm from the command line.
func (a *App) SESSubscriptions() *inbound.Subscriptions {
	return inbound.NewSubscriptions(a.DB, a.Config.Webhooks.SESTopicARN, a.opts.WebhookFetcher, a.Contacts, a.Now)
}

// Sessions returns the portal's sessions and sign-in links.
func (a *App) Sessions() *web.Sessions {
	if a.sessions == nil {
		a.sessions = web.NewSessions(a.DB, web.RealmPortal, a.Config.Portal.SignInTTL, a.Config.Portal.SessionIdleTimeout, a.Now)
	}
	return a.sessions
}

// openPortal builds the contacts portal's pages.
func (a *App) openPortal(ctx context.Context, q *queue.Queue) (*portal.Portal, error) {
	secret, err := unsubscribe.Secret(ctx, a.DB, a.Config.Lists.Secret)
	if err != nil {
		return nil, err
	}
	formKey, err := keys.Derive(secret, keys.FormToken)
	if err != nil {
		return nil, err
	}
	return portal.New(portal.Deps{
		Store:          a.Contacts,
		Rules:          a.Contacts.Portal(a.Config.Contacts.PublicEmailDomains),
		Invoices:       a.Billing,
		Ledger:         a.Ledger,
		Queue:          q,
		Sessions:       a.Sessions(),
		Forms:          web.NewForms(formKey, a.Config.Lists.PublicURL),
		Limiter:        web.NewLimiter(q.Redis(), q.Name()),
		TrustedProxies: a.Config.HTTP.TrustedProxies,
		LinkTTL:        a.Config.Portal.SignInTTL,
		Logger:         a.Logger.With("component", "portal"),
	})
}

// openConsole builds the staff console's pages; ops are what it shares
// with the admin API: the tester, the templates, the relay, the jobs and
// the API's tokens.
func (a *App) openConsole(ctx context.Context, q *queue.Queue, ops console.Deps) (*console.Console, error) {
	secret, err := unsubscribe.Secret(ctx, a.DB, a.Config.Lists.Secret)
	if err != nil {
		return nil, err
	}
	formKey, err := keys.Derive(secret, keys.FormToken)
	if err != nil {
		return nil, err
	}
	erasureKey, err := keys.Derive(secret, keys.Erasure)
	if err != nil {
		return nil, err
	}
	return console.New(console.Deps{
		Control:        ops.Control,
		Tester:         ops.Tester,
		Kinds:          ops.Kinds,
		Renderer:       ops.Renderer,
		Relay:          ops.Relay,
		Jobs:           ops.Jobs,
		Runner:         ops.Runner,
		Tokens:         ops.Tokens,
		ErasureKey:     erasureKey,
		Staff:          a.Staff(),
		Contacts:       a.Contacts,
		Billing:        a.Billing,
		Sessions:       a.ConsoleSessions(),
		Forms:          web.NewForms(formKey, a.Config.HTTP.InternalURL()),
		Ledger:         a.Ledger,
		Queue:          q,
		Limiter:        web.NewLimiter(q.Redis(), q.Name()),
		TrustedProxies: a.Config.HTTP.TrustedProxies,
		LinkTTL:        a.Config.Portal.SignInTTL,
		Logger:         a.Logger.With("component", "console"),
	})
}

// StartAPI serves the admin API on HERALD_HTTP_ADDR, and the public pages
// on HERALD_PUBLIC_ADDR when it is set, and returns the address of the
// API.
func (a *App) StartAPI(ctx context.Context) (net.Addr, error) {
	ln, err := net.Listen("tcp", a.Config.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("HERALD_HTTP_ADDR: %w", err)
	}
	if err := a.ServeAPI(ctx, ln); err != nil {
		ln.Close()
		return nil, err
	}
	if addr := a.Config.HTTP.PublicAddr; addr != "" {
		pln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("HERALD_PUBLIC_ADDR: %w", err)
		}
		if err := a.ServePublic(ctx, pln); err != nil {
			pln.Close()
			return nil, err
		}
	}
	return ln.Addr(), nil
}

// ServePublic serves on ln only what the internet may reach (the contacts
// portal, unsubscribe links), which Close closes.
func (a *App) ServePublic(ctx context.Context, ln net.Listener) error {
	api, err := a.API(ctx)
	if err != nil {
		return err
	}
	// A public page is small: its whole request gets the page timeout.
	timeout := a.opts.PageTimeout
	if timeout <= 0 {
		timeout = admin.DefaultPageTimeout
	}
	a.serve("public pages", ln, api.Public(), timeout)
	a.Logger.Info("herald serves the public pages", "addr", ln.Addr().String())
	return nil
}

// ServeAPI serves the admin API on ln, which Close closes.
func (a *App) ServeAPI(ctx context.Context, ln net.Listener) error {
	h, err := a.API(ctx)
	if err != nil {
		return err
	}
	a.serve("API", ln, h, 2*time.Minute)
	a.Logger.Info("herald is serving", "addr", ln.Addr().String(), "database", string(a.DB.Dialect))
	return nil
}

// StartMetrics serves /metrics, /healthz and /readyz on
// HERALD_METRICS_ADDR, for processes without the API.
func (a *App) StartMetrics(ctx context.Context) error {
	q, err := a.OpenQueue(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Config.HTTP.MetricsAddr)
	if err != nil {
		return fmt.Errorf("HERALD_METRICS_ADDR: %w", err)
	}
	a.serve("metrics", ln, admin.Probes(a.Metrics, a.readiness(q), a.Logger), 0)
	a.Logger.Info("metrics are served", "addr", ln.Addr().String())
	return nil
}

// readiness is what /readyz checks: the database and Redis.
func (a *App) readiness(q *queue.Queue) []admin.Check {
	return []admin.Check{{Name: "database", Check: a.DB.PingContext}, {Name: "redis", Check: q.Ping}}
}

// serve serves h on ln until Close, which lets requests in flight finish.
func (a *App) serve(name string, ln net.Listener, h http.Handler, timeout time.Duration) {
	// A client that trickles its headers is cut off early; whole requests
	// get timeout, and public pages less (admin.DefaultPageTimeout).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: a.opts.HeaderTimeout, ReadTimeout: timeout, IdleTimeout: timeout}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.fail(fmt.Errorf("serve %s: %w", name, err))
		}
	}()
	a.onClose(name, srv.Shutdown)
}

// OpenRelay returns the relay's state and send rate, shared through the
// queue's Redis.
func (a *App) OpenRelay(ctx context.Context) (*relay.Relay, error) {
	q, err := a.OpenQueue(ctx)
	if err != nil {
		return nil, err
	}
	return a.openRelay(q), nil
}

// openRelay returns, once, the relay's state shared through the queue's
// Redis.
func (a *App) openRelay(q *queue.Queue) *relay.Relay {
	if a.relay == nil {
		a.relay = relay.New(q.Redis(), q.Name(), a.Config.Mail.SMTPRate)
	}
	return a.relay
}

// checkRelay tries the relay once, in the background, as a process that
// sends test messages but runs no workers starts: a failure is logged as
// an ERROR naming the setting to change, and shared as the relay's state
// (a success is not: the workers' view of the relay is the one that
// counts). It does not stop herald from starting.
func (a *App) checkRelay(sender mailer.Sender, r *relay.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := sender.Probe(ctx, a.Config.Mail.From)
		if err == nil || ctx.Err() != nil {
			return
		}
		e := mailer.Classify(err)
		a.Logger.Error("the relay does not take herald's connection", "err", err, "fix", e.Advice)
		if e.Relay {
			if serr := r.SetStatus(ctx, relay.Status{State: relay.Failing, Error: err.Error(), Advice: e.Advice}); serr != nil {
				a.Logger.Warn("could not share the relay's state", "err", serr)
			}
		}
	}()
	a.onClose("relay check", func(context.Context) error { cancel(); <-done; return nil })
}

// ensureToken makes sure the API can be reached. HERALD_ADMIN_TOKEN, when
// set, is checked in memory and not stored. Without it, a first start with
// no stored token makes one and prints it, once: the API would otherwise
// answer 401 to everyone until someone ran "herald token create" by hand.
// The token made is an ordinary stored one, which "herald token revoke"
// ends.
func (a *App) ensureToken(ctx context.Context) error {
	if a.Config.HTTP.AdminToken != "" {
		return nil
	}
	n, err := a.Tokens.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := a.Tokens.Create(ctx, "initial", contacts.Actor{Via: contacts.ViaCLI, Name: "herald (first start)"})
	if errors.Is(err, fault.ErrConflict) {
		return nil // another process starting at the same time made it
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.opts.Stdout, "herald: created the first admin API token; it is shown only this once:\n\n    %s\n\n"+
		"Use it as \"Authorization: Bearer <token>\". \"herald token create NAME\" makes more.\n", secret)
	return nil
}

// ConsoleSignInLink makes a single-use console sign-in link for a staff
// member, at HERALD_HTTP_ADDR (the console is never on the public
// listener).
func (a *App) ConsoleSignInLink(ctx context.Context, email string) (string, error) {
	m, err := a.Staff().Get(ctx, email)
	if errors.Is(err, staff.ErrNotFound) {
		return "", fault.NotFound("%s is not staff: add them with herald staff add", strings.ToLower(strings.TrimSpace(email)))
	}
	if err != nil {
		return "", err
	}
	token, err := a.ConsoleSessions().CreateLink(ctx, m.Email)
	if err != nil {
		return "", err
	}
	return a.Config.HTTP.InternalURL() + "/console/sign-in/" + token, nil
}

// ConsoleSessions returns the staff console's sessions and sign-in links
// (realm "console": a portal link or session never opens it).
func (a *App) ConsoleSessions() *web.Sessions {
	if a.consoleSessions == nil {
		a.consoleSessions = web.NewSessions(a.DB, web.RealmConsole, a.Config.Portal.SignInTTL, a.Config.Portal.SessionIdleTimeout, a.Now)
	}
	return a.consoleSessions
}

// Staff returns the console's staff; new members get HERALD_TIMEZONE.
func (a *App) Staff() *staff.Store {
	if a.staff == nil {
		a.staff = staff.NewStore(a.DB, a.ConsoleSessions(), a.Config.Scheduler.Timezone, a.Now)
	}
	return a.staff
}
