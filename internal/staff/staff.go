// Package staff keeps the staff of the console: their address, role and
// timezone. The role is read from here on every console request, so a
// change takes effect at once; removing someone or lowering their role
// also ends their console sessions.
package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Role is what a staff member may do: viewers read; editors change
// contacts, licenses, invoices and send; admins also manage staff.
type Role string

const (
	Viewer Role = "viewer"
	Editor Role = "editor"
	Admin  Role = "admin"
)

// Roles lists the roles, from least to most allowed.
var Roles = []Role{Viewer, Editor, Admin}

// rank orders the roles: a higher one may do all a lower one may.
func (r Role) rank() int { return slices.Index(Roles, r) }

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// ParseRole checks a role named in input.
func ParseRole(field, s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fault.Invalid(field, "%q is not a role: use viewer, editor or admin", s)
	}
	return r, nil
}

// ErrNotFound is an address that is not staff.
var ErrNotFound = errors.New("not a staff member")

// Member is a staff member.
type Member struct {
	Email     string    `db:"email"`
	Role      Role      `db:"role"`
	Timezone  string    `db:"timezone"`
	CreatedAt time.Time `db:"created_at"`
}

// Location is the member's timezone (UTC should it no longer load).
func (m Member) Location() *time.Location {
	if loc, err := time.LoadLocation(m.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// SessionEnder ends the console sessions and pending links of an address
// (web.Sessions of the console realm).
type SessionEnder interface {
	EndAll(ctx context.Context, subject string) error
}

// Store is the staff table.
type Store struct {
	db       *db.DB
	sessions SessionEnder
	timezone string
	now      func() time.Time
}

// NewStore returns the staff on d; new members get timezone (HERALD_TIMEZONE)
// unless told otherwise, and sessions are ended through sessions.
func NewStore(d *db.DB, sessions SessionEnder, timezone string, now func() time.Time) *Store {
	return &Store{db: d, sessions: sessions, timezone: timezone, now: now}
}

// Add makes email a staff member with role; an address that is staff
// already is a conflict (use SetRole).
func (s *Store) Add(ctx context.Context, by contacts.Actor, email string, role Role, timezone string) (Member, error) {
	email, err := contacts.NormalizeEmail("email", email)
	if err != nil {
		return Member{}, err
	}
	if !slices.Contains(Roles, role) {
		return Member{}, fault.Invalid("role", "%q is not a role: use viewer, editor or admin", role)
	}
	if timezone == "" {
		timezone = s.timezone
	}
	if _, err := time.LoadLocation(timezone); err != nil || timezone == "" {
		return Member{}, fault.Invalid("timezone", "%q is not an IANA timezone such as Europe/Berlin", timezone)
	}
	m := Member{Email: email, Role: role, Timezone: timezone, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := db.Exec(ctx, tx, `INSERT INTO staff (email, role, timezone, created_at) VALUES (?, ?, ?, ?)`,
			m.Email, m.Role, m.Timezone, m.CreatedAt)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, by, contacts.StaffAdded, m.Email, "role: "+string(role))
	})
	if db.IsUniqueViolation(err) {
		return Member{}, fault.Conflict("%s is staff already", email)
	}
	if err != nil {
		return Member{}, fmt.Errorf("add staff: %w", err)
	}
	return m, nil
}

// Get returns the staff member of email, or ErrNotFound.
func (s *Store) Get(ctx context.Context, email string) (Member, error) {
	var m Member
	err := db.Get(ctx, s.db.Read, &m, `SELECT email, role, timezone, created_at FROM staff WHERE email = ?`,
		strings.ToLower(strings.TrimSpace(email)))
	if db.IsNoRows(err) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, fmt.Errorf("read staff: %w", err)
	}
	return m, nil
}

// List returns every staff member, by address.
func (s *Store) List(ctx context.Context) ([]Member, error) {
	var ms []Member
	if err := db.Select(ctx, s.db.Read, &ms, `SELECT email, role, timezone, created_at FROM staff ORDER BY email`); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return ms, nil
}

// Remove removes email from the staff and ends their sessions. The last
// admin stays: without one no one could manage the staff from the console.
func (s *Store) Remove(ctx context.Context, by contacts.Actor, email string) (Member, error) {
	m, err := s.change(ctx, email, func(tx *sqlx.Tx, m Member) error {
		if _, err := db.Exec(ctx, tx, `DELETE FROM staff WHERE email = ?`, m.Email); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, contacts.StaffRemoved, m.Email, "role: "+string(m.Role))
	}, "removed")
	if err != nil {
		return Member{}, err
	}
	return m, s.sessions.EndAll(ctx, m.Email)
}

// SetRole changes the role of email. Lowering it ends their sessions: the
// next sign-in is under the new role. The last admin stays an admin.
func (s *Store) SetRole(ctx context.Context, by contacts.Actor, email string, role Role) (Member, error) {
	if !slices.Contains(Roles, role) {
		return Member{}, fault.Invalid("role", "%q is not a role: use viewer, editor or admin", role)
	}
	var before Role
	m, err := s.change(ctx, email, func(tx *sqlx.Tx, m Member) error {
		before = m.Role
		if role == m.Role {
			return nil
		}
		if _, err := db.Exec(ctx, tx, `UPDATE staff SET role = ? WHERE email = ?`, role, m.Email); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, contacts.StaffRoleChanged, m.Email, fmt.Sprintf("role: %s → %s", m.Role, role))
	}, "demoted")
	if err != nil {
		return Member{}, err
	}
	m.Role = role
	if role.rank() < before.rank() {
		return m, s.sessions.EndAll(ctx, m.Email)
	}
	return m, nil
}

// SetTimezone changes the timezone email's times are shown and entered
// in: a staff member's own setting.
func (s *Store) SetTimezone(ctx context.Context, email, timezone string) (Member, error) {
	if _, err := time.LoadLocation(timezone); err != nil || timezone == "" {
		return Member{}, fault.Invalid("timezone", "%q is not an IANA timezone such as Europe/Berlin", timezone)
	}
	m, err := s.change(ctx, email, func(tx *sqlx.Tx, m Member) error {
		_, err := db.Exec(ctx, tx, `UPDATE staff SET timezone = ? WHERE email = ?`, timezone, m.Email)
		return err
	}, "changed")
	m.Timezone = timezone
	return m, err
}

// audit records a change to the staff in the audit log, in its
// transaction: who did what to whom, and the role.
func (s *Store) audit(ctx context.Context, tx *sqlx.Tx, by contacts.Actor, action contacts.Action, email, detail string) error {
	_, err := contacts.WriteAudit(ctx, tx, contacts.AuditEntry{Action: action, Email: email, Detail: detail, By: by,
		At: s.now()})
	return err
}

// change runs fn on the member of email in a transaction that refuses to
// leave no admin: what fn did is checked, not predicted, so two admins
// removing each other at once cannot both succeed.
func (s *Store) change(ctx context.Context, email string, fn func(tx *sqlx.Tx, m Member) error, what string) (Member, error) {
	email, err := contacts.NormalizeEmail("email", email)
	if err != nil {
		return Member{}, err
	}
	var m Member
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		err := db.Get(ctx, tx, &m, `SELECT email, role, timezone, created_at FROM staff WHERE email = ?`, email)
		if db.IsNoRows(err) {
			return fault.NotFound("%s is not staff", email)
		}
		if err != nil {
			return err
		}
		if err := fn(tx, m); err != nil {
			return err
		}
		if m.Role != Admin {
			return nil
		}
		var admins int
		if err := db.Get(ctx, tx, &admins, `SELECT COUNT(*) FROM staff WHERE role = ?`, Admin); err != nil {
			return err
		}
		if admins == 0 {
			return fault.Conflict("%s is the last admin and cannot be %s: make another admin first", email, what)
		}
		return nil
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return Member{}, err
		}
		return Member{}, fmt.Errorf("change staff: %w", err)
	}
	return m, nil
}
