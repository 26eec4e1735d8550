package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/app"
)

// MigrateCmd brings the schema up to date.
type MigrateCmd struct{}

func (c *MigrateCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		fmt.Fprintf(env.stdout, "%s database is up to date\n", a.DB.Dialect)
		return nil
	})
}
