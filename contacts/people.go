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
	SuppressedAt     sql.NullTime `db:"suppressed_at"`
	SuppressedReason string       `db:"suppressed_reason"`
	CreatedAt        time.Time    `db:"created_at"`
	UpdatedAt        time.Time    `db:"updated_at"`
}

type membershipRow struct {
	Email     string `db:"email"`
	LicenseID string `db:"license_id"`
	Product   string `db:"product"`
	Role      Role   `db:"role"`
	Main      bool   `db:"is_main"`
}

const contactColumns = `c.email, c.name, c.locale, c.release_opt_out, c.suppressed_at, c.suppressed_reason, c.created_at, c.updated_at`

// GetContact returns a person with every role they hold.
func (s *Store) GetContact(ctx context.Context, email string) (Contact, error) {
	return s.getContact(ctx, s.db, email)
}

func (s *Store) getContact(ctx context.Context, q sqlx.ExtContext, email string) (Contact, error) {
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return Contact{}, err
	}
	var row contactRow
	err = db.Get(ctx, q, &row, `SELECT `+contactColumns+` FROM contacts c WHERE c.email = ?`, email)
	if db.IsNoRows(err) {
		return Contact{}, fault.NotFound("contact %s does not exist", email)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("get contact %s: %w", email, err)
	}
	people, err := withMemberships(ctx, q, []contactRow{row})
	if err != nil {
		return Contact{}, err
	}
	return people[0], nil
}

// ListContacts returns a page of people ordered by email.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) (page.Page[Contact], error) {
	limit, after, err := f.Page.Decode()
	if err != nil {
		return page.Page[Contact]{}, err
	}
	query := `SELECT ` + contactColumns + ` FROM contacts c WHERE c.email > ?`
	args := []any{after}
	if f.Q != "" {
		like := db.LikePattern(f.Q)
		query += ` AND (c.email LIKE ? ESCAPE '\' OR LOWER(c.name) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	query += ` ORDER BY c.email LIMIT ?`
	args = append(args, limit+1)
	var rows []contactRow
	if err := db.Select(ctx, s.db, &rows, query, args...); err != nil {
		return page.Page[Contact]{}, fmt.Errorf("list contacts: %w", err)
	}
	people, err := withMemberships(ctx, s.db, rows)
	if err != nil {
		return page.Page[Contact]{}, err
	}
	return page.Of(people, limit, func(c Contact) string { return c.Email }), nil
}

// UpdateContact changes a person's name, locale or release opt-out.
func (s *Store) UpdateContact(ctx context.Context, email string, p ContactPatch) (Contact, error) {
	if err := p.normalize(); err != nil {
		return Contact{}, err
	}
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return Contact{}, err
	}
	var contact Contact
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := db.Exec(ctx, tx, `
			UPDATE contacts SET
				name = COALESCE(?, name), locale = COALESCE(?, locale),
				release_opt_out = COALESCE(?, release_opt_out), updated_at = ?
			WHERE email = ?`,
			p.Name, p.Locale, p.ReleaseOptOut, s.timestamp(), email)
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

// withMemberships loads the roles of every person in rows with one query.
func withMemberships(ctx context.Context, q sqlx.ExtContext, rows []contactRow) ([]Contact, error) {
	people := make([]Contact, len(rows))
	if len(rows) == 0 {
		return people, nil
	}
	emails := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		emails[i] = r.Email
		index[r.Email] = i
		people[i] = Contact{
			Email: r.Email, Name: r.Name, Locale: r.Locale, ReleaseOptOut: r.ReleaseOptOut,
			Suppressed: r.SuppressedAt.Valid, SuppressedReason: r.SuppressedReason,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Memberships: []Membership{},
		}
	}
	query, args, err := db.In(`
		SELECT m.email, m.license_id, l.product, m.role, m.is_main
		FROM memberships m JOIN licenses l ON l.id = m.license_id
		WHERE m.email IN (?)
		ORDER BY m.email, m.license_id, m.role`, emails)
	if err != nil {
		return nil, err
	}
	var ms []membershipRow
	if err := db.Select(ctx, q, &ms, query, args...); err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	for _, m := range ms {
		p := &people[index[m.Email]]
		p.Memberships = append(p.Memberships, Membership{LicenseID: m.LicenseID, Product: m.Product, Role: m.Role, Main: m.Main})
	}
	return people, nil
}
