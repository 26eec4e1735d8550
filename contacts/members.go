package contacts

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// AddMember gives a person a role on a license, creating the person if new
// and renaming them when m names them differently (staff keep people's
// names). The first contact of a role becomes main; Main promotes the new
// contact.
func (s *Store) AddMember(ctx context.Context, by Actor, licenseID string, m NewMember) (License, error) {
	if err := m.normalize(); err != nil {
		return License{}, err
	}
	return s.changeMembers(ctx, by, licenseID, "add "+m.Email, func(tx *sqlx.Tx, cs *changeSet) error {
		_, err := s.addMember(ctx, tx, cs, licenseID, m, s.timestamp(), renamePeople)
		return err
	})
}

// Promote makes a contact the main contact of role on a license, and the
// previous main an ordinary contact, in one step. An empty role is allowed
// when the person holds only one role there.
func (s *Store) Promote(ctx context.Context, by Actor, licenseID, email string, role Role) (License, error) {
	return s.changeMembers(ctx, by, licenseID, "promote "+email, func(tx *sqlx.Tx, cs *changeSet) error {
		m, err := s.membership(ctx, tx, licenseID, email, role)
		if err != nil {
			return err
		}
		_, err = s.promote(ctx, tx, cs, m)
		return err
	})
}

// RemoveMember takes a role on a license away from a person. The main
// contact of a role cannot be removed while others hold it, and the last
// contact of a role cannot be removed at all.
func (s *Store) RemoveMember(ctx context.Context, by Actor, licenseID, email string, role Role) (License, error) {
	return s.changeMembers(ctx, by, licenseID, "remove "+email, func(tx *sqlx.Tx, cs *changeSet) error {
		m, err := s.membership(ctx, tx, licenseID, email, role)
		if err != nil {
			return err
		}
		return s.removeMember(ctx, tx, cs, m)
	})
}

// removeMember removes m under the store's rules; the license must be
// locked by the caller.
func (s *Store) removeMember(ctx context.Context, tx *sqlx.Tx, cs *changeSet, m membershipRow) error {
	holders, err := s.holders(ctx, tx, m.LicenseID, m.Role)
	if err != nil {
		return err
	}
	switch {
	case holders == 1:
		return fault.Conflict("%s is the only %s contact of %s and cannot be removed: a license keeps a %s contact once it has had one; add another %s contact first",
			m.Email, m.Role, m.LicenseID, m.Role, m.Role)
	case m.Main:
		return fault.Conflict("%s is the main %s contact of %s: promote another %s contact to main first, then remove this one",
			m.Email, m.Role, m.LicenseID, m.Role)
	}
	if _, err := db.Exec(ctx, tx, `DELETE FROM memberships WHERE license_id = ? AND role = ? AND email = ?`, m.LicenseID, m.Role, m.Email); err != nil {
		return err
	}
	cs.add(AuditEntry{LicenseID: m.LicenseID, Action: Removed, Email: m.Email, Role: m.Role})
	return nil
}

// holders counts the contacts of role on a license.
func (s *Store) holders(ctx context.Context, tx *sqlx.Tx, licenseID string, role Role) (int, error) {
	var n int
	err := db.Get(ctx, tx, &n, `SELECT COUNT(*) FROM memberships WHERE license_id = ? AND role = ?`, licenseID, role)
	return n, err
}

// changeMembers runs change as by under the license's lock, audited, and
// returns the license as the change left it.
func (s *Store) changeMembers(ctx context.Context, by Actor, licenseID, what string, change func(tx *sqlx.Tx, cs *changeSet) error) (License, error) {
	var license License
	err := s.write(ctx, by, func(tx *sqlx.Tx, cs *changeSet) error {
		if err := s.lockLicense(ctx, tx, licenseID); err != nil {
			return err
		}
		if err := change(tx, cs); err != nil {
			return err
		}
		var err error
		license, err = s.getLicense(ctx, tx, licenseID)
		return err
	})
	if err != nil {
		return License{}, fmt.Errorf("%s on %s: %w", what, licenseID, err)
	}
	return license, nil
}

// change says what a write did, for import counts.
type change int

const (
	unchanged change = iota
	created
	updated
)

// people says what adding a membership may do to a person who exists.
type people int

const (
	// renamePeople gives an existing person the name given, as staff may.
	renamePeople people = iota
	// keepPeople leaves an existing person as they are: a customer adds a
	// membership, and never changes a person another customer may share.
	keepPeople
)

// addMember inserts a membership; the license must be locked by the caller.
func (s *Store) addMember(ctx context.Context, tx *sqlx.Tx, cs *changeSet, licenseID string, m NewMember, now time.Time, existing people) (contactChange change, err error) {
	// A person stored before addresses were stored in one form keeps
	// their row, rather than gaining a second one for the same mailbox.
	if m.Email, err = s.storedEmail(ctx, tx, "email", m.Email); err != nil {
		return unchanged, err
	}
	contactChange, err = s.upsertContact(ctx, tx, m.Email, m.Name, now, existing)
	if err != nil {
		return unchanged, err
	}
	holders, err := s.holders(ctx, tx, licenseID, m.Role)
	if err != nil {
		return unchanged, err
	}
	main, previous := holders == 0, ""
	if m.Main && !main {
		if previous, err = s.demote(ctx, tx, licenseID, m.Role); err != nil {
			return unchanged, err
		}
		main = true
	}
	_, err = db.Exec(ctx, tx, `
		INSERT INTO memberships (license_id, email, role, is_main, created_at) VALUES (?, ?, ?, ?, ?)`,
		licenseID, m.Email, m.Role, main, now)
	if db.IsUniqueViolation(err) {
		return unchanged, fault.Conflict("%s is already a %s contact of %s", m.Email, m.Role, licenseID)
	}
	if err != nil {
		return unchanged, err
	}
	cs.add(AuditEntry{LicenseID: licenseID, Action: Added, Email: m.Email, Role: m.Role, Main: main, PreviousMain: previous})
	return contactChange, nil
}

// upsertContact creates the person; with renamePeople it renames an
// existing one when a different non-empty name is given.
func (s *Store) upsertContact(ctx context.Context, tx *sqlx.Tx, email, name string, now time.Time, existing people) (change, error) {
	res, err := db.Exec(ctx, tx, `
		INSERT INTO contacts (email, name, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (email) DO NOTHING`, email, name, now, now)
	if err != nil {
		return unchanged, fmt.Errorf("create contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return created, nil
	}
	if name == "" || existing == keepPeople {
		return unchanged, nil
	}
	res, err = db.Exec(ctx, tx, `UPDATE contacts SET name = ?, updated_at = ? WHERE email = ? AND name <> ?`, name, now, email, name)
	if err != nil {
		return unchanged, fmt.Errorf("rename contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return updated, nil
	}
	return unchanged, nil
}

// membership finds the role email holds on licenseID. With an empty role it
// finds the only role they hold there, or asks for one.
func (s *Store) membership(ctx context.Context, tx *sqlx.Tx, licenseID, email string, role Role) (membershipRow, error) {
	email, err := s.storedEmail(ctx, tx, "email", email)
	if err != nil {
		return membershipRow{}, err
	}
	if role != "" {
		if role, err = ParseRole("role", string(role)); err != nil {
			return membershipRow{}, err
		}
	}
	var rows []membershipRow
	err = db.Select(ctx, tx, &rows, `
		SELECT m.license_id, m.email, c.name, m.role, m.is_main
		FROM memberships m JOIN contacts c ON c.email = m.email
		WHERE m.license_id = ? AND m.email = ? AND (? = '' OR m.role = ?)`,
		licenseID, email, string(role), string(role))
	if err != nil {
		return membershipRow{}, err
	}
	switch {
	case len(rows) == 0 && role == "":
		return membershipRow{}, fault.NotFound("%s is not a contact of %s", email, licenseID)
	case len(rows) == 0:
		return membershipRow{}, fault.NotFound("%s is not a %s contact of %s", email, role, licenseID)
	case len(rows) > 1:
		return membershipRow{}, fault.Invalid("role", "is required: %s is both technical and billing contact of %s", email, licenseID)
	}
	return rows[0], nil
}

// promote makes m the main contact of its role; it reports whether anything
// changed.
func (s *Store) promote(ctx context.Context, tx *sqlx.Tx, cs *changeSet, m membershipRow) (bool, error) {
	if m.Main {
		return false, nil
	}
	previous, err := s.demote(ctx, tx, m.LicenseID, m.Role)
	if err != nil {
		return false, err
	}
	_, err = db.Exec(ctx, tx, `UPDATE memberships SET is_main = TRUE WHERE license_id = ? AND role = ? AND email = ?`,
		m.LicenseID, m.Role, m.Email)
	if err != nil {
		return false, err
	}
	cs.add(AuditEntry{LicenseID: m.LicenseID, Action: Promoted, Email: m.Email, Role: m.Role, Main: true, PreviousMain: previous})
	return true, nil
}

// demote clears the main flag of a role and returns who held it. It is a
// separate statement from the promotion that follows because PostgreSQL
// checks a unique index row by row: one UPDATE that flips both rows could
// see two mains for a moment.
func (s *Store) demote(ctx context.Context, tx *sqlx.Tx, licenseID string, role Role) (previous string, err error) {
	err = db.Get(ctx, tx, &previous, `SELECT email FROM memberships WHERE license_id = ? AND role = ? AND is_main`, licenseID, role)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	_, err = db.Exec(ctx, tx, `UPDATE memberships SET is_main = FALSE WHERE license_id = ? AND role = ? AND is_main`, licenseID, role)
	return previous, err
}
