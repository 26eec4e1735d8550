// Package billing keeps the invoices pushed in by the billing system and
// turns them, on a cadence around each due date, into invoice-reminder
// announcements in the ledger.
package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/currency"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
)

// Status is an invoice's state.
type Status string

const (
	Open Status = "open"
	Paid Status = "paid"
	Void Status = "void"
)

// DateLayout is how dates are written: 2026-12-15.
const DateLayout = time.DateOnly

// Invoice is one invoice of one license.
type Invoice struct {
	Number      string    `db:"number"`
	LicenseID   string    `db:"license_id"`
	AmountMinor int64     `db:"amount_minor"`
	Currency    string    `db:"currency"`
	DueDate     string    `db:"due_date"`
	Status      Status    `db:"status"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// InvoiceInput is an invoice as the billing system sends it.
type InvoiceInput struct {
	LicenseID   string
	AmountMinor *int64
	Currency    string
	DueDate     string
	Status      Status // default open
}

// Billing stores invoices and makes their reminders.
type Billing struct {
	db     *db.DB
	ledger *ledger.Ledger
	now    func() time.Time
}

// New returns the invoice store.
func New(d *db.DB, led *ledger.Ledger, now func() time.Time) *Billing {
	return &Billing{db: d, ledger: led, now: now}
}

func (b *Billing) timestamp() time.Time { return b.now().UTC().Truncate(time.Microsecond) }

var numberChars = func(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/#", r)
}

// ValidateNumber checks an invoice number: up to 64 letters, digits and
// . _ - / #.
func ValidateNumber(field, number string) error {
	if number == "" {
		return fault.Invalid(field, "is required")
	}
	if len(number) > 64 || strings.IndexFunc(number, func(r rune) bool { return !numberChars(r) }) >= 0 {
		return fault.Invalid(field, "%q is not an invoice number (letters, digits and . _ - / #, up to 64 characters)", number)
	}
	return nil
}

// normalize checks an input; fields are named as in the JSON and CSV.
func (in *InvoiceInput) normalize() error {
	if err := contacts.ValidateLicenseID("license_id", in.LicenseID); err != nil {
		return err
	}
	if in.AmountMinor == nil {
		return fault.Invalid("amount_minor", "is required (an integer in minor units: 125000 is 1,250.00 EUR)")
	}
	if *in.AmountMinor < 0 {
		return fault.Invalid("amount_minor", "must not be negative")
	}
	code := strings.ToUpper(strings.TrimSpace(in.Currency))
	if code == "" {
		return fault.Invalid("currency", "is required (an ISO 4217 code such as EUR)")
	}
	if _, err := currency.ParseISO(code); err != nil || len(code) != 3 {
		return fault.Invalid("currency", "%q is not an ISO 4217 currency code such as EUR or USD", in.Currency)
	}
	in.Currency = code
	if err := checkDueDate("due_date", in.DueDate); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = Open
	}
	switch in.Status {
	case Open, Paid, Void:
	default:
		return fault.Invalid("status", "%q is not a status (open, paid or void)", in.Status)
	}
	return nil
}

const invoiceColumns = `number, license_id, amount_minor, currency, due_date, status, created_at, updated_at`

// Put creates or replaces an invoice; created says which.
func (b *Billing) Put(ctx context.Context, number string, in InvoiceInput) (Invoice, bool, error) {
	if err := ValidateNumber("number", number); err != nil {
		return Invoice{}, false, err
	}
	if err := in.normalize(); err != nil {
		return Invoice{}, false, err
	}
	var created bool
	err := b.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		created, err = b.put(ctx, tx, number, in)
		return err
	})
	if err != nil {
		return Invoice{}, false, fmt.Errorf("put invoice %s: %w", number, err)
	}
	inv, err := b.Get(ctx, number)
	return inv, created, err
}

func (b *Billing) put(ctx context.Context, tx *sqlx.Tx, number string, in InvoiceInput) (bool, error) {
	var exists int
	if err := db.Get(ctx, tx, &exists, `SELECT COUNT(*) FROM licenses WHERE id = ?`, in.LicenseID); err != nil {
		return false, err
	}
	if exists == 0 {
		return false, fault.Invalid("license_id", "license %s does not exist", in.LicenseID)
	}
	now := b.timestamp()
	// Insert, or update when the number exists: in that order, so that two
	// billing systems pushing a new invoice at once both succeed.
	res, err := db.Exec(ctx, tx, `
		INSERT INTO invoices (number, license_id, amount_minor, currency, due_date, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING`,
		number, in.LicenseID, *in.AmountMinor, in.Currency, in.DueDate, in.Status, now, now)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = db.Exec(ctx, tx, `
		UPDATE invoices SET license_id = ?, amount_minor = ?, currency = ?, due_date = ?, status = ?, updated_at = ?
		WHERE number = ?`, in.LicenseID, *in.AmountMinor, in.Currency, in.DueDate, in.Status, now, number)
	return false, err
}

// Get returns an invoice.
func (b *Billing) Get(ctx context.Context, number string) (Invoice, error) {
	var inv Invoice
	err := db.Get(ctx, b.db.Read, &inv, `SELECT `+invoiceColumns+` FROM invoices WHERE number = ?`, number)
	if db.IsNoRows(err) {
		return Invoice{}, fault.NotFound("invoice %s does not exist", number)
	}
	if err != nil {
		return Invoice{}, fmt.Errorf("get invoice %s: %w", number, err)
	}
	inv.normalize()
	return inv, nil
}

func (inv *Invoice) normalize() {
	inv.CreatedAt = inv.CreatedAt.UTC()
	inv.UpdatedAt = inv.UpdatedAt.UTC()
}

// Filter selects invoices.
type Filter struct {
	Status    Status
	LicenseID string
	Page      page.Request
}

// List returns invoices ordered by number.
func (b *Billing) List(ctx context.Context, f Filter) (page.Page[Invoice], error) {
	limit, after, err := f.Page.Decode()
	if err != nil {
		return page.Page[Invoice]{}, err
	}
	query := `SELECT ` + invoiceColumns + ` FROM invoices WHERE number > ?`
	args := []any{after}
	if f.Status != "" {
		switch f.Status {
		case Open, Paid, Void:
		default:
			return page.Page[Invoice]{}, fault.Invalid("status", "%q is not a status (open, paid or void)", f.Status)
		}
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.LicenseID != "" {
		if err := contacts.ValidateLicenseID("license_id", f.LicenseID); err != nil {
			return page.Page[Invoice]{}, err
		}
		query += ` AND license_id = ?`
		args = append(args, f.LicenseID)
	}
	query += ` ORDER BY number LIMIT ?`
	args = append(args, limit+1)
	var list []Invoice
	if err := db.Select(ctx, b.db.Read, &list, query, args...); err != nil {
		return page.Page[Invoice]{}, fmt.Errorf("list invoices: %w", err)
	}
	for i := range list {
		list[i].normalize()
	}
	return page.Of(list, limit, func(inv Invoice) string { return inv.Number }), nil
}

// InvoicesSince returns the invoices of a license made on or after the day
// of since (in UTC), newest due date first: what a billing contact added on
// that day may see of the license's billing, and no more of its history.
func (b *Billing) InvoicesSince(ctx context.Context, licenseID string, since time.Time) ([]Invoice, error) {
	y, m, d := since.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	list := []Invoice{}
	err := db.Select(ctx, b.db.Read, &list, `SELECT `+invoiceColumns+` FROM invoices
		WHERE license_id = ? AND created_at >= ? ORDER BY due_date DESC, number`, licenseID, day)
	if err != nil {
		return nil, fmt.Errorf("invoices of %s since %s: %w", licenseID, day.Format(DateLayout), err)
	}
	for i := range list {
		list[i].normalize()
	}
	return list, nil
}

// InvoiceOfLicense is an invoice with what a reminder needs of its license.
type InvoiceOfLicense struct {
	Invoice
	LicenseName     string `db:"license_name"`
	LicenseTimezone string `db:"license_timezone"`
}

// Lookup returns an invoice and its license's name and timezone, as a
// reminder needs them just before it is sent.
func (b *Billing) Lookup(ctx context.Context, number string) (InvoiceOfLicense, error) {
	var row InvoiceOfLicense
	err := db.Get(ctx, b.db.Read, &row, `
		SELECT i.number, i.license_id, i.amount_minor, i.currency, i.due_date, i.status, i.created_at, i.updated_at,
			l.name AS license_name, l.timezone AS license_timezone
		FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE i.number = ?`, number)
	if db.IsNoRows(err) {
		return InvoiceOfLicense{}, fault.NotFound("invoice %s does not exist", number)
	}
	if err != nil {
		return InvoiceOfLicense{}, fmt.Errorf("look up invoice %s: %w", number, err)
	}
	return row, nil
}

// DaysPastDue is how many days after the due date today is in the
// license's timezone (negative before it).
func (inv InvoiceOfLicense) DaysPastDue(now time.Time) int {
	loc, err := time.LoadLocation(inv.LicenseTimezone)
	if err != nil {
		loc = time.UTC
	}
	due, err := dayOf(inv.DueDate)
	if err != nil {
		return 0 // checked on the way in
	}
	return int(civilDay(now.In(loc).Date()) - due)
}
