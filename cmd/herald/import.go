package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/csvfile"
)

// ImportCmd imports the contacts CSV, as POST /api/v1/contacts/import does.
type ImportCmd struct {
	File string `arg:"" type:"existingfile" help:"CSV with the header license_id,product,license_name,email,name,role,main (and optionally product_name)."`
}

func (c *ImportCmd) Run(ctx context.Context, env *Env) error {
	return importFile(ctx, env, c.File, contacts.ReadCSV, func(ctx context.Context, a *app.App, rows []contacts.Row) (string, error) {
		res, err := a.Contacts.Import(ctx, contacts.Actor{Via: contacts.ViaCSV, Name: cliActor()}, rows)
		return fmt.Sprintf("licenses %d created, %d updated; contacts %d created, %d updated; memberships %d created, %d updated; %d products named; %d rows unchanged",
			res.LicensesCreated, res.LicensesUpdated, res.ContactsCreated, res.ContactsUpdated,
			res.MembershipsCreated, res.MembershipsUpdated, res.ProductsNamed, res.Unchanged), err
	})
}

// InvoiceImportCmd imports the invoices CSV.
type InvoiceImportCmd struct {
	File string `arg:"" type:"existingfile" help:"CSV with the header number,license_id,amount_minor,currency,due_date,status."`
}

func (c *InvoiceImportCmd) Run(ctx context.Context, env *Env) error {
	return importFile(ctx, env, c.File, billing.ReadCSV, func(ctx context.Context, a *app.App, rows []billing.Row) (string, error) {
		res, err := a.Billing.Import(ctx, rows)
		return fmt.Sprintf("%d invoices created, %d updated", res.Created, res.Updated), err
	})
}

// importFile reads a CSV file, checks every line, then applies the rows in
// the database, all or nothing. Bad lines are printed as FILE:LINE: message,
// as compilers do.
func importFile[Row any](ctx context.Context, env *Env, file string, read func(io.Reader) ([]Row, error),
	apply func(context.Context, *app.App, []Row) (string, error),
) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := read(f)
	if err != nil {
		return badLines(env, file, err)
	}
	return env.withApp(ctx, func(a *app.App) error {
		summary, err := apply(ctx, a, rows)
		if err != nil {
			return badLines(env, file, err)
		}
		fmt.Fprintf(env.stdout, "imported %s: %s\n", file, summary)
		return nil
	})
}

func badLines(env *Env, file string, err error) error {
	var ie *csvfile.Error
	if !errors.As(err, &ie) {
		return err
	}
	for _, l := range ie.Lines {
		fmt.Fprintf(env.stderr, "%s:%d: %s\n", file, l.Line, l.Message)
	}
	if more := ie.Unlisted(); more > 0 {
		fmt.Fprintf(env.stderr, "%s: and %d more bad line(s)\n", file, more)
	}
	return fmt.Errorf("%s: %d bad line(s); nothing was imported", file, ie.BadLines)
}
