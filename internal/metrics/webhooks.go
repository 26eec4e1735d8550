package metrics

import "github.com/prometheus/client_golang/prometheus"

// webhookCounters count what the sending services' webhooks bring.
type webhookCounters struct {
	events  *prometheus.CounterVec
	refused *prometheus.CounterVec
}

func newWebhookCounters() *webhookCounters {
	return &webhookCounters{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_webhook_events_total",
			Help: "Events from the sending services' webhooks, by source (postmark, sendgrid, mailgun, ses) and outcome: applied, not_applied (a repeat, or a delivery or recipient that does not match), unmatched (no verifiable reference to a delivery), ignored (not a bounce, delay or complaint).",
		}, []string{"source", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_webhook_refused_total",
			Help: "Webhook requests refused, by source and reason: unauthorized (unsigned or badly signed), malformed, too_large.",
		}, []string{"source", "reason"}),
	}
}

func (c *webhookCounters) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.events, c.refused}
}

// WebhookEvent counts one event of a webhook by its outcome.
func (m *Metrics) WebhookEvent(source, outcome string) {
	if m != nil {
		m.webhooks.events.WithLabelValues(source, outcome).Inc()
	}
}

// WebhookRefused counts one webhook request refused.
func (m *Metrics) WebhookRefused(source, reason string) {
	if m != nil {
		m.webhooks.refused.WithLabelValues(source, reason).Inc()
	}
}
