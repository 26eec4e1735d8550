package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HealthcheckCmd asks a running herald whether it is ready: for container
// health checks, where the image has no shell or curl.
type HealthcheckCmd struct {
	Timeout time.Duration `default:"3s" help:"How long to wait for the answer."`
	Metrics bool          `help:"Ask the process at HERALD_METRICS_ADDR (herald worker, herald scheduler) instead of the API at HERALD_HTTP_ADDR."`
}

func (c *HealthcheckCmd) Run(ctx context.Context, env *Env) error {
	setting, addr := "HERALD_HTTP_ADDR", env.cfg.HTTP.Addr
	if c.Metrics {
		setting, addr = "HERALD_METRICS_ADDR", env.cfg.HTTP.MetricsAddr
		if addr == "" {
			return fmt.Errorf("%s is not set: a worker or scheduler serves /readyz only there", setting)
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", setting, err)
	}
	// A server listening on every interface is reached on loopback.
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %s", url, res.Status)
	}
	fmt.Fprintln(env.stdout, "ready")
	return nil
}
