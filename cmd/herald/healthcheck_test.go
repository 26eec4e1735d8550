package main_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/queue"
)

var metricsLine = regexp.MustCompile(`msg="metrics are served" addr=(\S+)`)

// TestHealthcheckOfAWorker probes a "herald worker", which has no API,
// where it answers: on HERALD_METRICS_ADDR. It is ready while its database
// and Redis answer, and says which one fails, and nothing more, when not.
func TestHealthcheckOfAWorker(t *testing.T) {
	t.Parallel()
	// A Redis of this test's own, which it stops.
	redis, err := queue.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(redis.Close)
	worker := start(t, t.TempDir(), "worker", metricsLine,
		"HERALD_DATABASE_URL="+migrated(t), "HERALD_REDIS_URL="+redis.URL(), "HERALD_METRICS_ADDR=127.0.0.1:0")
	probe := []string{"HERALD_METRICS_ADDR=" + worker.addr}

	if code, out, errOut := run(t, probe, "healthcheck", "--metrics"); code != 0 || out != "ready\n" {
		t.Errorf("healthcheck --metrics of a running worker: exit %d, %q, %q", code, out, errOut)
	}
	status, body := call(t, "GET", "http://"+worker.addr+"/readyz", "", "")
	if status != 200 || body != `{"checks":{"database":"ok","redis":"ok"},"ready":true}`+"\n" {
		t.Errorf("GET /readyz of a worker = %d %s", status, body)
	}
	if status, body := call(t, "GET", "http://"+worker.addr+"/metrics", "", ""); status != 200 || !strings.Contains(body, "herald_build_info{") {
		t.Errorf("GET /metrics of a worker = %d, without herald_build_info", status)
	}

	redis.Close()
	status, body = call(t, "GET", "http://"+worker.addr+"/readyz", "", "")
	if status != 503 || body != `{"checks":{"database":"ok","redis":"failing"},"ready":false}`+"\n" {
		t.Errorf("GET /readyz of a worker without Redis = %d %s", status, body)
	}
	if code, _, errOut := run(t, probe, "healthcheck", "--metrics"); code == 0 || !strings.Contains(errOut, "not ready") {
		t.Errorf("healthcheck --metrics of a worker without Redis: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, nil, "healthcheck", "--metrics"); code == 0 || !strings.Contains(errOut, "HERALD_METRICS_ADDR is not set") {
		t.Errorf("healthcheck --metrics without HERALD_METRICS_ADDR: exit %d, %q", code, errOut)
	}
}
