package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/app"
)

// ServeCmd runs every role in one process.
type ServeCmd struct{}

func (c *ServeCmd) Run(ctx context.Context, env *Env) error { return runRoles(ctx, env, app.All) }

// APICmd runs the admin API alone.
type APICmd struct{}

func (c *APICmd) Run(ctx context.Context, env *Env) error {
	return runRoles(ctx, env, app.Roles{API: true})
}

// WorkerCmd runs the workers alone.
type WorkerCmd struct{}

func (c *WorkerCmd) Run(ctx context.Context, env *Env) error {
	return runRoles(ctx, env, app.Roles{Workers: true})
}

// SchedulerCmd runs the scheduler alone.
type SchedulerCmd struct{}

func (c *SchedulerCmd) Run(ctx context.Context, env *Env) error {
	return runRoles(ctx, env, app.Roles{Scheduler: true})
}

// InboundCmd runs the inbound SMTP server for bounces and complaints
// alone.
type InboundCmd struct{}

func (c *InboundCmd) Run(ctx context.Context, env *Env) error {
	return runRoles(ctx, env, app.Roles{Inbound: true})
}

// runRoles starts the roles asked for and runs until ctx is cancelled
// (SIGINT, SIGTERM) or a role fails, then stops them in reverse order.
func runRoles(ctx context.Context, env *Env, r app.Roles) error {
	if err := r.Check(env.cfg); err != nil {
		return err
	}
	if r.API || r.Workers { // the roles that send mail
		for _, w := range env.cfg.Warnings() {
			env.logger.Warn(w)
		}
	}
	a, err := env.open(ctx)
	if err != nil {
		return err
	}
	runErr := a.Start(ctx, r)
	if runErr == nil {
		runErr = a.Wait(ctx)
	}
	if err := a.Close(); err != nil {
		return errors.Join(runErr, fmt.Errorf("shut down: %w", err))
	}
	if runErr == nil {
		env.logger.Info("stopped")
	}
	return runErr
}
