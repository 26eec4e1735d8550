package contacts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Store keeps licenses, contacts and memberships in SQL.
type Store struct {
	db  *db.DB
	now func() time.Time
	// notifier hears of every audited change; nil tells nobody.
	notifier Notifier
}

// NewStore returns a Store on d. now is the clock (time.Now in production).
func NewStore(d *db.DB, now func() time.Time) *Store {
	return &Store{db: d, now: now}
}

// timestamp is the store's notion of now: UTC, at the microsecond precision
// that both SQLite and PostgreSQL keep, so what is read back equals what was
// written.
func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

type licenseRow struct {
	ID        string    `db:"id"`
	Product   string    `db:"product"`
	Name      string    `db:"name"`
	Status    Status    `db:"status"`
	Timezone  string    `db:"timezone"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const licenseColumns = `l.id, l.product, l.name, l.status, l.timezone, l.created_at, l.updated_at`

// CreateLicense creates a license and its first contacts in one
// transaction. The contacts are audited as added by by; nobody is told.
func (s *Store) CreateLicense(ctx context.Context, by Actor, nl NewLicense) (License, error) {
	if err := nl.normalize(); err != nil {
		return License{}, err
	}
	now := s.timestamp()
	err := s.write(ctx, by, func(tx *sqlx.Tx, cs *changeSet) error {
		_, err := db.Exec(ctx, tx, `
			INSERT INTO licenses (id, product, name, status, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			nl.ID, nl.Product, nl.Name, nl.Status, nl.Timezone, now, now)
		if db.IsUniqueViolation(err) {
			return fault.Conflict("license %s already exists", nl.ID)
		}
		if err != nil {
			return err
		}
		cs.created[nl.ID] = true
		// Mains first, so that a contact marked main is not first demoted
		// by the "first contact becomes main" rule and then promoted.
		for _, main := range []bool{true, false} {
			for i, m := range nl.Contacts {
				if m.Main != main {
					continue
				}
				if _, err := s.addMember(ctx, tx, cs, nl.ID, m, now, renamePeople); err != nil {
					return fault.WithPrefix(fmt.Sprintf("contacts[%d]", i), err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return License{}, fmt.Errorf("create license %s: %w", nl.ID, err)
	}
	return s.GetLicense(ctx, nl.ID)
}

// GetLicense returns one license with its contacts.
func (s *Store) GetLicense(ctx context.Context, id string) (License, error) {
	return s.getLicense(ctx, s.db.Read, id)
}

func (s *Store) getLicense(ctx context.Context, q sqlx.ExtContext, id string) (License, error) {
	return licensesWithContacts.one(ctx, q, "get license "+id, fault.NotFound("license %s does not exist", id), id)
}

// ListLicenses returns a page of licenses ordered by id.
func (s *Store) ListLicenses(ctx context.Context, f LicenseFilter) (page.Page[License], error) {
	where, args := `TRUE`, []any{}
	if f.Product != "" {
		product, err := NormalizeProduct("product", f.Product)
		if err != nil {
			return page.Page[License]{}, err
		}
		where += ` AND l.product = ?`
		args = append(args, product)
	}
	if f.Status != "" {
		if _, err := ParseStatus("status", string(f.Status)); err != nil {
			return page.Page[License]{}, err
		}
		where += ` AND l.status = ?`
		args = append(args, f.Status)
	}
	if f.Q != "" {
		if err := checkSearch("q", f.Q); err != nil {
			return page.Page[License]{}, err
		}
		like := db.LikePattern(f.Q)
		where += ` AND (LOWER(l.id) LIKE ? ESCAPE '\' OR LOWER(l.name) LIKE ? ESCAPE '\' OR l.product LIKE ? ESCAPE '\'
			OR EXISTS (SELECT 1 FROM memberships m WHERE m.license_id = l.id AND m.email LIKE ? ESCAPE '\'))`
		args = append(args, like, like, like, like)
	}
	return licensesWithContacts.list(ctx, s.db.Read, "list licenses", f.Page, where, args...)
}

// licensesWithContacts reads licenses with their technical and billing
// contacts, each list main first.
var licensesWithContacts = family[licenseRow, License, membershipRow]{
	rows:      `SELECT ` + licenseColumns + ` FROM licenses l`,
	keyColumn: `l.id`,
	parent: func(r licenseRow) License {
		return License{
			ID: r.ID, Product: r.Product, Name: r.Name, Status: r.Status, Timezone: r.Timezone,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Technical: []Member{}, Billing: []Member{},
		}
	},
	key: func(l License) string { return l.ID },
	children: `
		SELECT m.license_id, m.email, c.name, m.role, m.is_main, m.created_at
		FROM memberships m JOIN contacts c ON c.email = m.email
		WHERE m.license_id IN (?)
		ORDER BY m.license_id, m.role, m.is_main DESC, m.created_at, m.email`,
	parentOf: func(m membershipRow) string { return m.LicenseID },
	adopt: func(l *License, m membershipRow) {
		member := Member{Email: m.Email, Name: m.Name, Main: m.Main, AddedAt: m.CreatedAt.UTC()}
		if m.Role == Billing {
			l.Billing = append(l.Billing, member)
		} else {
			l.Technical = append(l.Technical, member)
		}
	},
}

// UpdateLicense changes a license's name, product, status or timezone.
func (s *Store) UpdateLicense(ctx context.Context, by Actor, id string, p LicensePatch) (License, error) {
	if err := p.normalize(); err != nil {
		return License{}, err
	}
	var license License
	err := s.write(ctx, by, func(tx *sqlx.Tx, cs *changeSet) error {
		if err := s.lockLicense(ctx, tx, id); err != nil {
			return err
		}
		before, err := s.getLicense(ctx, tx, id)
		if err != nil {
			return err
		}
		_, err = db.Exec(ctx, tx, `
			UPDATE licenses SET
				name = COALESCE(?, name), product = COALESCE(?, product),
				status = COALESCE(?, status), timezone = COALESCE(?, timezone)
			WHERE id = ?`,
			p.Name, p.Product, (*string)(p.Status), p.Timezone, id)
		if err != nil {
			return err
		}
		if license, err = s.getLicense(ctx, tx, id); err != nil {
			return err
		}
		if d := licenseChanges(before, license); d != "" {
			cs.add(AuditEntry{LicenseID: id, Action: LicenseUpdated, Detail: d})
		}
		return nil
	})
	if err != nil {
		return License{}, fmt.Errorf("update license %s: %w", id, err)
	}
	return license, nil
}

// licenseChanges says in words what an update changed of a license:
// "status: active → cancelled; name: Acme → Acme Corp", or nothing.
func licenseChanges(before, after License) string {
	var changes []string
	for _, f := range []struct{ name, before, after string }{
		{"name", before.Name, after.Name},
		{"product", before.Product, after.Product},
		{"status", string(before.Status), string(after.Status)},
		{"timezone", before.Timezone, after.Timezone},
	} {
		if f.before != f.after {
			changes = append(changes, fmt.Sprintf("%s: %s → %s", f.name, orNone(f.before), orNone(f.after)))
		}
	}
	return strings.Join(changes, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// DeleteLicense deletes a license and its memberships; the people stay.
// Each membership is audited as removed by by.
func (s *Store) DeleteLicense(ctx context.Context, by Actor, id string) error {
	err := s.write(ctx, by, func(tx *sqlx.Tx, cs *changeSet) error {
		var members []membershipRow
		err := db.Select(ctx, tx, &members, `
			SELECT license_id, email, role, is_main FROM memberships WHERE license_id = ? ORDER BY role, email`, id)
		if err != nil {
			return err
		}
		res, err := db.Exec(ctx, tx, `DELETE FROM licenses WHERE id = ?`, id)
		if db.IsForeignKeyViolation(err) {
			return fault.Conflict("license %s has invoices and cannot be deleted; set its status to cancelled instead", id)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.NotFound("license %s does not exist", id)
		}
		for _, m := range members {
			cs.add(AuditEntry{LicenseID: id, Action: Removed, Email: m.Email, Role: m.Role})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete license %s: %w", id, err)
	}
	return nil
}

// lockLicense takes the license's row lock for the rest of the transaction
// and marks it updated. Every change to a license's memberships starts here,
// so on PostgreSQL they run one after the other per license and the
// main-contact rules, read and then written, cannot interleave. (On SQLite
// the transaction already holds the database's write lock.)
func (s *Store) lockLicense(ctx context.Context, tx *sqlx.Tx, id string) error {
	res, err := db.Exec(ctx, tx, `UPDATE licenses SET updated_at = ? WHERE id = ?`, s.timestamp(), id)
	if err != nil {
		return fmt.Errorf("lock license %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("license %s does not exist", id)
	}
	return nil
}
