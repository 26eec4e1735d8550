// Package admin is herald's embedded HTTP API (/api/v1, documented by the
// OpenAPI document it serves), with bearer-token auth, and the unauthenticated
// health routes. Handlers are thin: they decode, call a domain package and
// encode; errors become statuses in one place (errors.go).
package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

// Body limits of API.md.
const (
	maxJSONBody = 1 << 20
	maxCSVBody  = 32 << 20
)

// Check is a readiness probe of one dependency, such as the database.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server serves the admin API.
type Server struct {
	metrics     *metrics.Metrics
	tester      *worker.Tester
	control     *worker.Control
	unsubscribe *unsubscribe.Tokens
	billing     *billing.Billing
	relay       *relay.Relay
	kept        *bounce.KeptStore
	jobs        *scheduler.Jobs
	runner      *scheduler.Runner
	kinds       *kinds.Registry
	contacts    *contacts.Store
	ledger      *ledger.Ledger
	queue       *queue.Queue
	renderer    *templates.Renderer
	tokens      *auth.Tokens
	checks      []Check
	logger      *slog.Logger
	mux         *http.ServeMux
	openAPIDoc  []byte
	erasureKey  []byte
	webhooks    *inbound.Webhooks
}

// Deps are what the API serves from.
type Deps struct {
	// Metrics, if set, counts requests and is served at /metrics.
	Metrics *metrics.Metrics
	// Tester renders broadcasts for dry runs and sends test messages.
	Tester *worker.Tester
	// Control starts, cancels, pauses, resumes and retries announcements.
	Control *worker.Control
	// Unsubscribe checks the tokens of unsubscribe links.
	Unsubscribe *unsubscribe.Tokens
	Billing     *billing.Billing
	// Relay is the relay's state and the send rate, shared by every
	// process.
	Relay *relay.Relay
	// Jobs are the scheduler's jobs, listed and run now through Runner.
	Jobs     *scheduler.Jobs
	Runner   *scheduler.Runner
	Kinds    *kinds.Registry
	Contacts *contacts.Store
	Ledger   *ledger.Ledger
	Queue    *queue.Queue
	Renderer *templates.Renderer
	Tokens   *auth.Tokens
	Checks   []Check
	Logger   *slog.Logger
	// PageTimeout bounds whole requests to public pages (default
	// DefaultPageTimeout); tests shorten it.
	PageTimeout time.Duration
	// Pages, if set, serves the pages under /account and their assets
	// (the contacts portal).
	Pages http.Handler
	// ErasureKey hashes the addresses of people erased (keys.Erasure).
	ErasureKey []byte
	// Kept is the inbound mail kept for staff.
	Kept *bounce.KeptStore
	// Console, if set, serves the staff console under /console. It is
	// never on the public listener: Public serves only public paths.
	Console http.Handler
	// Webhooks, if set, serves the sending services' webhooks under
	// /webhooks/ (public paths) and the SES subscriptions of the API.
	Webhooks *inbound.Webhooks
}

// route is one entry of the API; the table below is the single list of
// what the server answers, which the OpenAPI test checks against.
type route struct {
	method, pattern string
	public          bool // served without a token
	handle          func(s *Server, w http.ResponseWriter, r *http.Request) error
}

var routes = []route{
	{"GET", "/healthz", true, (*Server).healthz},
	{"GET", "/readyz", true, (*Server).readyz},
	{"GET", "/metrics", true, (*Server).serveMetrics},
	{"GET", "/api/v1/openapi.json", true, (*Server).openAPI},
	{"GET", "/unsubscribe/{token}", true, (*Server).unsubscribeForm},
	{"POST", "/unsubscribe/{token}", true, (*Server).unsubscribeNow},

	{"POST", "/api/v1/licenses", false, (*Server).createLicense},
	{"GET", "/api/v1/licenses", false, (*Server).listLicenses},
	{"GET", "/api/v1/licenses/{id}", false, (*Server).getLicense},
	{"PATCH", "/api/v1/licenses/{id}", false, (*Server).updateLicense},
	{"DELETE", "/api/v1/licenses/{id}", false, (*Server).deleteLicense},
	{"POST", "/api/v1/licenses/{id}/contacts", false, (*Server).addContact},
	{"POST", "/api/v1/licenses/{id}/contacts/{email}/promote", false, (*Server).promoteContact},
	{"DELETE", "/api/v1/licenses/{id}/contacts/{email}", false, (*Server).removeContact},
	{"GET", "/api/v1/licenses/{id}/audit", false, (*Server).licenseAudit},
	{"GET", "/api/v1/audit", false, (*Server).listAudit},

	{"GET", "/api/v1/contacts", false, (*Server).listContacts},
	{"GET", "/api/v1/contacts/export", false, (*Server).exportContacts},
	{"POST", "/api/v1/contacts/import", false, (*Server).importContacts},
	{"GET", "/api/v1/contacts/{email}", false, (*Server).getContact},
	{"PATCH", "/api/v1/contacts/{email}", false, (*Server).updateContact},
	{"DELETE", "/api/v1/contacts/{email}", false, (*Server).eraseContact},
	{"GET", "/api/v1/contacts/{email}/deliveries", false, (*Server).contactDeliveries},

	{"GET", "/api/v1/products", false, (*Server).listProducts},
	{"GET", "/api/v1/products/{key}", false, (*Server).getProduct},
	{"PUT", "/api/v1/products/{key}", false, (*Server).putProduct},

	{"GET", "/api/v1/suppressions", false, (*Server).listSuppressions},
	{"DELETE", "/api/v1/suppressions/{email}", false, (*Server).liftSuppression},

	{"GET", "/api/v1/inbound/kept", false, (*Server).listKept},
	{"GET", "/api/v1/inbound/kept/{id}", false, (*Server).getKept},

	{"POST", "/api/v1/releases", false, (*Server).createRelease},
	{"GET", "/api/v1/releases", false, (*Server).listReleases},

	{"GET", "/api/v1/announcements", false, (*Server).listAnnouncements},
	{"GET", "/api/v1/announcements/{id}", false, (*Server).getAnnouncement},
	{"GET", "/api/v1/announcements/{id}/deliveries", false, (*Server).listDeliveries},
	{"POST", "/api/v1/announcements/{id}/cancel", false, (*Server).cancelAnnouncement},
	{"POST", "/api/v1/announcements/{id}/retry-failed", false, (*Server).retryFailed},
	{"POST", "/api/v1/announcements/{id}/pause", false, (*Server).pauseAnnouncement},
	{"POST", "/api/v1/announcements/{id}/resume", false, (*Server).resumeAnnouncement},

	{"GET", "/api/v1/relay", false, (*Server).relayState},

	{"PUT", "/api/v1/invoices/{number}", false, (*Server).putInvoice},
	{"GET", "/api/v1/invoices/{number}", false, (*Server).getInvoice},
	{"GET", "/api/v1/invoices", false, (*Server).listInvoices},

	{"GET", "/api/v1/jobs", false, (*Server).listJobs},
	{"POST", "/api/v1/jobs/invoice-reminders", false, (*Server).runInvoiceReminders},
	{"POST", "/api/v1/jobs/release-feeds", false, (*Server).runReleaseFeeds},

	{"POST", "/api/v1/broadcasts", false, (*Server).createBroadcast},
	{"POST", "/api/v1/broadcasts/test", false, (*Server).testBroadcast},

	{"GET", "/api/v1/webhooks/ses/subscriptions", false, (*Server).listSESSubscriptions},
	{"POST", "/api/v1/webhooks/ses/subscriptions/{id}/confirm", false, (*Server).confirmSESSubscription},

	{"GET", "/api/v1/templates", false, (*Server).listTemplates},
	{"POST", "/api/v1/templates/{name}/preview", false, (*Server).previewTemplate},
}

// New returns the API server.
func New(deps Deps) (*Server, error) {
	s := &Server{
		metrics:     deps.Metrics,
		tester:      deps.Tester,
		control:     deps.Control,
		unsubscribe: deps.Unsubscribe,
		billing:     deps.Billing,
		relay:       deps.Relay,
		kept:        deps.Kept,
		jobs:        deps.Jobs,
		runner:      deps.Runner,
		kinds:       deps.Kinds,
		contacts:    deps.Contacts,
		ledger:      deps.Ledger,
		queue:       deps.Queue,
		renderer:    deps.Renderer,
		tokens:      deps.Tokens,
		checks:      deps.Checks,
		logger:      deps.Logger,
		erasureKey:  deps.ErasureKey,
		webhooks:    deps.Webhooks,
		mux:         http.NewServeMux(),
	}
	pageTimeout := deps.PageTimeout
	if pageTimeout <= 0 {
		pageTimeout = DefaultPageTimeout
	}
	for _, rt := range routes {
		h := s.handler(rt)
		if !rt.public {
			h = s.authenticate(h)
		}
		if publicPages[rt.pattern] {
			h = web.WithDeadline(pageTimeout, h)
		}
		s.mux.Handle(rt.method+" "+rt.pattern, h)
	}
	if deps.Pages != nil {
		pages := web.WithDeadline(pageTimeout, deps.Pages)
		for _, prefix := range pagePrefixes {
			s.mux.Handle(prefix, pages)
		}
	}
	if deps.Webhooks != nil {
		// A sending service's post is small and quick: the page timeout.
		s.mux.Handle("/webhooks/", web.WithDeadline(pageTimeout, deps.Webhooks))
	}
	if deps.Console != nil {
		console := web.WithDeadline(pageTimeout, deps.Console)
		s.mux.Handle("/console", console)
		s.mux.Handle("/console/", console)
	}
	var err error
	if s.openAPIDoc, err = openAPIFor(deps.Kinds.Names()); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return s, nil
}

// ServeHTTP serves a request: through the route table, or as a JSON 404 or
// 405 under /api/v1 when no route matches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	secureHeaders(w.Header())
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	route := "unmatched" // a route pattern, never a raw path: bounded label values
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("panic serving request", "method", r.Method, "path", loggedPath(r.URL.Path), "panic", p, "stack", stack())
			if !sw.wrote {
				writeJSONError(sw, http.StatusInternalServerError, "internal", "internal error", "")
			}
		}
		s.logger.Debug("request", "method", r.Method, "path", loggedPath(r.URL.Path), "status", sw.status, "took", time.Since(start))
		s.metrics.Request(route, sw.status, time.Since(start))
	}()
	// PostgreSQL refuses NUL and invalid UTF-8 in text; SQLite stores them.
	// Refuse them here, for both, rather than as a database error.
	if strings.HasPrefix(r.URL.Path, "/api/") && (!cleanText(r.URL.Path) || !cleanText(r.URL.RawQuery) || !cleanQuery(r)) {
		writeJSONError(sw, http.StatusBadRequest, "invalid", "the path or query holds a NUL character or invalid UTF-8", "")
		return
	}
	// The mux sets path values only when it serves the request itself, so
	// it serves every routed request; Handler is asked only to tell a miss.
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.noRoute(h).ServeHTTP(sw, r)
		return
	}
	route = pattern
	s.mux.ServeHTTP(sw, r)
}

// handler adapts a route's handler, which returns an error. Under /api/ it
// refuses first the query parameters the route does not take (queryOf);
// the public pages outside it ignore them, as links in mail pick up
// tracking parameters on the way.
func (s *Server) handler(rt route) http.Handler {
	accepted, strict := queryOf[rt.method+" "+rt.pattern], strings.HasPrefix(rt.pattern, "/api/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strict {
			if err := checkQuery(r.URL, accepted); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cleanText reports whether s is UTF-8 without NUL characters.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// cleanQuery checks the decoded query values.
func cleanQuery(r *http.Request) bool {
	for key, values := range r.URL.Query() {
		if !cleanText(key) {
			return false
		}
		for _, v := range values {
			if !cleanText(v) {
				return false
			}
		}
	}
	return true
}
