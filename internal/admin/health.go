package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/relay"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// checkTimeout is how long each readiness check may take: well within the
// 3 s that "herald healthcheck" waits for the answer.
const checkTimeout = 2 * time.Second

// readyz answers 200 when every dependency answers, else 503 naming those
// that did not. The relay is reported but never makes herald unready: a
// relay outage must not take the API, unsubscribe links and the portal out
// of a load balancer.
//
// The checks run at once, each with its own deadline, so that one that
// hangs does not use up another's time. The answer is public: it names a
// failing dependency and nothing more; its address and error go to the log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	wait, cancel := context.WithTimeout(r.Context(), checkTimeout+100*time.Millisecond)
	defer cancel()
	smtp := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		state := "unknown"
		if st, err := s.relay.Status(ctx); err == nil && st.State != relay.Unknown {
			state = map[relay.State]string{relay.Working: "ok", relay.Failing: "failing"}[st.State]
		}
		smtp <- state
	}()
	checks, ready := runChecks(r.Context(), s.checks, s.logger)
	state := "unknown"
	select {
	case state = <-smtp:
	case <-wait.Done():
	}
	writeJSON(w, readyStatus(ready), map[string]any{"ready": ready, "checks": checks, "smtp": state})
	return nil
}

// runChecks runs checks at once, each with its own deadline, and returns
// "ok" or "failing" for each and whether all passed. A check that ignores
// its deadline is failing once the deadline has passed; runChecks does not
// wait for it.
func runChecks(ctx context.Context, checks []Check, logger *slog.Logger) (map[string]string, bool) {
	type outcome struct {
		name string
		err  error
	}
	results := make(chan outcome, len(checks))
	for _, c := range checks {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			results <- outcome{c.Name, c.Check(ctx)}
		}()
	}
	wait, cancel := context.WithTimeout(ctx, checkTimeout+100*time.Millisecond)
	defer cancel()
	answers := make(map[string]string, len(checks))
	for _, c := range checks {
		answers[c.Name] = "failing"
	}
	ready := true
	for pending := len(checks); pending > 0; pending-- {
		select {
		case o := <-results:
			if o.err != nil {
				logger.Warn("readiness check failed", "check", o.name, "err", o.err)
				ready = false
				continue
			}
			answers[o.name] = "ok"
		case <-wait.Done():
			logger.Warn("readiness checks did not answer in time", "unanswered", pending, "timeout", checkTimeout)
			return answers, false
		}
	}
	return answers, ready
}

func readyStatus(ready bool) int {
	if ready {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// Probes serves what a process without the API (herald worker, herald
// scheduler) answers on HERALD_METRICS_ADDR: /metrics, /healthz and
// /readyz, as the API answers them, so that "herald healthcheck --metrics"
// and a load balancer probe it alike.
func Probes(m *metrics.Metrics, checks []Check, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		answers, ready := runChecks(r.Context(), checks, logger)
		writeJSON(w, readyStatus(ready), map[string]any{"ready": ready, "checks": answers})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w.Header())
		mux.ServeHTTP(w, r)
	})
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
