package main

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/app"
)

// ContactsCmd groups the subcommands about people.
type ContactsCmd struct {
	Unsuppress ContactsUnsuppressCmd `cmd:"" help:"Lift the suppression of an address, so that later announcements send to it again."`
}

type ContactsUnsuppressCmd struct {
	Email string `arg:"" help:"The suppressed address, such as ann@acme.test."`
}

func (c *ContactsUnsuppressCmd) Run(ctx context.Context, env *Env) error {
	return env.withApp(ctx, func(a *app.App) error {
		lifted, err := a.Contacts.Unsuppress(ctx, c.Email, cliAudit())
		if err != nil {
			return err
		}
		cause := "no code"
		if lifted.Code != 0 {
			cause = "code " + strconv.Itoa(lifted.Code)
		}
		if lifted.DeliveryID != 0 {
			cause += ", delivery " + strconv.FormatInt(lifted.DeliveryID, 10)
		}
		fmt.Fprintf(env.stdout, "lifted the suppression of %s, suppressed since %s (%s): %s\n",
			lifted.Email, lifted.SuppressedAt.Format(time.RFC3339), cause, lifted.Reply)
		return nil
	})
}

// cliActor names who runs a command, for the records that keep who changed
// what: "cli:" and the user's login name, or "cli" when the system does not
// say.
func cliActor() string {
	if u := cliUser(); u != unknownUser {
		return "cli:" + u
	}
	return "cli"
}

// unknownUser stands for the user running a command when the system does
// not say, in the audit log, which needs a name.
const unknownUser = "unknown"

// cliUser is the login name of who runs a command, for the audit log.
// cliAudit is who a command's changes are audited under: the user who
// ran it.
func cliAudit() contacts.Actor { return contacts.Actor{Via: contacts.ViaCLI, Name: cliUser()} }

func cliUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return unknownUser
}
