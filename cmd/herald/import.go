package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/heraldhq/herald/contacts"
)

// ImportCmd imports the contacts CSV, as POST /api/v1/contacts/import does.
type ImportCmd struct {
	File string `arg:"" type:"existingfile" help:"CSV with the header license_id,product,license_name,email,name,role,main."`
}

func (c *ImportCmd) Run(ctx context.Context, env *Env) error {
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := contacts.ReadCSV(f)
	if err != nil {
		return badLines(env, c.File, err)
	}
	d, err := env.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := contacts.NewStore(d, env.now).Import(ctx, rows)
	if err != nil {
		return badLines(env, c.File, err)
	}
	fmt.Fprintf(env.stdout, "imported %s: licenses %d created, %d updated; contacts %d created, %d updated; memberships %d created, %d updated; %d rows unchanged\n",
		c.File, res.LicensesCreated, res.LicensesUpdated, res.ContactsCreated, res.ContactsUpdated,
		res.MembershipsCreated, res.MembershipsUpdated, res.Unchanged)
	return nil
}

// badLines prints each bad line of an import as FILE:LINE: message, as
// compilers do.
func badLines(env *Env, file string, err error) error {
	var ie *contacts.ImportError
	if !errors.As(err, &ie) {
		return err
	}
	for _, l := range ie.Lines {
		fmt.Fprintf(env.stderr, "%s:%d: %s\n", file, l.Line, l.Message)
	}
	return fmt.Errorf("%s: %d bad line(s); nothing was imported", file, len(ie.Lines))
}
