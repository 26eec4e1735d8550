package apptest

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/queue"
)

// License creates a license named "Customer ID" with members.
func (b *Bundle) License(t testing.TB, id, product string, status contacts.Status, members ...contacts.NewMember) {
	t.Helper()
	if _, err := b.Contacts.CreateLicense(context.Background(), contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, contacts.NewLicense{
		ID: id, Product: product, Name: "Customer " + id, Status: status, Contacts: members,
	}); err != nil {
		t.Fatal(err)
	}
}

// Tech is a technical contact to add to a license.
func Tech(email, name string) contacts.NewMember {
	return contacts.NewMember{Email: email, Name: name, Role: contacts.Technical}
}

// Billing is a billing contact to add to a license.
func Billing(email, name string) contacts.NewMember {
	return contacts.NewMember{Email: email, Name: name, Role: contacts.Billing}
}

// Release records a release and starts its fan-out, as the API does.
func (b *Bundle) Release(t testing.TB, nr ledger.NewRelease) ledger.Announcement {
	t.Helper()
	_, a, created, err := b.Ledger.CreateRelease(context.Background(), nr, kinds.ReleaseAnnouncement)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		b.Fanout(t, a)
	}
	return a
}

// Fanout starts the fan-out of announcements, as the API and the jobs do
// for those that are due.
func (b *Bundle) Fanout(t testing.TB, list ...ledger.Announcement) {
	t.Helper()
	for _, a := range list {
		if err := b.Queue.Enqueue(context.Background(), queue.NewFanoutTask(a.ID)); err != nil {
			t.Fatal(err)
		}
	}
}

// Deliveries returns the deliveries of an announcement by address.
func (b *Bundle) Deliveries(t testing.TB, id int64) map[string]ledger.Delivery {
	t.Helper()
	p, err := b.Ledger.Deliveries(context.Background(), id, ledger.DeliveryFilter{Page: page.Request{Limit: page.MaxSize}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ledger.Delivery{}
	for _, d := range p.Items {
		out[d.Email] = d
	}
	return out
}
