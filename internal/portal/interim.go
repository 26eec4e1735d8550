package portal

import (
	"context"
	"errors"
	"slices"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
)

// storeRules stands in for contacts.Portal until it exists: the store's
// rules, and a license only for its contacts.
type storeRules struct{ store *contacts.Store }

func (s storeRules) Licenses(ctx context.Context, email string) ([]contacts.License, error) {
	c, err := s.store.GetContact(ctx, email)
	if errors.Is(err, contacts.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range c.Memberships {
		if !slices.Contains(ids, m.LicenseID) {
			ids = append(ids, m.LicenseID)
		}
	}
	out := make([]contacts.License, 0, len(ids))
	for _, id := range ids {
		l, err := s.store.GetLicense(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func (s storeRules) mine(ctx context.Context, by, id string) error {
	l, err := s.store.GetLicense(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range contacts.Roles {
		for _, m := range l.Members(r) {
			if m.Email == by {
				return nil
			}
		}
	}
	return fault.NotFound("there is no license %s", id)
}

func (s storeRules) Add(ctx context.Context, by, id string, m contacts.NewMember) (contacts.License, error) {
	if err := s.mine(ctx, by, id); err != nil {
		return contacts.License{}, err
	}
	return s.store.AddMember(ctx, id, m)
}

func (s storeRules) Promote(ctx context.Context, by, id, email string, role contacts.Role) (contacts.License, error) {
	if err := s.mine(ctx, by, id); err != nil {
		return contacts.License{}, err
	}
	return s.store.Promote(ctx, id, email, role)
}

func (s storeRules) Remove(ctx context.Context, by, id, email string, role contacts.Role) (contacts.License, error) {
	if err := s.mine(ctx, by, id); err != nil {
		return contacts.License{}, err
	}
	return s.store.RemoveMember(ctx, id, email, role)
}

func (storeRules) CanPromote(contacts.License, string, string, contacts.Role) error { return nil }
func (storeRules) CanRemove(l contacts.License, by, email string, role contacts.Role) error {
	for _, m := range l.Members(role) {
		if m.Email == email && m.Main {
			return fault.Conflict("make another contact main first")
		}
	}
	return nil
}
