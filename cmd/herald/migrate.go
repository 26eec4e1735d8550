package main

import (
	"context"
	"fmt"
)

// MigrateCmd brings the schema up to date.
type MigrateCmd struct{}

func (c *MigrateCmd) Run(ctx context.Context, env *Env) error {
	d, err := env.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(env.stdout, "%s database is up to date\n", d.Dialect)
	return nil
}
