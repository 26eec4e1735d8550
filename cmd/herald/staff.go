package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/staff"
)

// StaffCmd groups the staff subcommands: who may use the console at
// /console, and with what role.
type StaffCmd struct {
	Add        StaffAddCmd        `cmd:"" help:"Make an address staff of the console, with a role."`
	List       StaffListCmd       `cmd:"" help:"List the staff, their roles and timezones."`
	Remove     StaffRemoveCmd     `cmd:"" help:"Remove a staff member and end their console sessions (the last admin stays)."`
	SetRole    StaffSetRoleCmd    `cmd:"" name:"set-role" help:"Change a staff member's role; lowering it ends their sessions."`
	SignInLink StaffSignInLinkCmd `cmd:"" name:"sign-in-link" help:"Print a single-use console sign-in link for a staff member."`
}

type StaffAddCmd struct {
	Email    string `arg:"" help:"The staff member's address."`
	Role     string `required:"" enum:"viewer,editor,admin" help:"viewer (reads), editor (changes), admin (also manages staff)."`
	Timezone string `help:"IANA timezone the console shows and takes times in (default HERALD_TIMEZONE)." placeholder:"ZONE"`
}

func (c *StaffAddCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		m, err := a.Staff().Add(ctx, cliAudit(), c.Email, staff.Role(c.Role), c.Timezone)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added %s as %s (%s)\n", m.Email, m.Role, m.Timezone)
		return nil
	})
}

type StaffListCmd struct{}

func (c *StaffListCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		list, err := a.Staff().List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tTIMEZONE\tADDED")
		for _, m := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Email, m.Role, m.Timezone, m.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

type StaffRemoveCmd struct {
	Email string `arg:"" help:"The staff member's address."`
}

func (c *StaffRemoveCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		m, err := a.Staff().Remove(ctx, cliAudit(), c.Email)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "removed %s; their console sessions have ended\n", m.Email)
		return nil
	})
}

type StaffSetRoleCmd struct {
	Email string `arg:"" help:"The staff member's address."`
	Role  string `arg:"" enum:"viewer,editor,admin" help:"viewer, editor or admin."`
}

func (c *StaffSetRoleCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		m, err := a.Staff().SetRole(ctx, cliAudit(), c.Email, staff.Role(c.Role))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s is now %s\n", m.Email, m.Role)
		return nil
	})
}

type StaffSignInLinkCmd struct {
	Email string `arg:"" help:"The staff member's address."`
}

// Run prints a link for a first sign-in where mail goes to the outbox.
// The link is as good as the mail would be: single-use, for
// HERALD_SIGNIN_TTL, and it signs in only after a button is pressed.
func (c *StaffSignInLinkCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		link, err := a.ConsoleSignInLink(ctx, c.Email)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, link)
		return nil
	})
}
