package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/relay"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 when every dependency answers, else 503 naming those
// that did not. The relay is reported but never makes herald unready: a
// relay outage must not take the API, unsubscribe links and the portal out
// of a load balancer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := http.StatusOK
	checks := make(map[string]string, len(s.checks))
	for _, c := range s.checks {
		if err := c.Check(ctx); err != nil {
			s.logger.Warn("readiness check failed", "check", c.Name, "err", err)
			checks[c.Name] = err.Error()
			status = http.StatusServiceUnavailable
			continue
		}
		checks[c.Name] = "ok"
	}
	smtp := "unknown"
	if st, err := s.relay.Status(ctx); err == nil && st.State != relay.Unknown {
		smtp = map[relay.State]string{relay.Working: "ok", relay.Failing: "failing"}[st.State]
	}
	writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": checks, "smtp": smtp})
	return nil
}

// serveMetrics serves the Prometheus metrics; without metrics, a 404.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		http.NotFound(w, r)
		return nil
	}
	s.metrics.Handler().ServeHTTP(w, r)
	return nil
}
