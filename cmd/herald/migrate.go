package main

import (
	"context"
	"errors"
	"fmt"
)

// MigrateCmd brings the schema up to date.
type MigrateCmd struct{}

// Run creates the database if it is missing, which no other one-shot
// command does.
func (c *MigrateCmd) Run(ctx context.Context, env *Env) (err error) {
	a, err := env.open(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	fmt.Fprintf(env.stdout, "%s database is up to date\n", a.DB.Dialect)
	return nil
}
