package admin_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// scrape reads /metrics as Prometheus would.
func (b *testBundle) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	res := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/metrics"})
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// sample returns the metric of family name whose labels include labels.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetrics(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)

		t.Run("RequestsByRouteAndNumericCode", func(t *testing.T) {
			b.mustDo(t, http.StatusOK, request{method: "GET", path: "/healthz"})
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/licenses/SEN-404"})
			families := b.scrape(t)

			if m := sample(families, "herald_http_requests_total", map[string]string{"route": "GET /healthz", "code": "200"}); m.GetCounter().GetValue() != 1 {
				t.Errorf("herald_http_requests_total{route=GET /healthz,code=200} = %v, want 1", m)
			}
			if m := sample(families, "herald_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/licenses/{id}", "code": "404"}); m.GetHistogram().GetSampleCount() != 1 {
				t.Errorf("herald_http_request_duration_seconds{route=GET /api/v1/licenses/{id},code=404} = %v, want one observation", m)
			}
			for _, name := range []string{"herald_http_requests_total", "herald_http_request_duration_seconds"} {
				for _, m := range families[name].GetMetric() {
					for _, l := range m.GetLabel() {
						if _, err := strconv.Atoi(l.GetValue()); l.GetName() == "code" && err != nil {
							t.Errorf("%s has code label %q, want a number", name, l.GetValue())
						}
					}
				}
			}
		})

		t.Run("BuildInfo", func(t *testing.T) {
			m := sample(b.scrape(t), "herald_build_info", nil)
			if m.GetGauge().GetValue() != 1 {
				t.Fatalf("herald_build_info = %v, want 1", m)
			}
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["version"] == "" || labels["goversion"] == "" {
				t.Errorf("herald_build_info labels %v, want a version and a goversion", labels)
			}
		})

		t.Run("Backlog", func(t *testing.T) {
			// The relay holds every message until the test lets go, so
			// that the deliveries wait in "sending" and the send tasks in
			// "active".
			hold := make(chan struct{})
			b.SMTP.Data = func(int, []string) error { <-hold; return nil }
			released := false
			release := func() {
				if !released {
					released = true
					close(hold)
				}
			}
			t.Cleanup(release)

			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"9.4.0"}`})
			families := b.scrape(t)
			if m := sample(families, "herald_queue_tasks", map[string]string{"state": "pending"}); m.GetGauge().GetValue() != 1 {
				t.Errorf("before any worker runs: herald_queue_tasks{state=pending} = %v, want the one fan-out task", m)
			}
			if m := sample(families, "herald_deliveries_unfinished", map[string]string{"status": "pending"}); m == nil || m.GetGauge().GetValue() != 0 {
				t.Errorf("before the fan-out: herald_deliveries_unfinished{status=pending} = %v, want 0", m)
			}

			b.startWorkers(t)
			apptest.WaitFor(t, 30*time.Second, "a delivery held in sending, as the metrics see it", func() bool {
				m := sample(b.scrape(t), "herald_deliveries_unfinished", map[string]string{"status": "sending"})
				return m.GetGauge().GetValue() >= 1
			})
			release()
			apptest.WaitFor(t, 30*time.Second, "no delivery left unfinished", func() bool {
				families := b.scrape(t)
				pending := sample(families, "herald_deliveries_unfinished", map[string]string{"status": "pending"})
				sending := sample(families, "herald_deliveries_unfinished", map[string]string{"status": "sending"})
				return pending != nil && sending != nil && pending.GetGauge().GetValue()+sending.GetGauge().GetValue() == 0
			})
		})
	})
}
