package app

import (
	"context"
	"fmt"
	"net"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/inbound"
)

// Kept returns the store of the inbound mail kept for staff.
func (a *App) Kept() *bounce.KeptStore { return bounce.NewKeptStore(a.DB, a.Now) }

// StartInbound serves the inbound SMTP server on HERALD_INBOUND_ADDR and
// returns its address.
func (a *App) StartInbound(ctx context.Context) (net.Addr, error) {
	ln, err := net.Listen("tcp", a.Config.Inbound.Addr)
	if err != nil {
		return nil, fmt.Errorf("HERALD_INBOUND_ADDR: %w", err)
	}
	if err := a.ServeInbound(ctx, ln); err != nil {
		ln.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// ServeInbound serves the inbound SMTP server on ln, which Close closes
// after the messages being received are handled.
func (a *App) ServeInbound(ctx context.Context, ln net.Listener) error {
	refs, err := a.OpenRefs(ctx)
	if err != nil {
		return err
	}
	sink, err := a.OpenBounceSink(ctx)
	if err != nil {
		return err
	}
	cfg := a.Config.Inbound
	srv, err := inbound.New(inbound.Config{Domain: cfg.BounceDomain, MaxConnections: cfg.MaxConnections}, inbound.Deps{
		Refs: refs, Sink: sink, Kept: a.Kept(), Metrics: a.Metrics, Logger: a.Logger.With("component", "inbound"),
	})
	if err != nil {
		return err
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.fail(fmt.Errorf("serve inbound SMTP: %w", err))
		}
	}()
	a.onClose("inbound SMTP", srv.Shutdown)
	a.Logger.Info("herald takes bounces and complaints", "addr", ln.Addr().String(), "domain", cfg.BounceDomain)
	return nil
}
