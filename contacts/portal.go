package contacts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// PublicEmailDomains are the domains of the common free-mail providers.
// Two addresses at one of them share nothing but the provider, so the
// portal never lets one such contact make another the main contact.
// HERALD_PUBLIC_EMAIL_DOMAINS adds to them.
var PublicEmailDomains = []string{
	"163.com", "126.com", "aim.com", "aol.com", "btinternet.com", "comcast.net",
	"fastmail.com", "free.fr", "freenet.de", "gmail.com", "gmx.at", "gmx.ch", "gmx.com",
	"gmx.de", "gmx.net", "googlemail.com", "hey.com", "hotmail.co.uk", "hotmail.com",
	"hotmail.de", "hotmail.fr", "icloud.com", "laposte.net", "libero.it", "live.com",
	"live.de", "mac.com", "mail.com", "mail.ru", "me.com", "msn.com", "naver.com",
	"orange.fr", "outlook.com", "outlook.de", "pm.me", "posteo.de", "proton.me",
	"protonmail.com", "qq.com", "rambler.ru", "rediffmail.com", "sina.com", "t-online.de",
	"tuta.io", "tutanota.com", "web.de", "yahoo.co.jp", "yahoo.co.uk", "yahoo.com",
	"yahoo.de", "yahoo.fr", "yandex.com", "yandex.ru", "ymail.com", "zoho.com",
}

// Portal applies the vendor portal's rules on top of the store's, for the
// contacts of a license changing its contacts themselves:
//
//   - a person sees and changes only the licenses they are a contact of;
//   - anyone may add a contact, and an existing person is never renamed or
//     otherwise changed by it (only the membership is added);
//   - anyone may make themselves the main contact of a role they hold;
//   - another person may be made main only if their address shares the
//     current main contact's domain and that domain is not a public mail
//     provider's; others must sign in and make themselves main;
//   - a main contact is removed only by themselves, and, as in the store,
//     only once another contact is main; the last contact of a role
//     cannot be removed.
//
// The rules are checked again inside each change's transaction, under the
// license's row lock, so that concurrent changes cannot break them.
type Portal struct {
	store  *Store
	public map[string]bool
}

// Portal returns the portal's rules on s; publicDomains extends the
// built-in list of free-mail domains (HERALD_PUBLIC_EMAIL_DOMAINS).
func (s *Store) Portal(publicDomains []string) *Portal {
	p := &Portal{store: s, public: map[string]bool{}}
	for _, d := range append(slices.Clone(PublicEmailDomains), publicDomains...) {
		if d = strings.ToLower(strings.Trim(strings.TrimSpace(d), ".")); d != "" {
			p.public[d] = true
		}
	}
	return p
}

// Licenses returns every license email is a contact of, in any role, with
// both member lists, ordered by id.
func (p *Portal) Licenses(ctx context.Context, email string) ([]License, error) {
	forms, err := LookupEmail("email", email)
	if err != nil {
		return nil, err
	}
	query, args, err := db.In(`SELECT `+licenseColumns+` FROM licenses l
		WHERE l.id IN (SELECT license_id FROM memberships WHERE email IN (?))
		ORDER BY l.id`, forms)
	if err != nil {
		return nil, err
	}
	var rows []licenseRow
	if err := db.Select(ctx, p.store.db.Read, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("licenses of %s: %w", email, err)
	}
	licenses, err := licensesWithContacts.load(ctx, p.store.db.Read, rows)
	if err != nil {
		return nil, fmt.Errorf("licenses of %s: %w", email, err)
	}
	return licenses, nil
}

// Add adds a membership on a license by is a contact of. An existing
// person is never renamed or otherwise changed: only the membership is
// added. m.Main asks to make the new contact main, which the promotion
// rules decide. Audited and notified.
func (p *Portal) Add(ctx context.Context, by, licenseID string, m NewMember) (License, error) {
	if err := m.normalize(); err != nil {
		return License{}, err
	}
	return p.change(ctx, by, licenseID, "add "+m.Email, func(tx *sqlx.Tx, cs *changeSet, l License, by string) error {
		email, err := p.store.storedEmail(ctx, tx, "email", m.Email)
		if err != nil {
			return err
		}
		if m.Main && len(l.Members(m.Role)) > 0 {
			if err := p.promotable(l, by, email, m.Role); err != nil {
				return err
			}
		}
		_, err = p.store.addMember(ctx, tx, cs, licenseID, m, p.store.timestamp(), keepPeople)
		return err
	})
}

// Promote makes email the main contact of role on a license by is a
// contact of, if the rules let by do it.
func (p *Portal) Promote(ctx context.Context, by, licenseID, email string, role Role) (License, error) {
	return p.change(ctx, by, licenseID, "promote "+email, func(tx *sqlx.Tx, cs *changeSet, l License, by string) error {
		m, err := p.store.membership(ctx, tx, licenseID, email, role)
		if err != nil {
			return err
		}
		if err := p.CanPromote(l, by, m.Email, m.Role); err != nil {
			return err
		}
		_, err = p.store.promote(ctx, tx, cs, m)
		return err
	})
}

// Remove takes role on a license by is a contact of away from email, if
// the rules let by do it.
func (p *Portal) Remove(ctx context.Context, by, licenseID, email string, role Role) (License, error) {
	return p.change(ctx, by, licenseID, "remove "+email, func(tx *sqlx.Tx, cs *changeSet, l License, by string) error {
		m, err := p.store.membership(ctx, tx, licenseID, email, role)
		if err != nil {
			return err
		}
		if err := p.CanRemove(l, by, m.Email, m.Role); err != nil {
			return err
		}
		return p.store.removeMember(ctx, tx, cs, m)
	})
}

// CanPromote says whether by may make email the main contact of role on l
// (as read); the error says why not, in words a customer understands.
func (p *Portal) CanPromote(l License, by, email string, role Role) error {
	if err := p.member(l, by); err != nil {
		return err
	}
	target, ok := find(l.Members(role), email)
	if !ok {
		return fault.NotFound("%s is not a %s contact of %s", email, role, l.ID)
	}
	if target.Main {
		return nil // nothing to do, and nothing to refuse
	}
	return p.promotable(l, by, target.Email, role)
}

// promotable is the domain rule: by may make themselves main; another
// person only when they share the current main's domain and that domain is
// not a public mail provider's.
func (p *Portal) promotable(l License, by, email string, role Role) error {
	if email == by {
		return nil
	}
	main, ok := mainOf(l.Members(role))
	if !ok {
		return nil // no main to speak for the role: the first becomes main
	}
	domain := domainOf(email)
	if domain == domainOf(main.Email) && !p.public[domain] {
		return nil
	}
	return fault.Forbidden("%s must sign in and make themselves main: only an address of the main %s contact's own company domain can be made main by someone else",
		email, role)
}

// CanRemove says whether by may remove email from role on l (as read); the
// error says why not, in words a customer understands.
func (p *Portal) CanRemove(l License, by, email string, role Role) error {
	if err := p.member(l, by); err != nil {
		return err
	}
	members := l.Members(role)
	target, ok := find(members, email)
	switch {
	case !ok:
		return fault.NotFound("%s is not a %s contact of %s", email, role, l.ID)
	case len(members) == 1:
		return fault.Conflict("%s is the only %s contact and cannot be removed: add another %s contact first", target.Email, role, role)
	case target.Main && target.Email != by:
		return fault.Forbidden("only %s can remove themselves, as the main %s contact", target.Email, role)
	case target.Main:
		return fault.Conflict("you are the main %s contact: make another %s contact main first, then remove yourself", role, role)
	}
	return nil
}

// change runs a portal change as by on a license by is a contact of: it
// locks the license, reads it, and lets change check the rules on what it
// read and make the change, audited as made through the portal.
func (p *Portal) change(ctx context.Context, by, licenseID, what string, change func(tx *sqlx.Tx, cs *changeSet, l License, by string) error) (License, error) {
	by, err := p.store.storedEmail(ctx, p.store.db.Read, "by", by)
	if err != nil {
		return License{}, err
	}
	var license License
	err = p.store.write(ctx, Actor{Via: ViaPortal, Name: by}, func(tx *sqlx.Tx, cs *changeSet) error {
		// A license that does not exist and one that is not by's answer
		// alike: the portal never tells whether a license exists.
		if err := p.store.lockLicense(ctx, tx, licenseID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return notYours(licenseID)
			}
			return err
		}
		l, err := p.store.getLicense(ctx, tx, licenseID)
		if err != nil {
			return err
		}
		if err := p.member(l, by); err != nil {
			return err
		}
		if err := change(tx, cs, l, by); err != nil {
			return err
		}
		license, err = p.store.getLicense(ctx, tx, licenseID)
		return err
	})
	if err != nil {
		return License{}, fmt.Errorf("%s on %s by %s: %w", what, licenseID, by, err)
	}
	return license, nil
}

// member checks that by is a contact of l, in any role.
func (p *Portal) member(l License, by string) error {
	for _, r := range Roles {
		if _, ok := find(l.Members(r), by); ok {
			return nil
		}
	}
	return notYours(l.ID)
}

func notYours(licenseID string) error {
	return fault.NotFound("you are not a contact of a license %s", licenseID)
}

func find(members []Member, email string) (Member, bool) {
	email = strings.ToLower(email)
	for _, m := range members {
		if m.Email == email {
			return m, true
		}
	}
	return Member{}, false
}

func mainOf(members []Member) (Member, bool) {
	for _, m := range members {
		if m.Main {
			return m, true
		}
	}
	return Member{}, false
}

// domainOf is the domain of a stored address, lower-cased.
func domainOf(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}
