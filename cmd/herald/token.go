package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/internal/app"
)

// TokenCmd groups the token subcommands.
type TokenCmd struct {
	Create TokenCreateCmd `cmd:"" help:"Create a token and print it (it is shown only once)."`
	List   TokenListCmd   `cmd:"" help:"List tokens (names and dates, never the secrets)."`
	Revoke TokenRevokeCmd `cmd:"" help:"Revoke a token by name."`
}

type TokenCreateCmd struct {
	Name string `arg:"" help:"A name for the token, such as billing-system or ci."`
}

func (c *TokenCreateCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		secret, err := a.Tokens.Create(ctx, c.Name, cliAudit())
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, secret)
		return nil
	})
}

type TokenListCmd struct{}

func (c *TokenListCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		list, err := a.Tokens.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED\tLAST USED")
		for _, t := range list {
			used := "never"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return tw.Flush()
	})
}

type TokenRevokeCmd struct {
	Name string `arg:"" help:"The name of the token to revoke."`
}

func (c *TokenRevokeCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		if err := a.Tokens.Revoke(ctx, c.Name, cliAudit()); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "revoked %s\n", c.Name)
		return nil
	})
}
