package portal

import (
	"context"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
)

// Rules are the portal's rules over a license's contacts, as the contacts
// package applies them (contacts.Portal): every call acts for `by`, on a
// license `by` is a contact of; any other license is not found.
type Rules interface {
	Licenses(ctx context.Context, email string) ([]contacts.License, error)
	Add(ctx context.Context, by, licenseID string, m contacts.NewMember) (contacts.License, error)
	Promote(ctx context.Context, by, licenseID, email string, role contacts.Role) (contacts.License, error)
	Remove(ctx context.Context, by, licenseID, email string, role contacts.Role) (contacts.License, error)
	CanPromote(l contacts.License, by, email string, role contacts.Role) error
	CanRemove(l contacts.License, by, email string, role contacts.Role) error
}

// Invoices are the invoices a billing contact sees: those of the license
// from the day they became one.
type Invoices interface {
	InvoicesSince(ctx context.Context, licenseID string, since time.Time) ([]billing.Invoice, error)
}
