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
	type outcome struct {
		name string
		err  error
	}
	results := make(chan outcome, len(s.checks))
	for _, c := range s.checks {
		go func() {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			defer cancel()
			results <- outcome{c.Name, c.Check(ctx)}
		}()
	}
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

	// A check that ignores its deadline is failing once the deadline has
	// passed; the answer does not wait for it.
	wait, cancel := context.WithTimeout(r.Context(), checkTimeout+100*time.Millisecond)
	defer cancel()
	checks := make(map[string]string, len(s.checks))
	for _, c := range s.checks {
		checks[c.Name] = "failing"
	}
	status := http.StatusOK
collect:
	for pending := len(s.checks); pending > 0; pending-- {
		select {
		case o := <-results:
			if o.err != nil {
				s.logger.Warn("readiness check failed", "check", o.name, "err", o.err)
				status = http.StatusServiceUnavailable
				continue
			}
			checks[o.name] = "ok"
		case <-wait.Done():
			s.logger.Warn("readiness checks did not answer in time", "unanswered", pending, "timeout", checkTimeout)
			status = http.StatusServiceUnavailable
			break collect
		}
	}
	state := "unknown"
	select {
	case state = <-smtp:
	case <-wait.Done():
	}
	writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": checks, "smtp": state})
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
