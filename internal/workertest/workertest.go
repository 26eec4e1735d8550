// Package workertest runs herald's workers inside a test: a sender to the
// test's SMTP server, the embedded templates, and an asynq server on the
// test's queue that polls fast.
package workertest

import (
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/worker"
)

// Sender returns a pooled SMTP sender to srv (four connections, no TLS),
// closed when the test ends.
func Sender(t testing.TB, srv *smtptest.Server) *mailer.SMTP {
	t.Helper()
	port, _ := strconv.Atoi(srv.Port())
	sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Connections: 4, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	return sender
}

// Renderer returns the embedded templates.
func Renderer(t testing.TB) *templates.Renderer {
	t.Helper()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Start runs the workers on deps.Queue with concurrency tasks at once until
// the test ends. Deps without a Renderer get the embedded templates.
func Start(t testing.TB, cfg worker.Config, deps worker.Deps, concurrency int) {
	t.Helper()
	if deps.Renderer == nil {
		deps.Renderer = Renderer(t)
	}
	mux, err := worker.NewMux(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := deps.Queue.NewServer(queue.ServerConfig{Concurrency: concurrency, ShutdownTimeout: 5 * time.Second, PollInterval: 50 * time.Millisecond, Logger: deps.Logger})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}
