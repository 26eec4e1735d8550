package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/admin"
	"github.com/heraldhq/herald/internal/auth"
)

// ServeCmd runs herald.
type ServeCmd struct{}

// Run serves until ctx is cancelled (SIGINT, SIGTERM), then lets in-flight
// requests finish and closes what it opened, in reverse order.
func (c *ServeCmd) Run(ctx context.Context, env *Env) error {
	d, err := env.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()

	tokens := auth.NewTokens(d, env.now)
	if err := ensureToken(ctx, env, tokens); err != nil {
		return err
	}

	api := admin.New(admin.Deps{
		Contacts: contacts.NewStore(d, env.now),
		Tokens:   tokens,
		Checks:   []admin.Check{{Name: "database", Check: d.PingContext}},
		Logger:   env.logger,
	})
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", env.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("HERALD_HTTP_ADDR: %w", err)
	}
	env.logger.Info("herald is serving", "addr", ln.Addr().String(), "database", string(d.Dialect))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	env.logger.Info("shutting down", "grace", env.cfg.HTTP.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), env.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down the API: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	env.logger.Info("stopped")
	return nil
}

// ensureToken makes sure the API can be reached: it stores the token of
// HERALD_ADMIN_TOKEN, or on a first start with no token at all makes one and
// prints it, once.
func ensureToken(ctx context.Context, env *Env, tokens *auth.Tokens) error {
	if t := env.cfg.HTTP.AdminToken; t != "" {
		return tokens.Put(ctx, auth.EnvTokenName, t)
	}
	n, err := tokens.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := tokens.Create(ctx, "initial")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "herald: created the first admin API token; it is shown only this once:\n\n    %s\n\n"+
		"Use it as \"Authorization: Bearer <token>\". \"herald token create NAME\" makes more.\n", secret)
	return nil
}
