package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
)

// MaxWebhookBody bounds the body of one webhook request. SendGrid posts
// its events in batches of at most 768 KB, SNS messages are at most
// 256 KB, Postmark and Mailgun post one event at a time: 1 MiB holds the
// largest with room, and a larger body is refused with 413 before any of
// it is parsed.
const MaxWebhookBody = 1 << 20

// Sources of events, as bounce.Event.Source and the metrics name them.
const (
	SourcePostmark = "postmark"
	SourceSendGrid = "sendgrid"
	SourceMailgun  = "mailgun"
	SourceSES      = "ses"
)

// Webhooks serves POST /webhooks/{postmark,sendgrid,mailgun,ses}: each
// request is verified as its service signs it (401 otherwise, and nothing
// changes), parsed (400 when malformed), and each event in it that names
// a delivery herald can verify is recorded through the Sink. Events that
// name none are counted and answered 200 all the same: the service would
// otherwise retry them for days, and they would never verify.
type Webhooks struct {
	sink    bounce.Sink
	refs    *bounce.Refs
	metrics *metrics.Metrics
	logger  *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux

	postmark *postmarkAuth
	sendgrid *sendgridKey
	mailgun  *mailgunKey
	ses      *sesTopic
	// Subscriptions are the SES topic's subscription confirmations
	// awaiting staff.
	Subscriptions *Subscriptions
}

// WebhookDeps are what the webhooks use.
type WebhookDeps struct {
	// Sink records the events (the ledger).
	Sink bounce.Sink
	// Refs verifies the references that name deliveries.
	Refs *bounce.Refs
	// DB keeps Mailgun's seen tokens and the SES subscriptions.
	DB *db.DB
	// Fetcher fetches SNS signing certificates and follows SubscribeURLs
	// (default: HTTPFetcher). Tests swap it here, in code only.
	Fetcher Fetcher
	// Audit records who confirmed an SES subscription.
	Audit   Auditor
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// NewWebhooks returns the webhooks that cfg configures; a provider without
// its setting is not served (404).
func NewWebhooks(cfg config.Webhooks, deps WebhookDeps) (*Webhooks, error) {
	if deps.Sink == nil || deps.Refs == nil || deps.DB == nil {
		return nil, errors.New("webhooks: a sink, the references and the database are required")
	}
	if deps.Fetcher == nil {
		deps.Fetcher = NewHTTPFetcher()
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	w := &Webhooks{
		sink: deps.Sink, refs: deps.Refs, metrics: deps.Metrics, logger: deps.Logger, now: deps.Now,
		mux: http.NewServeMux(),
	}
	if cfg.PostmarkAuth != "" {
		w.postmark = newPostmarkAuth(cfg.PostmarkAuth)
		w.handle(SourcePostmark, w.postmarkEvents)
	}
	if cfg.SendGridKey != "" {
		key, err := cfg.SendGridPublicKey()
		if err != nil {
			return nil, fmt.Errorf("HERALD_SENDGRID_WEBHOOK_KEY: %w", err)
		}
		w.sendgrid = &sendgridKey{key: key}
		w.handle(SourceSendGrid, w.sendgridEvents)
	}
	if cfg.MailgunSigningKey != "" {
		w.mailgun = &mailgunKey{key: []byte(cfg.MailgunSigningKey), db: deps.DB}
		w.handle(SourceMailgun, w.mailgunEvents)
	}
	w.Subscriptions = NewSubscriptions(deps.DB, cfg.SESTopicARN, deps.Fetcher, deps.Audit, deps.Now)
	if cfg.SESTopicARN != "" {
		w.ses = &sesTopic{arn: cfg.SESTopicARN, certs: newCertCache(deps.Fetcher)}
		w.handle(SourceSES, w.sesEvents)
	}
	return w, nil
}

// ServeHTTP serves the configured webhooks; any other path is a 404.
func (w *Webhooks) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// Enabled reports whether any provider's webhook is configured.
func (w *Webhooks) Enabled() bool {
	return w.postmark != nil || w.sendgrid != nil || w.mailgun != nil || w.ses != nil
}

// report is one event a provider's request carries, not yet tied to a
// delivery: token (a signed delivery token from the service's metadata)
// or messageID (herald's signed Message-ID) names it.
type report struct {
	event     bounce.Event
	token     string
	messageID string
}

// events reads and verifies one provider's request and returns what it
// reports; an error is a webhookError (401, 400) or a failure (500).
type events func(ctx context.Context, r *http.Request, body []byte) ([]report, error)

// webhookError is a request refused: its status and a short message.
type webhookError struct {
	status  int
	code    string
	message string
}

func (e *webhookError) Error() string { return e.message }

// unauthorized refuses a request that is not signed as its service signs.
func unauthorized(format string, args ...any) error {
	return &webhookError{http.StatusUnauthorized, "unauthorized", fmt.Sprintf(format, args...)}
}

// malformed refuses a signed request that cannot be read.
func malformed(format string, args ...any) error {
	return &webhookError{http.StatusBadRequest, "invalid", fmt.Sprintf(format, args...)}
}

// handle serves source's webhook: POST only, the body capped, verified
// and parsed by read, and each event recorded.
func (w *Webhooks) handle(source string, read events) {
	w.mux.HandleFunc("/webhooks/"+source, func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", http.MethodPost)
			writeError(rw, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed; use POST")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxWebhookBody))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.metrics.WebhookRefused(source, "too_large")
			writeError(rw, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is too large: the limit is %d bytes", MaxWebhookBody))
			return
		}
		if err != nil {
			w.metrics.WebhookRefused(source, "malformed")
			writeError(rw, http.StatusBadRequest, "invalid", "the request body could not be read")
			return
		}
		reports, err := read(r.Context(), r, body)
		if err == nil {
			err = w.record(r.Context(), source, reports)
		}
		var we *webhookError
		switch {
		case errors.As(err, &we):
			reason := "malformed"
			if we.status == http.StatusUnauthorized {
				reason = "unauthorized"
			}
			w.metrics.WebhookRefused(source, reason)
			w.logger.Warn("webhook refused", "source", source, "status", we.status, "reason", we.message)
			writeError(rw, we.status, we.code, we.message)
		case err != nil:
			// The service retries: the events are recorded then, the
			// ones recorded now once (the sink dedupes).
			w.logger.Error("webhook failed", "source", source, "err", err)
			writeError(rw, http.StatusInternalServerError, "internal", "internal error; the server log has the details")
		default:
			rw.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(rw, `{"ok":true}`+"\n")
		}
	})
}

// record ties each report to its delivery and records it.
func (w *Webhooks) record(ctx context.Context, source string, reports []report) error {
	for _, rep := range reports {
		e := rep.event
		e.Source = source
		delivery, err := w.delivery(rep)
		if err != nil {
			w.metrics.WebhookEvent(source, "unmatched")
			w.logger.Info("webhook event names no delivery of herald's", "source", source, "event", e.EventID, "reason", err)
			continue
		}
		e.Delivery = delivery
		applied, reason, err := w.sink.Record(ctx, e)
		if err != nil {
			return fmt.Errorf("record %s event %s: %w", source, e.EventID, err)
		}
		outcome := "applied"
		if !applied {
			outcome = "not_applied"
			w.logger.Info("webhook event not applied", "source", source, "event", e.EventID, "delivery", delivery, "reason", reason)
		}
		w.metrics.WebhookEvent(source, outcome)
	}
	return nil
}

// delivery verifies the reference a report carries.
func (w *Webhooks) delivery(rep report) (int64, error) {
	if rep.token != "" {
		return w.refs.FromToken(rep.token)
	}
	if rep.messageID != "" {
		d, _, err := w.refs.FromMessageID(rep.messageID)
		return d, err
	}
	return 0, errors.New("it carries no Message-ID or token")
}

// ignored counts the events of a request that are not bounces, delays or
// complaints (deliveries, opens, clicks): the service's webhook may be set
// to send more than herald uses.
func (w *Webhooks) ignored(source string) { w.metrics.WebhookEvent(source, "ignored") }

func writeError(rw http.ResponseWriter, status int, code, message string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		rw.Header().Set("WWW-Authenticate", `Basic realm="herald webhooks"`)
	}
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// enhancedCode is the most precise enhanced status code of a report: its
// status field unless that says only the class (5.0.0, as SendGrid's
// often does), else the one the diagnostic quotes.
func enhancedCode(status, diagnostic string) string {
	status = strings.TrimSpace(status)
	valid := status != "" && bounce.CodeIn(status) == status
	if valid && !strings.HasSuffix(status, ".0.0") {
		return status
	}
	if code := bounce.CodeIn(diagnostic); code != "" {
		return code
	}
	if valid {
		return status
	}
	return ""
}

// failure fills in a bounce's code, diagnostic and whether its mailbox is
// gone, the same way for every provider.
func failure(e *bounce.Event, status, diagnostic string) {
	e.Diagnostic = bounce.Diagnostic(diagnostic)
	e.Code = enhancedCode(status, e.Diagnostic)
	e.Mailbox = e.Kind == bounce.Hard && mailer.MailboxGone(e.Code, e.Diagnostic)
}

// recipient is an address as the sink compares it.
func recipient(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// cleanID keeps a provider's event id short and printable: it is a key.
func cleanID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return ""
	}
	return s
}
