package contacts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

type contactRow struct {
	Email            string       `db:"email"`
	Name             string       `db:"name"`
	Locale           string       `db:"locale"`
	ReleaseOptOut    bool         `db:"release_opt_out"`
	BroadcastOptOut  bool         `db:"broadcast_opt_out"`
	SuppressedAt     sql.NullTime `db:"suppressed_at"`
	SuppressedReason string       `db:"suppressed_reason"`
	CreatedAt        time.Time    `db:"created_at"`
	UpdatedAt        time.Time    `db:"updated_at"`
}

// personRow is a contact with the details of their current suppression, as
// people are read.
type personRow struct {
	contactRow
	SuppressionCode       int           `db:"suppression_code"`
	SuppressionEnhanced   string        `db:"suppression_enhanced"`
	SuppressionDeliveryID sql.NullInt64 `db:"suppression_delivery_id"`
}

// membershipRow is a role a person holds on a license, with the person's
// name (read with licenses) or the license's product (read with people).
type membershipRow struct {
	Email     string `db:"email"`
	Name      string `db:"name"`
	LicenseID string `db:"license_id"`
	Product   string `db:"product"`
	Role      Role   `db:"role"`
	Main      bool   `db:"is_main"`
	// CreatedAt is when the role was given; read with licenses only.
	CreatedAt time.Time `db:"created_at"`
}

const contactColumns = `c.email, c.name, c.locale, c.release_opt_out, c.broadcast_opt_out, c.suppressed_at, c.suppressed_reason, c.created_at, c.updated_at`

// GetContact returns a person with every role they hold.
func (s *Store) GetContact(ctx context.Context, email string) (Contact, error) {
	return s.getContact(ctx, s.db.Read, email)
}

func (s *Store) getContact(ctx context.Context, q sqlx.ExtContext, email string) (Contact, error) {
	email, err := s.storedEmail(ctx, q, "email", email)
	if err != nil {
		return Contact{}, err
	}
	return peopleWithMemberships.one(ctx, q, "get contact "+email, fault.NotFound("contact %s does not exist", email), email)
}

// ListContacts returns a page of people ordered by email.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) (page.Page[Contact], error) {
	where, args := `TRUE`, []any{}
	if f.Q != "" {
		if err := checkSearch("q", f.Q); err != nil {
			return page.Page[Contact]{}, err
		}
		like := db.LikePattern(f.Q)
		where += ` AND (c.email LIKE ? ESCAPE '\' OR LOWER(c.name) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	return peopleWithMemberships.list(ctx, s.db.Read, "list contacts", f.Page, where, args...)
}

// UpdateContact changes a person's name, locale or opt-outs.
func (s *Store) UpdateContact(ctx context.Context, email string, p ContactPatch) (Contact, error) {
	if err := p.normalize(); err != nil {
		return Contact{}, err
	}
	email, err := s.storedEmail(ctx, s.db, "email", email)
	if err != nil {
		return Contact{}, err
	}
	var contact Contact
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := db.Exec(ctx, tx, `
			UPDATE contacts SET
				name = COALESCE(?, name), locale = COALESCE(?, locale),
				release_opt_out = COALESCE(?, release_opt_out), broadcast_opt_out = COALESCE(?, broadcast_opt_out),
				updated_at = ?
			WHERE email = ?`,
			p.Name, p.Locale, p.ReleaseOptOut, p.BroadcastOptOut, s.timestamp(), email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.NotFound("contact %s does not exist", email)
		}
		contact, err = s.getContact(ctx, tx, email)
		return err
	})
	if err != nil {
		return Contact{}, fmt.Errorf("update contact %s: %w", email, err)
	}
	return contact, nil
}

// peopleWithMemberships reads people with every role they hold.
var peopleWithMemberships = family[personRow, Contact, membershipRow]{
	rows:      `SELECT ` + contactColumns + `, ` + suppressionColumns + ` FROM contacts c` + currentSuppression,
	keyColumn: `c.email`,
	parent: func(r personRow) Contact {
		c := Contact{
			Email: r.Email, Name: r.Name, Locale: r.Locale, ReleaseOptOut: r.ReleaseOptOut, BroadcastOptOut: r.BroadcastOptOut,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Memberships: []Membership{},
		}
		if r.SuppressedAt.Valid {
			rec := suppressionRow{
				Email: r.Email, SuppressedAt: r.SuppressedAt.Time, Reply: r.SuppressedReason,
				Code: r.SuppressionCode, Enhanced: r.SuppressionEnhanced, DeliveryID: r.SuppressionDeliveryID,
			}.record()
			c.Suppression = &rec
		}
		return c
	},
	key: func(c Contact) string { return c.Email },
	children: `
		SELECT m.email, m.license_id, l.product, m.role, m.is_main
		FROM memberships m JOIN licenses l ON l.id = m.license_id
		WHERE m.email IN (?)
		ORDER BY m.email, m.license_id, m.role`,
	parentOf: func(m membershipRow) string { return m.Email },
	adopt: func(c *Contact, m membershipRow) {
		c.Memberships = append(c.Memberships, Membership{LicenseID: m.LicenseID, Product: m.Product, Role: m.Role, Main: m.Main})
	},
}

// OptOutIn opts the contact email out of the mail o names, within tx, for
// a caller that does so as part of a change of its own (a complaint
// recorded on its delivery). Transactional mail (NoOptOut) cannot be left,
// and an address that is no contact has nothing to leave: both change
// nothing.
func (s *Store) OptOutIn(ctx context.Context, tx *sqlx.Tx, email string, o OptOut) error {
	if o != ReleaseOptOut && o != BroadcastOptOut {
		return nil
	}
	email, err := s.storedEmail(ctx, tx, "email", email)
	if err != nil {
		return err
	}
	// o is one of the two columns, never text from elsewhere.
	_, err = db.Exec(ctx, tx, `UPDATE contacts SET `+string(o)+` = TRUE, updated_at = ? WHERE email = ?`, s.timestamp(), email)
	return err
}
