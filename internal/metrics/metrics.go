// Package metrics holds herald's Prometheus metrics, in a registry of its
// own (no globals), served at GET /metrics.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/buildinfo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the process's metrics. A nil *Metrics records nothing, so
// that packages can be used without them (tests, one-off commands).
type Metrics struct {
	registry *prometheus.Registry

	deliveries   *prometheus.CounterVec
	sendDuration prometheus.Histogram
	tasks        *prometheus.CounterVec
	requests     *prometheus.CounterVec
	reqDuration  *prometheus.HistogramVec
	jobRuns      *prometheus.CounterVec
	relayUp      prometheus.Gauge
	throttled    prometheus.Counter
	inbound      *prometheus.CounterVec
	events       *prometheus.CounterVec
	webhooks     *webhookCounters

	backlogOnce sync.Once
}

// New returns the metrics, registered with the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_total",
			Help: "Outcomes of delivery attempts, by kind of announcement: sent, retry (a temporary failure), failed, skipped.",
		}, []string{"kind", "outcome"}),
		sendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_send_duration_seconds",
			Help:    "Time to hand one message to the mail transport, waiting for a connection included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_tasks_total",
			Help: "Queue tasks processed, by type and result (ok or error).",
		}, []string{"type", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total",
			Help: "HTTP requests, by route pattern and numeric status code.",
		}, []string{"route", "code"}),
		reqDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and numeric status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_job_runs_total",
			Help: "Scheduled job runs, by job and result (ok or error).",
		}, []string{"job", "result"}),
		relayUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_relay_up",
			Help: "1 while this process sends through the relay, 0 while the relay fails as a whole and sending is paused.",
		}),
		webhooks: newWebhookCounters(),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_smtp_throttled_total",
			Help: "Throttling replies from the relay; each lowers the shared send rate.",
		}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_inbound_messages_total",
			Help: "Messages the inbound SMTP server received, by outcome: applied (an event was recorded), kept (kept for staff: not parsed, not verified or not applied), too_large (refused), error (refused with a temporary error).",
		}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_events_total",
			Help: "Events recorded on deliveries for the first time (repeats are not counted), by kind (hard, soft, delay, complaint) and source (smtp, imap, postmark, sendgrid, mailgun, ses). Against herald_deliveries_total{outcome=\"sent\"}, the complaint and hard-bounce rates.",
		}, []string{"kind", "source"}),
	}
	build := buildinfo.Read()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_build_info",
		Help: "Always 1; its labels say which herald this process runs.",
		ConstLabels: prometheus.Labels{
			"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion,
		},
	})
	buildInfo.Set(1)
	m.registry.MustRegister(m.deliveries, m.sendDuration, m.tasks, m.requests, m.reqDuration, m.jobRuns, m.relayUp, m.throttled, m.inbound, m.events,
		buildInfo, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(m.webhooks.collectors()...)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Delivery counts the outcome of one delivery attempt.
func (m *Metrics) Delivery(kind, outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(kind, outcome).Inc()
	}
}

// Send records how long handing a message to the transport took.
func (m *Metrics) Send(seconds float64) {
	if m != nil {
		m.sendDuration.Observe(seconds)
	}
}

// Task counts a processed queue task.
func (m *Metrics) Task(taskType string, err error) {
	if m != nil {
		m.tasks.WithLabelValues(taskType, result(err)).Inc()
	}
}

// Request counts an HTTP request and how long it took.
func (m *Metrics) Request(route string, code int, took time.Duration) {
	if m != nil {
		c := strconv.Itoa(code)
		m.requests.WithLabelValues(route, c).Inc()
		m.reqDuration.WithLabelValues(route, c).Observe(took.Seconds())
	}
}

// JobRun counts a job run.
func (m *Metrics) JobRun(job string, err error) {
	if m != nil {
		m.jobRuns.WithLabelValues(job, result(err)).Inc()
	}
}

// RelayUp says whether this process sends through the relay.
func (m *Metrics) RelayUp(up bool) {
	if m != nil {
		v := 0.0
		if up {
			v = 1
		}
		m.relayUp.Set(v)
	}
}

// Throttled counts a throttling reply.
func (m *Metrics) Throttled() {
	if m != nil {
		m.throttled.Inc()
	}
}

// Inbound counts a message the inbound SMTP server received.
func (m *Metrics) Inbound(outcome string) {
	if m != nil {
		m.inbound.WithLabelValues(outcome).Inc()
	}
}

// DeliveryEvent counts an event (a bounce, a delay, a complaint) recorded
// on a delivery for the first time.
func (m *Metrics) DeliveryEvent(kind, source string) {
	if m != nil {
		m.events.WithLabelValues(kind, source).Inc()
	}
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
