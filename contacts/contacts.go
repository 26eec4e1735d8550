// Package contacts owns herald's licenses, the people attached to them and
// the rules of their roles: every role a license has ever had keeps exactly
// one main contact, held by the database (a partial unique index, and every
// change under the license's row lock) as well as by this code.
package contacts

import (
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Errors returned by the Store, for errors.Is.
var (
	ErrNotFound = fault.ErrNotFound
	ErrConflict = fault.ErrConflict
	ErrInvalid  = fault.ErrInvalid
	// ErrForbidden is a change the portal's rules do not let its maker
	// make; the message says why.
	ErrForbidden = fault.ErrForbidden
)

// Role is what a contact does for a license.
type Role string

const (
	Technical Role = "technical"
	Billing   Role = "billing"
)

// Roles lists every role in display order.
var Roles = []Role{Technical, Billing}

// Status is a license's state; only active licenses hear of releases.
type Status string

const (
	Active    Status = "active"
	Expired   Status = "expired"
	Cancelled Status = "cancelled"
)

// License is one customer license of one product with its contacts.
type License struct {
	ID        string
	Product   string
	Name      string
	Status    Status
	Timezone  string
	Technical []Member
	Billing   []Member
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Members returns the contacts of the license in role r.
func (l License) Members(r Role) []Member {
	if r == Billing {
		return l.Billing
	}
	return l.Technical
}

// Member is a contact as seen from one role of one license.
type Member struct {
	Email string
	Name  string
	Main  bool
	// AddedAt is when the person was given the role: billing contacts
	// see a license's invoices from then on.
	AddedAt time.Time
}

// Contact is a person, keyed by lower-cased email address.
type Contact struct {
	Email         string
	Name          string
	Locale        string
	ReleaseOptOut bool
	// Suppression is why mail to the address is suppressed; nil when it
	// is not.
	Suppression *SuppressionRecord
	Memberships []Membership
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Membership is a role a contact holds on a license.
type Membership struct {
	LicenseID string
	Product   string
	Role      Role
	Main      bool
}

// NewLicense is what it takes to create a license.
type NewLicense struct {
	ID       string
	Product  string
	Name     string
	Status   Status // default active
	Timezone string // default UTC
	Contacts []NewMember
}

// NewMember adds a person to a role of a license. The first contact of a
// role becomes main whatever Main says; Main on a later one promotes it.
type NewMember struct {
	Email string
	Name  string
	Role  Role
	Main  bool
}

// LicensePatch changes the fields that are not nil.
type LicensePatch struct {
	Name     *string
	Product  *string
	Status   *Status
	Timezone *string
}

// ContactPatch changes the fields that are not nil.
type ContactPatch struct {
	Name          *string
	Locale        *string
	ReleaseOptOut *bool
}

// LicenseFilter selects licenses; empty fields select everything.
type LicenseFilter struct {
	Product string
	Status  Status
	// Q matches the id, name or product, or the email of a contact.
	Q    string
	Page page.Request
}

// ContactFilter selects contacts; Q matches the email or name.
type ContactFilter struct {
	Q    string
	Page page.Request
}
